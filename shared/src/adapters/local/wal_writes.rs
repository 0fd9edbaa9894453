//! The platform's own SQLite VFS, except that a commit's writes to the write-ahead log reach the
//! file in one system call (per 124 KiB) instead of two per page.
//!
//! SQLite writes each log frame as two calls: its 24-byte header, then the page. A chat message
//! changes four or five pages, and on the virtual machines measured each call costs several
//! microseconds of kernel entry and exit: those calls were over half of the store thread's time
//! at 5,000 messages/s (docs/performance.md). This VFS passes every call through, except that
//! writes appending to a log file are gathered in memory and written with one call (per 124 KiB)
//! once the commit's last frame is complete. That is before SQLite publishes the commit to other
//! connections (the checkpointer reads the frames from the file) and before the commit returns,
//! and a failed write fails the commit exactly as it would have. Any other call on the log file
//! (read, size, sync, truncate, lock, close) writes what is gathered first, and a write that
//! does not append (SQLite rewriting a frame of the open transaction) is written through after it.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::null_mut;
use std::sync::OnceLock;

use rusqlite::ffi;

const NAME: &CStr = c"confer-unix";

/// Gathered bytes written at once even before the commit is complete (a transaction larger than
/// this spills to the file as it goes).
const GATHER_LIMIT: usize = 4 << 20;

/// Largest write passed to the platform VFS at once: the unix VFS writes at most 128 KiB − 1
/// bytes per call (124 KiB keeps the pieces page-aligned).
const PLATFORM_WRITE_LIMIT: usize = 124 << 10;

/// A log frame's header; bytes 4..8 hold the database size after a commit, zero otherwise.
const FRAME_HEADER: usize = 24;

/// The name to open connections with, or `None` when the platform VFS cannot be wrapped (the
/// connections then use it directly).
pub(crate) fn vfs_name() -> Option<&'static CStr> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // Finding the platform VFS initialises SQLite, after which its page cache can no
            // longer be configured: that comes first.
            super::page_cache::install();
            // SAFETY: registration runs once; the VFS it registers lives for the rest of the process.
            unsafe { register() }
        })
        .then_some(NAME)
}

/// The VFS wrapped, set once before ours is registered.
static PLATFORM: OnceLock<Platform> = OnceLock::new();

struct Platform(*mut ffi::sqlite3_vfs);
// SAFETY: SQLite's VFS objects are immutable once registered and used from any thread.
unsafe impl Send for Platform {}
unsafe impl Sync for Platform {}

unsafe fn register() -> bool {
    let platform = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
    if platform.is_null() {
        return false;
    }
    let mut vfs = unsafe { *platform };
    // Everything but opening (which wraps the file) goes to the platform's functions, which read
    // nothing from the VFS object but what is copied here.
    vfs.zName = NAME.as_ptr();
    vfs.pNext = null_mut();
    vfs.szOsFile = (platform_file_offset() + unsafe { (*platform).szOsFile } as usize) as c_int;
    vfs.xOpen = Some(open);
    if PLATFORM.set(Platform(platform)).is_err() {
        return false;
    }
    let vfs = Box::leak(Box::new(vfs));
    unsafe { ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK }
}

/// An open file: ours first (SQLite sees `base`), the platform's file right after it.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    platform: *mut ffi::sqlite3_file,
    /// Set for a write-ahead log only.
    log: *mut Gathered,
}

#[derive(Default)]
struct Gathered {
    /// File offset of `bytes[0]`.
    start: i64,
    bytes: Vec<u8>,
    /// Where the last write ended: a write starting there appends.
    last_end: Option<i64>,
    /// The last write was a commit frame's header: its page completes the commit.
    commit_page_next: bool,
}

fn platform_file_offset() -> usize {
    std::mem::size_of::<File>().next_multiple_of(16)
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(Platform(platform)) = PLATFORM.get() else { return ffi::SQLITE_ERROR };
    let ours = file as *mut File;
    unsafe {
        let platform_file = (file as *mut u8).add(platform_file_offset()) as *mut ffi::sqlite3_file;
        (*ours).base.pMethods = std::ptr::null();
        (*ours).platform = platform_file;
        (*ours).log = null_mut();
        let Some(platform_open) = (**platform).xOpen else { return ffi::SQLITE_ERROR };
        let rc = platform_open(*platform, name, platform_file, flags, out_flags);
        if (*platform_file).pMethods.is_null() {
            return rc;
        }
        if rc == ffi::SQLITE_OK && flags & ffi::SQLITE_OPEN_WAL != 0 {
            (*ours).log = Box::into_raw(Box::default());
        }
        // Set even when opening failed with the platform's file open: SQLite then closes it.
        (*ours).base.pMethods = &METHODS;
        rc
    }
}

/// The platform file's method `$m`; `$missing` when it has none.
macro_rules! platform_call {
    ($file:expr, $m:ident, $missing:expr $(, $arg:expr)*) => {{
        let platform = unsafe { (*($file as *mut File)).platform };
        match unsafe { (*(*platform).pMethods).$m } {
            Some(f) => unsafe { f(platform $(, $arg)*) },
            None => $missing,
        }
    }};
}

/// Writes what is gathered (if anything) for a log file.
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    let log = unsafe { (*(file as *mut File)).log };
    let Some(log) = (unsafe { log.as_mut() }) else { return ffi::SQLITE_OK };
    if log.bytes.is_empty() {
        return ffi::SQLITE_OK;
    }
    let mut rc = ffi::SQLITE_OK;
    let mut offset = log.start;
    #[cfg(test)]
    tests::LOG_WRITES.with(|n| n.set(n.get() + 1));
    for chunk in log.bytes.chunks(PLATFORM_WRITE_LIMIT) {
        rc = platform_call!(file, xWrite, ffi::SQLITE_IOERR_WRITE, chunk.as_ptr() as *const c_void, chunk.len() as c_int, offset);
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += chunk.len() as i64;
    }
    log.bytes.clear();
    rc
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    let log = unsafe { (*(file as *mut File)).log };
    let Some(log) = (unsafe { log.as_mut() }) else {
        return platform_call!(file, xWrite, ffi::SQLITE_IOERR_WRITE, data, amount, offset);
    };
    let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, amount as usize) };
    let appends = log.last_end == Some(offset);
    let completes_commit = log.commit_page_next;
    log.last_end = Some(offset + amount as i64);
    log.commit_page_next = bytes.len() == FRAME_HEADER && bytes[4..8] != [0, 0, 0, 0];
    if !appends {
        // Not where the last write ended (the log's first write since it was opened or started
        // over, or SQLite rewriting a frame already written): after everything gathered, at once.
        let rc = unsafe { flush(file) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        return platform_call!(file, xWrite, ffi::SQLITE_IOERR_WRITE, data, amount, offset);
    }
    if log.bytes.is_empty() {
        log.start = offset;
    }
    log.bytes.extend_from_slice(bytes);
    if completes_commit || log.bytes.len() >= GATHER_LIMIT {
        return unsafe { flush(file) };
    }
    ffi::SQLITE_OK
}

/// The platform file's method `$m`, after writing what is gathered.
macro_rules! after_flush {
    ($file:expr, $m:ident, $missing:expr $(, $arg:expr)*) => {{
        let rc = unsafe { flush($file) };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        platform_call!($file, $m, $missing $(, $arg)*)
    }};
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let flushed = unsafe { flush(file) };
    let closed = platform_call!(file, xClose, ffi::SQLITE_OK);
    let ours = file as *mut File;
    unsafe {
        if !(*ours).log.is_null() {
            drop(Box::from_raw((*ours).log));
            (*ours).log = null_mut();
        }
    }
    if flushed != ffi::SQLITE_OK {
        flushed
    } else {
        closed
    }
}

unsafe extern "C" fn read(file: *mut ffi::sqlite3_file, data: *mut c_void, amount: c_int, offset: i64) -> c_int {
    after_flush!(file, xRead, ffi::SQLITE_IOERR_READ, data, amount, offset)
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let rc = after_flush!(file, xTruncate, ffi::SQLITE_IOERR_TRUNCATE, size);
    if let Some(log) = unsafe { (*(file as *mut File)).log.as_mut() } {
        log.last_end = None;
    }
    rc
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    after_flush!(file, xSync, ffi::SQLITE_IOERR_FSYNC, flags)
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    after_flush!(file, xFileSize, ffi::SQLITE_IOERR_FSTAT, size)
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_flush!(file, xLock, ffi::SQLITE_IOERR_LOCK, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_flush!(file, xUnlock, ffi::SQLITE_IOERR_UNLOCK, level)
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    after_flush!(file, xCheckReservedLock, ffi::SQLITE_IOERR_CHECKRESERVEDLOCK, out)
}

unsafe extern "C" fn file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    after_flush!(file, xFileControl, ffi::SQLITE_NOTFOUND, op, arg)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    platform_call!(file, xSectorSize, 4096)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    platform_call!(file, xDeviceCharacteristics, 0)
}

unsafe extern "C" fn shm_map(file: *mut ffi::sqlite3_file, page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int {
    platform_call!(file, xShmMap, ffi::SQLITE_IOERR_SHMMAP, page, size, extend, out)
}

unsafe extern "C" fn shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    platform_call!(file, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, offset, n, flags)
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    platform_call!(file, xShmBarrier, ())
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    platform_call!(file, xShmUnmap, ffi::SQLITE_OK, delete)
}

unsafe extern "C" fn fetch(file: *mut ffi::sqlite3_file, offset: i64, amount: c_int, out: *mut *mut c_void) -> c_int {
    after_flush!(
        file,
        xFetch,
        {
            unsafe { *out = null_mut() };
            ffi::SQLITE_OK
        },
        offset,
        amount,
        out
    )
}

unsafe extern "C" fn unfetch(file: *mut ffi::sqlite3_file, offset: i64, page: *mut c_void) -> c_int {
    platform_call!(file, xUnfetch, ffi::SQLITE_OK, offset, page)
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use rusqlite::{Connection, OpenFlags};

    use super::*;

    thread_local! {
        /// Gathered log writes passed to the platform by this thread.
        pub(super) static LOG_WRITES: Cell<u64> = const { Cell::new(0) };
    }

    fn open_gathering(path: &std::path::Path) -> Connection {
        let vfs = vfs_name().expect("the platform VFS is wrapped");
        let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs).expect("open");
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;").expect("pragmas");
        conn
    }

    /// A gathering connection to a new database holding the tests' table `t`.
    fn open_with_table(path: &std::path::Path) -> Connection {
        let conn = open_gathering(path);
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)").expect("create");
        conn
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).expect("count")
    }

    fn assert_intact(conn: &Connection) {
        let checked: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
        assert_eq!(checked, "ok");
    }

    #[test]
    fn a_commit_is_one_gathered_write_and_another_connection_reads_it_at_once() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("db.sqlite3");
        let writer = open_with_table(&path);
        // A plain connection: it finds the commits through the shared index, then reads the frames
        // from the file — which must hold them by then.
        let reader = Connection::open(&path).expect("open reader");
        for round in 1..=50_i64 {
            let before = LOG_WRITES.with(Cell::get);
            let tx = writer.unchecked_transaction().expect("begin");
            for i in 0..20 {
                // Some forty pages a commit: eighty writes to the log without gathering.
                tx.execute("INSERT INTO t (body) VALUES (?1)", [format!("{round}-{i}-{}", "x".repeat(8000))]).expect("insert");
            }
            tx.commit().expect("commit");
            assert_eq!(LOG_WRITES.with(Cell::get) - before, 1, "one gathered write for commit {round}");
            assert_eq!(count(&reader), round * 20);
        }
        assert_intact(&reader);
    }

    #[test]
    fn a_commit_larger_than_what_is_gathered_and_than_a_platform_write_is_stored_whole() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("db.sqlite3");
        let writer = open_with_table(&path);
        let body = "y".repeat(100_000);
        let tx = writer.unchecked_transaction().expect("begin");
        for _ in 0..100 {
            tx.execute("INSERT INTO t (body) VALUES (?1)", [&body]).expect("insert");
        }
        tx.commit().expect("commit");
        let reader = Connection::open(&path).expect("open reader");
        assert_eq!(count(&reader), 100);
        let total: i64 = reader.query_row("SELECT SUM(LENGTH(body)) FROM t", [], |r| r.get(0)).expect("sum");
        assert_eq!(total, 100 * 100_000);
        // A checkpoint copies every frame from the file into the database.
        reader.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
        drop((writer, reader));
        let reopened = Connection::open(&path).expect("reopen");
        assert_eq!(count(&reopened), 100);
        assert_intact(&reopened);
    }

    /// Set in the child process of the crash test: the database it writes to, then dies.
    const CRASH_CHILD: &str = "CONFER_WAL_WRITES_CRASH_CHILD";
    const CRASH_COMMITS: i64 = 200;
    const CHILD_EXIT: i32 = 3;

    #[test]
    fn every_commit_survives_the_process_dying_right_after_it() {
        if let Some(path) = std::env::var_os(CRASH_CHILD) {
            let writer = open_with_table(std::path::Path::new(&path));
            for i in 0..CRASH_COMMITS {
                writer.execute("INSERT INTO t (body) VALUES (?1)", [format!("{i}-{}", "z".repeat(3000))]).expect("insert");
            }
            // No close, no checkpoint, no destructor: only what reached the file remains.
            std::process::exit(CHILD_EXIT);
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("db.sqlite3");
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "adapters::local::wal_writes::tests::every_commit_survives_the_process_dying_right_after_it", "--nocapture"])
            .env(CRASH_CHILD, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run the child");
        assert_eq!(status.code(), Some(CHILD_EXIT), "the child ran its commits and stopped");
        let reopened = Connection::open(&path).expect("reopen");
        assert_eq!(count(&reopened), CRASH_COMMITS, "every commit is in the log");
        assert_intact(&reopened);
    }
}
