//! The table port on SQLite: one file, WAL journal, every write committed before it is
//! acknowledged. Several logical tables share one database, each row tagged with its table.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::Value;

use super::query_cache::QueryCache;
use super::rules::{apply_update, condition_holds, into_page, shape_page, str_attr, successor};
use crate::domain::now_epoch_seconds;
use crate::ports::table::*;

/// Items live in a rowid table with the key in its own index: their rows (JSON, a few hundred
/// bytes) would otherwise sit in every interior page of a key-ordered tree, which then holds
/// eight keys a page, five levels deep — several pages rewritten per insert, and the log grows
/// by each of them.
const ITEMS: &str = "
CREATE TABLE IF NOT EXISTS items (
    id   INTEGER PRIMARY KEY,
    tbl  TEXT NOT NULL,
    pk   TEXT NOT NULL,
    sk   TEXT NOT NULL,
    g1pk TEXT,
    g1sk TEXT,
    ttl  INTEGER,
    data TEXT NOT NULL
);";

const ITEM_INDEXES: &str = "
CREATE UNIQUE INDEX IF NOT EXISTS items_key ON items (tbl, pk, sk);
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (tbl, g1pk, g1sk, pk, sk) WHERE g1pk IS NOT NULL AND g1sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

/// `PRAGMA user_version` of the current layout. Version 0 kept items in a `WITHOUT ROWID` table.
const SCHEMA_VERSION: i64 = 1;

/// A connection through the VFS that gathers each commit's log writes (see `wal_writes`).
fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    match super::wal_writes::vfs_name() {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, rusqlite::OpenFlags::default(), vfs),
        None => Connection::open(path),
    }
    .map_err(backend)
}

/// Creates the tables, or brings a database written by an earlier version up to date (in one
/// transaction: a failure leaves it as it was).
/// Items the search index holds documents of, by key, in the order they changed (written in
/// the same transaction as the change; the search feed reads and forgets them).
const SEARCH_CHANGES: &str = "CREATE TABLE IF NOT EXISTS search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pk  TEXT NOT NULL,
    sk  TEXT NOT NULL
);";

fn prepare_schema(conn: &Connection) -> Result<(), StoreError> {
    prepare_items(conn)?;
    conn.execute_batch(SEARCH_CHANGES).map_err(backend)
}

fn prepare_items(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
    let old_items: Option<String> = conn
        .query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'items'", [], |r| r.get(0))
        .optional()
        .map_err(backend)?;
    if version >= SCHEMA_VERSION || old_items.is_none() {
        return conn.execute_batch(&format!("{ITEMS}{ITEM_INDEXES}PRAGMA user_version = {SCHEMA_VERSION};")).map_err(backend);
    }
    let started = std::time::Instant::now();
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         ALTER TABLE items RENAME TO items_before_v{SCHEMA_VERSION};
         DROP INDEX IF EXISTS items_gsi1;
         DROP INDEX IF EXISTS items_ttl;
         {ITEMS}
         INSERT INTO items (tbl, pk, sk, g1pk, g1sk, ttl, data)
             SELECT tbl, pk, sk, g1pk, g1sk, ttl, data FROM items_before_v{SCHEMA_VERSION} ORDER BY tbl, pk, sk;
         DROP TABLE items_before_v{SCHEMA_VERSION};
         {ITEM_INDEXES}
         PRAGMA user_version = {SCHEMA_VERSION};
         COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
    .map_err(backend)?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "local store upgraded to schema version {SCHEMA_VERSION}");
    Ok(())
}

/// One SQLite database shared by the local tables (and the event log), owned by one thread.
///
/// Every operation is a job sent to that thread; callers await its answer and never block a
/// runtime worker or contend for a lock. The thread drains whatever jobs are queued and runs
/// them as one group: first the reads, against committed data, then every write in a single
/// transaction, and answers the writers only once that transaction has committed. Jobs queued
/// together are concurrent (none has been answered yet), so this order is one their callers
/// could have observed anyway; a write is never acknowledged before it is committed, and one
/// WAL commit serves the whole group. Checkpoints run on a second connection (see
/// [`checkpoint_in_background`]).
pub struct SqliteStore {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
    checkpointer: Option<std::thread::JoinHandle<()>>,
    wal: Arc<WalProgress>,
    cache: Arc<QueryCache>,
    /// Held while the store is open: one process per database (see [`SqliteStore::open`]).
    _owner: Option<std::fs::File>,
}

/// What a write does once the group's commit outcome is known.
type Answer = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Runs a write inside the group's transaction (or, given an error, does not run it); returns
/// whether it succeeded and its [`Answer`].
type WriteJob = Box<dyn FnOnce(Result<&Connection, StoreError>) -> (bool, Answer) + Send>;

/// Items a write may change, as (table, key): their cached ranges are dropped once it commits.
type Touches = Vec<(&'static str, Key)>;

enum Job {
    Read(Box<dyn FnOnce(&Connection) + Send>),
    Write(WriteJob, Touches),
}

/// How long opening waits for another holder of the database to let go.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Largest number of jobs run as one group.
const MAX_GROUP: usize = 256;

/// Under load, how long a group holding writes waits (from its first job) for more before it
/// commits. Each commit rewrites the pages its writes share — the event log's tail, the upper
/// pages of the indexes — so fuller groups mean less log and fewer checkpoint copies for the same
/// writes: at 5,000 messages/s, about 10% less written to disk and a lower p99 (measured in
/// docs/performance.md). A store with a lone writer never waits.
const GROUP_WAIT: std::time::Duration = std::time::Duration::from_micros(500);

/// A group with at least this many writes means writers are arriving together: the next group
/// waits for company.
const BUSY_GROUP_WRITES: usize = 2;

impl SqliteStore {
    /// Opens (creating) the database at `path`. One process at a time: a second confer-local on
    /// the same data directory would split live connections between two gateways, so it is
    /// refused (a lock on `<path>.lock`, released when the store closes or the process dies).
    pub fn open(path: &Path) -> Result<Arc<Self>, StoreError> {
        Self::open_with(path, LogSettings::default())
    }

    fn open_with(path: &Path, log: LogSettings) -> Result<Arc<Self>, StoreError> {
        let lock_path = path.with_extension("lock");
        let owner = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", lock_path.display())))?;
        // A store closing in this process (a restart) may hold it a moment longer: wait a little.
        let deadline = std::time::Instant::now() + OPEN_WAIT;
        loop {
            match owner.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Backend(format!("{} is in use by another process", path.display())))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::Backend(format!("cannot lock {}: {e}", lock_path.display())))
                }
            }
        }
        super::page_cache::install();
        // A store that closed cleanly leaves no log behind; one that stopped (killed, a crash)
        // leaves its committed transactions there, and SQLite replays them as it opens.
        let mut wal_path = path.as_os_str().to_owned();
        wal_path.push("-wal");
        let leftover_log = std::fs::metadata(&wal_path).map(|m| m.len()).unwrap_or(0);
        if leftover_log > 0 {
            tracing::info!(path = %path.display(), log_bytes = leftover_log, "recovering: the previous run did not close the store; its write-ahead log is replayed");
        }
        let started = std::time::Instant::now();
        let conn = open_connection(path)?;
        if leftover_log > 0 {
            let rows: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(backend)?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                schema_objects = rows,
                "recovered: every committed write is in place"
            );
        }
        // Checkpoints run on a connection of their own (see `checkpoint_in_background`).
        let checkpoints = if log.background_checkpoints { Some(open_connection(path)?) } else { None };
        Self::init(conn, checkpoints, Some(owner), log)
    }

    pub fn in_memory() -> Result<Arc<Self>, StoreError> {
        super::page_cache::install();
        Self::init(Connection::open_in_memory().map_err(backend)?, None, None, LogSettings::default())
    }

    fn init(
        conn: Connection,
        checkpoints: Option<Connection>,
        owner: Option<std::fs::File>,
        log: LogSettings,
    ) -> Result<Arc<Self>, StoreError> {
        // WAL + NORMAL: a committed transaction survives a crash of the process (not of the OS);
        // checkpoints sync. SQLite's own checkpoints would run inside a commit and hold up every
        // writer of that group, so they are off: a second thread checkpoints instead.
        // No journal_size_limit: cutting the log file back when it is started over took the store's
        // thread 4–13 ms (ext4 freeing the blocks) inside the next commit, and the blocks would be
        // written again within seconds. The log file's size is bounded by the hard limit (see
        // `WAL_HARD_LIMIT_FACTOR`), and a store idle for `EMPTY_AFTER` empties it.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
             PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=-1; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
        )
        .map_err(backend)?;
        prepare_schema(&conn)?;
        let wal = Arc::new(WalProgress {
            commits: Default::default(),
            wake: Default::default(),
            reset_frames: log.reset_frames,
            empty_after: log.empty_after,
            restarts: Default::default(),
            reset_due: Default::default(),
            closed: Default::default(),
        });
        let checkpointer = match checkpoints {
            Some(c) => {
                c.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;").map_err(backend)?;
                let wal = wal.clone();
                Some(
                    std::thread::Builder::new()
                        .name("confer-checkpoint".into())
                        .spawn(move || checkpoint_in_background(c, &wal))
                        .map_err(backend)?,
                )
            }
            None => None,
        };
        let (jobs, queue) = std::sync::mpsc::channel();
        let cache = Arc::new(QueryCache::default());
        let (worker_cache, worker_wal) = (cache.clone(), wal.clone());
        let worker = std::thread::Builder::new()
            .name("confer-sqlite".into())
            .spawn(move || run_jobs(conn, queue, &worker_cache, &worker_wal))
            .map_err(backend)?;
        Ok(Arc::new(SqliteStore { jobs: Some(jobs), worker: Some(worker), checkpointer, wal, cache, _owner: owner }))
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.as_ref().and_then(|j| j.send(job).ok()).ok_or_else(|| StoreError::Backend("the store is closed".into()))
    }

    fn read_job<R: Send + 'static>(work: impl FnOnce(&Connection) -> R + Send + 'static, answer: impl FnOnce(R) + Send + 'static) -> Job {
        Job::Read(Box::new(move |conn| answer(work(conn))))
    }

    fn write_job<R: Send + 'static>(
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        answer: impl FnOnce(Result<R, StoreError>) + Send + 'static,
        touches: Touches,
    ) -> Job {
        Job::Write(
            Box::new(move |conn: Result<&Connection, StoreError>| {
                let result = conn.and_then(work);
                (result.is_ok(), Box::new(move |committed: Result<(), StoreError>| answer(committed.and(result))))
            }),
            touches,
        )
    }

    /// Runs `work` on the store's connection, outside any write transaction.
    pub async fn read<R: Send + 'static>(&self, work: impl FnOnce(&Connection) -> R + Send + 'static) -> Result<R, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Self::read_job(work, move |r| drop(tx.send(r))))?;
        rx.await.map_err(|_| StoreError::Backend("the store stopped".into()))
    }

    /// Runs `work` in a write transaction and returns once it is committed. For tables of its
    /// own (the event log's): items are written through [`SqliteTable`], which keeps the query
    /// cache coherent.
    pub async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        self.write_touching(Vec::new(), work).await
    }

    async fn write_touching<R: Send + 'static>(
        &self,
        touches: Touches,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Self::write_job(work, move |r| drop(tx.send(r)), touches))?;
        rx.await.map_err(|_| StoreError::Backend("the store stopped".into()))?
    }

    /// [`read`](Self::read) for code outside an async context (start-up, tools, tests).
    pub fn read_blocking<R: Send + 'static>(&self, work: impl FnOnce(&Connection) -> R + Send + 'static) -> Result<R, StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(Self::read_job(work, move |r| drop(tx.send(r))))?;
        rx.recv().map_err(|_| StoreError::Backend("the store stopped".into()))
    }

    /// [`write`](Self::write) for code outside an async context (start-up, tools, tests).
    pub fn write_blocking<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(Self::write_job(work, move |r| drop(tx.send(r)), Vec::new()))?;
        rx.recv().map_err(|_| StoreError::Backend("the store stopped".into()))?
    }

    pub fn table(self: &Arc<Self>, name: &'static str) -> SqliteTable {
        SqliteTable { store: self.clone(), name }
    }

    /// Deletes expired items (TTL), as DynamoDB does in the background.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let purged = self
            .write(|conn| conn.execute("DELETE FROM items WHERE ttl IS NOT NULL AND ttl <= ?1", [now_epoch_seconds()]).map_err(backend))
            .await?;
        // Expiring items are never cached; starting over keeps that a non-assumption.
        self.cache.clear();
        Ok(purged)
    }

    /// Times the write-ahead log has been started over since the store opened.
    pub fn log_restarts(&self) -> u64 {
        self.wal.restarts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whole-range query results currently cached.
    pub fn cached_ranges(&self) -> usize {
        self.cache.len()
    }
}

impl Drop for SqliteStore {
    /// Closes the database before returning, so the same file can be opened again at once.
    fn drop(&mut self) {
        drop(self.jobs.take());
        // The store's thread ends once the queue is drained, and the checkpointer after it.
        for thread in [self.worker.take(), self.checkpointer.take()].into_iter().flatten() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// What the store's thread and the checkpointer tell each other about the write-ahead log.
struct WalProgress {
    /// Commits since the checkpointer last looked.
    commits: std::sync::Mutex<u64>,
    wake: std::sync::Condvar,
    /// Log size (frames) past which it is started over.
    reset_frames: i64,
    /// With no commit for this long the log file is emptied.
    empty_after: std::time::Duration,
    /// Times the log was started over (under load by the store's thread, when idle by the checkpointer).
    restarts: std::sync::atomic::AtomicU64,
    /// The log has grown past `reset_frames` and the checkpointer has just copied every
    /// frame it saw: the few written meanwhile are the store thread's to finish, after which
    /// its next write starts the log over.
    reset_due: std::sync::atomic::AtomicBool,
    closed: std::sync::atomic::AtomicBool,
}

impl WalProgress {
    fn committed(&self) {
        *self.commits.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.wake.notify_one();
    }

    /// The log has been started over: the checkpointer may go on.
    fn reset_done(&self) {
        let _commits = self.commits.lock().unwrap_or_else(|e| e.into_inner());
        self.reset_due.store(false, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn close(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// With no commit for this long the log is started over: copied into the database, its file
/// kept to be overwritten by the next writes. Growing a file costs the kernel about twice the
/// CPU of overwriting one (docs/performance.md), and chat comes in bursts with pauses between.
const IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// With no commit for this long the log file is emptied too, giving its disk space back — as
/// PostgreSQL recycles its log segments while busy and removes the spare ones later.
const EMPTY_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// How the write-ahead log is kept (tests shrink these).
#[derive(Clone, Copy)]
struct LogSettings {
    /// Log size (4 KiB frames) past which it is started over while writes go on.
    reset_frames: i64,
    empty_after: std::time::Duration,
    /// Copy the log into the database on a thread of its own (tests turn it off to show what
    /// happens when it falls behind).
    background_checkpoints: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings { reset_frames: WAL_RESET_FRAMES, empty_after: EMPTY_AFTER, background_checkpoints: true }
    }
}

/// Pause between background checkpoints while writes go on.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// How often the checkpointer syncs the database file while writes go on. Once a second rather
/// than after every pass: the pages every commit rewrites (the tails of the tables and indexes,
/// the header page) then reach the disk once a second instead of ten times, about a fifth less
/// written in all — on a virtual machine whose disk work takes host CPU from its cores, measured
/// as lower latency (docs/performance.md). Before the log is started over it syncs regardless, so
/// the store's thread is left only the last moments to sync.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A background pass that copied this few frames (1 MiB) was short, so few were written during
/// it: the tail it leaves the store's thread is short too.
const QUICK_PASS_FRAMES: i64 = 256;

/// Log size (4 KiB frames) past which it is started over while writes go on: 1 GiB (about ten
/// seconds of the heaviest chat load measured). Starting over under load pauses the store's
/// thread while it copies and syncs the frames of the last moments (7–8 ms on the machine
/// measured, the database having been synced just before), so it is kept
/// rare; when writes pause for a second the log is started over anyway.
const WAL_RESET_FRAMES: i64 = 256 * 1024;

/// The log's hard bound, in multiples of its restart size. Should the checkpointer fall behind
/// (its thread starved of CPU, a disk slower than the writes), the log would otherwise grow
/// without end; at this size the store's thread copies what is left and starts it over itself,
/// holding writers up meanwhile, so disk use stays bounded whatever the machine's pace.
const WAL_HARD_LIMIT_FACTOR: i64 = 2;

/// How long the store's thread, with the log at its hard limit, waits for a background pass in
/// progress to end so that it can start the log over.
const LOG_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

thread_local! {
    /// Pages in the write-ahead log after the store thread's last commit (SQLite's WAL hook).
    static LOG_FRAMES: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

fn record_log_frames(_wal: &rusqlite::hooks::Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    LOG_FRAMES.set(i64::from(frames));
    Ok(())
}

/// Copies committed frames from the log into the database (and syncs it) while the store's
/// thread goes on writing: a PASSIVE checkpoint never blocks a writer.
fn checkpoint_in_background(conn: Connection, wal: &WalProgress) {
    use std::sync::atomic::Ordering;
    // A pass that does not reach the end of the log (writes went on meanwhile) copies pages into
    // the database file without syncing it; the sync then falls to the checkpoint that starts the
    // log over, on the store's thread, with every page copied since. Syncing here (every
    // `SYNC_EVERY`, and just before a restart) keeps that last sync down to the final few pages.
    let database_file = conn.path().and_then(|p| std::fs::File::open(p).ok());
    let mut synced_at = std::time::Instant::now();
    let (mut copied_before, mut log_before) = (0, 0);
    let mut last_commit = std::time::Instant::now();
    // The log was started over while idle and its file not emptied yet.
    let mut file_kept = false;
    enum Next {
        Pass,
        StartOver,
        Empty,
    }
    loop {
        let next = {
            let mut commits = wal.commits.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if wal.closed.load(Ordering::SeqCst) {
                    return;
                }
                if *commits > 0 {
                    *commits = 0;
                    last_commit = std::time::Instant::now();
                    break Next::Pass;
                }
                let idle_for = last_commit.elapsed();
                let wait = if log_before > 0 {
                    match IDLE_AFTER.checked_sub(idle_for) {
                        Some(left) if !left.is_zero() => left,
                        _ => break Next::StartOver,
                    }
                } else if file_kept {
                    match wal.empty_after.checked_sub(idle_for) {
                        Some(left) if !left.is_zero() => left,
                        _ => break Next::Empty,
                    }
                } else {
                    // Nothing to do until the next commit wakes this thread.
                    IDLE_AFTER
                };
                commits = wal.wake.wait_timeout(commits, wait).unwrap_or_else(|e| e.into_inner()).0;
            }
        };
        match next {
            Next::Pass => {}
            Next::StartOver => {
                // Nobody is writing: copy what is left; the next write starts the log from the
                // beginning of its file. Brief, and a writer arriving meanwhile waits for it (busy
                // timeout) rather than failing.
                match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
                    Ok(0) => {
                        wal.restarts.fetch_add(1, Ordering::Relaxed);
                        (copied_before, log_before) = (0, 0);
                        file_kept = true;
                    }
                    // A reader held the log, or the checkpoint failed: try again a while later.
                    Ok(_) => last_commit = std::time::Instant::now(),
                    Err(e) => {
                        tracing::warn!(error = %e, "idle checkpoint failed");
                        last_commit = std::time::Instant::now();
                    }
                }
                continue;
            }
            Next::Empty => {
                match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
                    Ok(0) => file_kept = false,
                    Ok(_) => last_commit = std::time::Instant::now(),
                    Err(e) => {
                        tracing::warn!(error = %e, "idle checkpoint failed");
                        last_commit = std::time::Instant::now();
                    }
                }
                continue;
            }
        }
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))) {
            Ok((log, copied)) => {
                // Frames copied by this pass (the count starts again when the log does).
                let this_pass = if copied >= copied_before { copied - copied_before } else { copied };
                let restart_next = log >= wal.reset_frames && copied >= log && this_pass <= QUICK_PASS_FRAMES;
                (copied_before, log_before) = (copied, log);
                let sync_database = || {
                    if let Some(file) = &database_file {
                        if let Err(e) = file.sync_data() {
                            tracing::warn!(error = %e, "database sync failed");
                        }
                    }
                    std::time::Instant::now()
                };
                if restart_next && synced_at.elapsed() > CHECKPOINT_EVERY {
                    // Up to a second of copied pages are unsynced: sync them, then pass once more
                    // at once, so what was written meanwhile is copied and synced too before the
                    // store's thread takes over.
                    synced_at = sync_database();
                    continue;
                }
                if restart_next || synced_at.elapsed() >= SYNC_EVERY {
                    synced_at = sync_database();
                }
                if restart_next {
                    // Stand aside (a pass would hold the log) until the store's thread has
                    // copied the tail and started the log over — or writes stopped, and the
                    // idle checkpoint empties the log instead.
                    wal.reset_due.store(true, Ordering::SeqCst);
                    let mut commits = wal.commits.lock().unwrap_or_else(|e| e.into_inner());
                    while wal.reset_due.load(Ordering::SeqCst) && !wal.closed.load(Ordering::SeqCst) {
                        let (guard, waited) = wal.wake.wait_timeout(commits, IDLE_AFTER).unwrap_or_else(|e| e.into_inner());
                        commits = guard;
                        if waited.timed_out() {
                            wal.reset_due.store(false, Ordering::SeqCst);
                        }
                    }
                    continue;
                }
                if log >= wal.reset_frames {
                    // Keep the tail short until the log can be started over.
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// The store's thread: runs queued jobs in groups until every handle to the store is gone.
fn run_jobs(conn: Connection, queue: std::sync::mpsc::Receiver<Job>, cache: &QueryCache, wal: &WalProgress) {
    struct CloseOnExit<'a>(&'a WalProgress);
    impl Drop for CloseOnExit<'_> {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    let _close = CloseOnExit(wal);
    // Set here, after the pragmas: `wal_autocheckpoint` replaces the hook.
    conn.wal_hook(Some(record_log_frames));
    let hard_limit = wal.reset_frames.saturating_mul(WAL_HARD_LIMIT_FACTOR);
    let mut restarting = false;
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    // Whether the last group had company enough to wait for more (see `GROUP_WAIT`).
    let mut busy = false;
    while let Ok(first) = queue.recv() {
        let deadline = std::time::Instant::now() + GROUP_WAIT;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(job) = next.take() {
            match job {
                Job::Read(r) => reads.push(r),
                Job::Write(w, touches) => writes.push((w, touches)),
            }
            taken += 1;
            if taken < MAX_GROUP {
                next = queue.try_recv().ok();
                if next.is_none() && busy && !writes.is_empty() {
                    next = queue.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())).ok();
                }
            }
        }
        busy = writes.len() >= BUSY_GROUP_WRITES;
        for read in reads.drain(..) {
            read(&conn);
        }
        if !writes.is_empty() {
            write_group(&conn, &mut writes, cache);
            if restarting {
                // That commit started the log over.
                restarting = false;
                wal.reset_done();
            }
            wal.committed();
        }
        let over_limit = LOG_FRAMES.get() >= hard_limit;
        if !restarting && (over_limit || wal.reset_due.load(std::sync::atomic::Ordering::SeqCst)) {
            restarting = true;
            if over_limit {
                tracing::warn!(frames = LOG_FRAMES.get(), "the background checkpoint fell behind: the log is started over now");
            }
            // Only the frames written since the background checkpoint are left to copy (unless it
            // fell behind). RESTART (not PASSIVE) also waits out any reader of the old log, so the
            // next write is sure to start it from the beginning; this thread is the only writer.
            let started = std::time::Instant::now();
            loop {
                match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
                    Ok(0) => {
                        wal.restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        LOG_FRAMES.set(0);
                        tracing::debug!(pause_ms = started.elapsed().as_secs_f64() * 1e3, "log restarted");
                    }
                    // Over the hard limit, a background pass in progress (SQLite refuses a second
                    // checkpoint at once, without waiting) is waited out, writers held back.
                    _ if over_limit && started.elapsed() < LOG_LIMIT_WAIT => {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        continue;
                    }
                    Ok(_) => tracing::warn!("checkpoint could not finish: the log was in use"),
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                }
                break;
            }
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(backend)
}

/// One transaction for the whole group, one commit, then the answers.
///
/// Contract of a write job: when it fails it has changed nothing (it checks before it writes),
/// so the others' writes stand. Should one fail after changing rows, the whole group is rolled
/// back and every writer in it told so — nothing half-done is ever committed.
fn write_group(conn: &Connection, writes: &mut Vec<(WriteJob, Touches)>, cache: &QueryCache) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "could not begin a write transaction");
        for (write, _) in writes.drain(..) {
            let (_, answer) = write(Err(e.clone()));
            answer(Err(e.clone()));
        }
        return;
    }
    let mut answers = Vec::with_capacity(writes.len());
    let mut touched = Vec::new();
    let mut broken = None;
    for (write, touches) in writes.drain(..) {
        if let Some(e) = &broken {
            answers.push(write(Err(StoreError::clone(e))).1);
            continue;
        }
        let before = conn.total_changes();
        let (ok, answer) = write(Ok(conn));
        if !ok && conn.total_changes() != before {
            tracing::error!("a write failed after changing rows; rolling back its group");
            broken = Some(StoreError::Backend("a write in the same group failed part-way; nothing was written".into()));
        }
        if ok {
            touched.extend(touches);
        }
        answers.push(answer);
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None => exec(conn, "COMMIT"),
    };
    match &outcome {
        // Before any writer hears of its write, no cached range still predates it.
        Ok(()) => {
            for (table, key) in &touched {
                cache.invalidate(table, key);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group not committed; rolling back");
            if let Err(e) = exec(conn, "ROLLBACK") {
                tracing::error!(error = %e, "rollback failed");
            }
        }
    }
    for answer in answers {
        answer(outcome.clone());
    }
}

#[derive(Clone)]
pub struct SqliteTable {
    store: Arc<SqliteStore>,
    name: &'static str,
}

/// The table `adapters::local::assemble` serves as the main table.
pub const MAIN_TABLE: &str = "main";

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// An item as stored: key, index and TTL columns, and its JSON. Built by the caller, so the
/// serialising happens off the store's thread.
struct Row {
    key: Key,
    g1pk: Option<String>,
    g1sk: Option<String>,
    ttl: Option<i64>,
    data: String,
}

impl Row {
    fn of(item: &Item) -> Result<Row, StoreError> {
        Self::with_data(item, serde_json::to_string(item).map_err(backend)?)
    }

    /// The row of `item`, given as JSON in `data`.
    fn with_data(item: &Item, data: String) -> Result<Row, StoreError> {
        Ok(Row {
            key: key_of(item).ok_or_else(|| StoreError::Invalid("item needs pk and sk".into()))?,
            g1pk: str_attr(item, GSI1.pk_attr).map(str::to_string),
            g1sk: str_attr(item, GSI1.sk_attr).map(str::to_string),
            ttl: item.get(TTL).and_then(Value::as_i64),
            data,
        })
    }
}

enum RowWrite {
    Put(Row),
    Delete(Key),
}

/// A transaction operation with its put already serialised.
enum Prepared {
    Put(Row, Option<Condition>),
    Update(Key, Update, Option<Condition>),
    Delete(Key, Option<Condition>),
    Check(Key, Condition),
}

impl SqliteTable {
    fn read(tx: &Connection, table: &str, key: &Key) -> Result<Option<Item>, StoreError> {
        let row: Option<(String, Option<i64>)> = tx
            .prepare_cached("SELECT data, ttl FROM items WHERE tbl=?1 AND pk=?2 AND sk=?3")
            .and_then(|mut stmt| stmt.query_row([table, &key.pk, &key.sk], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(backend)?;
        match row {
            Some((_, Some(ttl))) if ttl <= now_epoch_seconds() => Ok(None),
            Some((data, _)) => Ok(Some(serde_json::from_str(&data).map_err(backend)?)),
            None => Ok(None),
        }
    }

    /// Whether `condition` holds for the item under `key`; existence needs no parsing.
    fn holds(tx: &Connection, table: &str, key: &Key, condition: &Condition) -> Result<bool, StoreError> {
        match condition {
            Condition::NotExists => Ok(!Self::exists(tx, table, key)?),
            Condition::Exists => Self::exists(tx, table, key),
            other => Ok(condition_holds(Self::read(tx, table, key)?.as_ref(), other)),
        }
    }

    fn exists(tx: &Connection, table: &str, key: &Key) -> Result<bool, StoreError> {
        let ttl: Option<Option<i64>> = tx
            .prepare_cached("SELECT ttl FROM items WHERE tbl=?1 AND pk=?2 AND sk=?3")
            .and_then(|mut stmt| stmt.query_row([table, &key.pk, &key.sk], |r| r.get(0)).optional())
            .map_err(backend)?;
        Ok(match ttl {
            None => false,
            Some(Some(ttl)) => ttl > now_epoch_seconds(),
            Some(None) => true,
        })
    }

    fn write(tx: &Connection, table: &str, row: &Row) -> Result<(), StoreError> {
        tx.prepare_cached(
            "INSERT INTO items (tbl, pk, sk, g1pk, g1sk, ttl, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (tbl, pk, sk) DO UPDATE SET g1pk=excluded.g1pk, g1sk=excluded.g1sk, ttl=excluded.ttl, data=excluded.data",
        )
        .and_then(|mut stmt| stmt.execute(rusqlite::params![table, row.key.pk, row.key.sk, row.g1pk, row.g1sk, row.ttl, row.data]))
        .map_err(backend)?;
        Self::log_change(tx, table, &row.key)
    }

    fn remove(tx: &Connection, table: &str, key: &Key) -> Result<(), StoreError> {
        tx.prepare_cached("DELETE FROM items WHERE tbl=?1 AND pk=?2 AND sk=?3")
            .and_then(|mut stmt| stmt.execute([table, &key.pk, &key.sk]))
            .map_err(backend)?;
        Self::log_change(tx, table, key)
    }

    /// Notes a change of an item of the main table the search index holds documents of, as
    /// DynamoDB Streams notes every change in the cloud.
    fn log_change(tx: &Connection, table: &str, key: &Key) -> Result<(), StoreError> {
        if table != MAIN_TABLE || crate::keys::search_source(key).is_none() {
            return Ok(());
        }
        tx.prepare_cached("INSERT INTO search_changes (pk, sk) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute([&key.pk, &key.sk]))
            .map_err(backend)?;
        Ok(())
    }
}

/// The table operations proper, run on the store's thread.
impl SqliteTable {
    fn put_now(tx: &Connection, name: &str, row: Row, condition: Option<Condition>) -> Result<(), StoreError> {
        if let Some(c) = &condition {
            if !Self::holds(tx, name, &row.key, c)? {
                return Err(StoreError::ConditionFailed);
            }
        }
        Self::write(tx, name, &row)
    }

    fn update_now(tx: &Connection, name: &str, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        let current = Self::read(tx, name, key)?;
        if let Some(c) = &condition {
            if !condition_holds(current.as_ref(), c) {
                return Err(StoreError::ConditionFailed);
            }
        }
        let item = apply_update(current, key, &update)?;
        Self::write(tx, name, &Row::of(&item)?)?;
        Ok(item)
    }

    fn delete_now(tx: &Connection, name: &str, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let current = Self::read(tx, name, key)?;
        if let Some(c) = &condition {
            if !condition_holds(current.as_ref(), c) {
                return Err(StoreError::ConditionFailed);
            }
        }
        Self::remove(tx, name, key)?;
        Ok(current)
    }

    fn query_now(conn: &Connection, name: &str, q: &Query) -> Result<Page, StoreError> {
        let (pk_col, sk_col, order) = match q.index {
            None => ("pk", "sk", if q.forward { "sk ASC" } else { "sk DESC" }),
            Some(ix) if ix == GSI1 => ("g1pk", "g1sk", if q.forward { "g1sk ASC, pk ASC, sk ASC" } else { "g1sk DESC, pk DESC, sk DESC" }),
            Some(ix) => return Err(StoreError::Invalid(format!("unknown index {}", ix.name))),
        };
        let mut sql = format!("SELECT data FROM items WHERE tbl = ? AND {pk_col} = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![name.to_string().into(), q.pk.clone().into()];
        if q.index.is_some() {
            sql.push_str(" AND g1sk IS NOT NULL");
        }
        match &q.sort {
            None => {}
            Some(SortKey::Eq(v)) => {
                sql.push_str(&format!(" AND {sk_col} = ?"));
                args.push(v.clone().into());
            }
            Some(SortKey::BeginsWith(p)) => {
                sql.push_str(&format!(" AND {sk_col} >= ?"));
                args.push(p.clone().into());
                match successor(p) {
                    Some(hi) => {
                        sql.push_str(&format!(" AND {sk_col} < ?"));
                        args.push(hi.into());
                    }
                    None => {
                        sql.push_str(&format!(" AND substr({sk_col}, 1, ?) = ?"));
                        args.push((p.chars().count() as i64).into());
                        args.push(p.clone().into());
                    }
                }
            }
            Some(SortKey::Between(lo, hi)) => {
                sql.push_str(&format!(" AND {sk_col} >= ? AND {sk_col} <= ?"));
                args.push(lo.clone().into());
                args.push(hi.clone().into());
            }
            Some(SortKey::Lt(v) | SortKey::Le(v) | SortKey::Gt(v) | SortKey::Ge(v)) => {
                let op = match q.sort {
                    Some(SortKey::Lt(_)) => "<",
                    Some(SortKey::Le(_)) => "<=",
                    Some(SortKey::Gt(_)) => ">",
                    _ => ">=",
                };
                sql.push_str(&format!(" AND {sk_col} {op} ?"));
                args.push(v.clone().into());
            }
        }
        if let Some(start) = &q.start_after {
            let cmp = if q.forward { ">" } else { "<" };
            let get = |a: &str| str_attr(start, a).map(str::to_string).ok_or_else(|| StoreError::Invalid(format!("start key lacks {a}")));
            match q.index {
                None => {
                    sql.push_str(&format!(" AND sk {cmp} ?"));
                    args.push(get(SK)?.into());
                }
                Some(ix) => {
                    sql.push_str(&format!(" AND (g1sk, pk, sk) {cmp} (?, ?, ?)"));
                    args.push(get(ix.sk_attr)?.into());
                    args.push(get(PK)?.into());
                    args.push(get(SK)?.into());
                }
            }
        }
        sql.push_str(" AND (ttl IS NULL OR ttl > ?)");
        args.push(now_epoch_seconds().into());
        sql.push_str(&format!(" ORDER BY {order}"));
        if let Some(limit) = q.limit {
            if limit == 0 {
                return Err(StoreError::Invalid("limit must be positive".into()));
            }
            sql.push_str(&format!(" LIMIT {}", limit + 1));
        }
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut items = Vec::new();
        for row in rows {
            items.push(serde_json::from_str::<Item>(&row.map_err(backend)?).map_err(backend)?);
        }
        Ok(into_page(items, q))
    }

    fn batch_write_now(tx: &Connection, name: &str, ops: Vec<RowWrite>) -> Result<(), StoreError> {
        for op in &ops {
            match op {
                RowWrite::Put(row) => Self::write(tx, name, row)?,
                RowWrite::Delete(key) => Self::remove(tx, name, key)?,
            }
        }
        Ok(())
    }

    fn transact_write_now(tx: &Connection, name: &str, ops: Vec<Prepared>) -> Result<(), StoreError> {
        let mut reasons = Vec::with_capacity(ops.len());
        let mut currents = Vec::with_capacity(ops.len());
        for op in &ops {
            let (failed, current) = match op {
                // An update needs the current item; the other conditions only look at it.
                Prepared::Update(key, _, condition) => {
                    let current = Self::read(tx, name, key)?;
                    (condition.as_ref().is_some_and(|c| !condition_holds(current.as_ref(), c)), current)
                }
                Prepared::Put(Row { key, .. }, condition) | Prepared::Delete(key, condition) => (
                    match condition {
                        Some(c) => !Self::holds(tx, name, key, c)?,
                        None => false,
                    },
                    None,
                ),
                Prepared::Check(key, condition) => (!Self::holds(tx, name, key, condition)?, None),
            };
            reasons.push(failed);
            currents.push(current);
        }
        if reasons.iter().any(|r| *r) {
            return Err(StoreError::TransactionCancelled { reasons });
        }
        // Every new item is computed before anything is written: a failure changes nothing.
        let mut writes = Vec::with_capacity(ops.len());
        for (op, current) in ops.into_iter().zip(currents) {
            match op {
                Prepared::Put(row, _) => writes.push(RowWrite::Put(row)),
                Prepared::Update(key, update, _) => writes.push(RowWrite::Put(Row::of(&apply_update(current, &key, &update)?)?)),
                Prepared::Delete(key, _) => writes.push(RowWrite::Delete(key)),
                Prepared::Check(..) => {}
            }
        }
        Self::batch_write_now(tx, name, writes)
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let (name, key) = (self.name, key.clone());
        self.store.read(move |conn| Self::read(conn, name, &key)).await?
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        // Serialised once: for the size check and for the row.
        let data = serde_json::to_string(&item).map_err(backend)?;
        check_item_of_size(&item, || data.len())?;
        let name = self.name;
        let row = Row::with_data(&item, data)?;
        let touches = vec![(name, row.key.clone())];
        self.store.write_touching(touches, move |conn| Self::put_now(conn, name, row, condition)).await
    }
    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        let (name, key) = (self.name, key.clone());
        let touches = vec![(name, key.clone())];
        self.store.write_touching(touches, move |conn| Self::update_now(conn, name, &key, update, condition)).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let (name, key) = (self.name, key.clone());
        let touches = vec![(name, key.clone())];
        self.store.write_touching(touches, move |conn| Self::delete_now(conn, name, &key, condition)).await
    }
    async fn query(&self, mut query: Query) -> Result<Page, StoreError> {
        let name = self.name;
        // Whole items are read and cached; the attributes asked for are cut out last.
        let attributes = query.attributes.take();
        if let Some(page) = self.store.cache.lookup(name, &query) {
            return Ok(shape_page(page, attributes));
        }
        let cache = self.store.cache.clone();
        let page = self
            .store
            .read(move |conn| {
                let page = Self::query_now(conn, name, &query)?;
                cache.insert(name, &query, &page.items);
                Ok(page)
            })
            .await??;
        Ok(shape_page(page, attributes))
    }
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_batch(&ops)?;
        let name = self.name;
        let rows = ops
            .into_iter()
            .map(|op| match op {
                WriteOp::Put(item) => Row::of(&item).map(RowWrite::Put),
                WriteOp::Delete(key) => Ok(RowWrite::Delete(key)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let touches = rows
            .iter()
            .map(|op| match op {
                RowWrite::Put(row) => (name, row.key.clone()),
                RowWrite::Delete(key) => (name, key.clone()),
            })
            .collect();
        self.store.write_touching(touches, move |conn| Self::batch_write_now(conn, name, rows)).await
    }
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        self.transact_write_then(ops, |_| Ok(())).await
    }
}

impl SqliteTable {
    /// `transact_write`, and `then` in the same transaction once the items are written (it is
    /// not run when a condition fails). Should `then` fail, nothing of either is committed.
    pub(crate) async fn transact_write_then(
        &self,
        ops: Vec<TransactOp>,
        then: impl FnOnce(&Connection) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        // Each put is serialised once: for the size check and for its row.
        let mut data = ops
            .iter()
            .map(|op| match op {
                TransactOp::Put { item, .. } => serde_json::to_string(item).map(Some).map_err(backend),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_transaction_sized(&ops, |i, _| data[i].as_ref().map_or(0, String::len))?;
        let name = self.name;
        let prepared = ops
            .into_iter()
            .zip(data.iter_mut())
            .map(|(op, data)| match op {
                TransactOp::Put { item, condition } => {
                    Row::with_data(&item, data.take().unwrap_or_default()).map(|row| Prepared::Put(row, condition))
                }
                TransactOp::Update { key, update, condition } => Ok(Prepared::Update(key, update, condition)),
                TransactOp::Delete { key, condition } => Ok(Prepared::Delete(key, condition)),
                TransactOp::Check { key, condition } => Ok(Prepared::Check(key, condition)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let touches = prepared
            .iter()
            .filter_map(|op| match op {
                Prepared::Put(row, _) => Some((name, row.key.clone())),
                Prepared::Update(key, ..) | Prepared::Delete(key, _) => Some((name, key.clone())),
                Prepared::Check(..) => None,
            })
            .collect();
        self.store
            .write_touching(touches, move |conn| {
                Self::transact_write_now(conn, name, prepared)?;
                then(conn)
            })
            .await
    }

    pub(crate) fn same_store(&self, store: &Arc<SqliteStore>) -> bool {
        Arc::ptr_eq(&self.store, store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(store: &SqliteStore, sk: &'static str) -> i64 {
        store
            .read_blocking(move |c| c.query_row("SELECT COUNT(*) FROM items WHERE pk = 'p' AND sk = ?1", [sk], |r| r.get(0)))
            .expect("store")
            .expect("count")
    }

    #[tokio::test]
    async fn a_write_failing_part_way_leaves_nothing_behind_and_others_are_told() {
        let store = SqliteStore::in_memory().expect("store");
        let insert = |sk: &'static str| {
            move |c: &Connection| {
                c.execute("INSERT INTO items (tbl, pk, sk, data) VALUES ('t', 'p', ?1, '{}')", [sk]).map_err(backend)?;
                Ok(())
            }
        };
        let broken = store.write(move |c| -> Result<(), StoreError> {
            insert("half")(c)?;
            Err(StoreError::Invalid("fails after writing".into()))
        });
        let (first, broken, last) = tokio::join!(store.write(insert("before")), broken, store.write(insert("after")));
        assert!(broken.is_err());
        assert_eq!(count(&store, "half"), 0, "the half-done write was undone");
        // Writers queued with it share its group: each either committed or was told it did not.
        assert_eq!(count(&store, "before"), i64::from(first.is_ok()));
        assert_eq!(count(&store, "after"), i64::from(last.is_ok()));
        // The store goes on working.
        store.write(insert("later")).await.expect("a later write commits");
        assert_eq!(count(&store, "later"), 1);
    }

    #[tokio::test]
    async fn a_failed_condition_does_not_disturb_the_group() {
        let store = SqliteStore::in_memory().expect("store");
        let table = store.table("t");
        let item = |sk: &str| item_at("p", sk);
        table.put(item("taken"), None).await.expect("put");
        let (refused, accepted) =
            tokio::join!(table.put(item("taken"), Some(Condition::NotExists)), table.put(item("free"), Some(Condition::NotExists)));
        assert_eq!(refused, Err(StoreError::ConditionFailed));
        assert_eq!(accepted, Ok(()));
    }

    #[tokio::test]
    async fn cached_ranges_follow_committed_writes() {
        let store = SqliteStore::in_memory().expect("store");
        let table = store.table("t");
        let item = |sk: &str| item_at("S1", sk);
        let header = Query::partition("S1").sort(SortKey::Between("META".into(), "P$".into()));
        table.put(item("META"), None).await.expect("put");
        assert_eq!(table.query(header.clone()).await.expect("query").items.len(), 1);
        assert_eq!(store.cached_ranges(), 1);

        // A message lands outside the range: the cached answer stands.
        table.put(item("M#01"), None).await.expect("put");
        assert_eq!(store.cached_ranges(), 1);
        // A participant lands inside it: the next query sees it.
        table.transact_write(vec![TransactOp::Put { item: item("P#A#ann"), condition: None }]).await.expect("transact");
        assert_eq!(store.cached_ranges(), 0);
        assert_eq!(sort_keys(table.query(header.clone()).await.expect("query")), ["META", "P#A#ann"]);
        // So do updates and deletes.
        table.update(&Key::new("S1", "META"), Update::default().set("status", "closed"), None).await.expect("update");
        assert_eq!(table.query(header.clone()).await.expect("query").items[0]["status"], "closed");
        table.delete(&Key::new("S1", "P#A#ann"), None).await.expect("delete");
        assert_eq!(sort_keys(table.query(header.clone()).await.expect("query")), ["META"]);
        // A failed conditional write changes nothing, and the cache agrees.
        let _ = table.put(item("P#B"), Some(Condition::Exists)).await;
        assert_eq!(sort_keys(table.query(header).await.expect("query")), ["META"]);
    }

    fn item_at(pk: &str, sk: &str) -> Item {
        Item::from_iter([(PK.into(), pk.into()), (SK.into(), sk.into())])
    }

    fn sort_keys(page: Page) -> Vec<String> {
        page.items.iter().map(|i| i[SK].as_str().expect("sk").to_string()).collect()
    }

    #[test]
    fn a_second_open_of_the_same_database_is_refused() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("confer.sqlite3");
        let first = SqliteStore::open(&path).expect("first open");
        let second = SqliteStore::open(&path).err().expect("second open refused");
        assert!(second.to_string().contains("in use by another process"), "{second}");
        drop(first);
        SqliteStore::open(&path).expect("open again once the first is closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_checkpointed_in_the_background_and_started_over() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("confer.sqlite3");
        let wal = dir.path().join("confer.sqlite3-wal");
        let limit_frames = 64;
        let store = SqliteStore::open_with(&path, LogSettings { reset_frames: limit_frames, ..Default::default() }).expect("open");
        let table = store.table("t");
        let items: i64 = 1000;
        for i in 0..items {
            table.put(page_sized_item(i), None).await.expect("put");
        }
        // About 1,000 pages went through a log limited to 64: it was started over on the way.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.log_restarts() == 0 && std::time::Instant::now() < deadline {
            table.put(Item::from_iter([(PK.into(), "tick".into()), (SK.into(), "tick".into())]), None).await.expect("put");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(store.log_restarts() >= 1, "the log was never started over");
        assert_log_within_hard_limit(&wal, limit_frames);
        drop((table, store));
        assert_rows_after_reopening(&path, items);
    }

    #[test]
    fn a_database_of_schema_version_0_is_upgraded_in_place() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("confer.sqlite3");
        // Opening SQLite directly first would keep the default page cache for this process.
        super::super::page_cache::install();
        {
            let old = Connection::open(&path).expect("open");
            old.execute_batch(
                "PRAGMA journal_mode=WAL;
                 CREATE TABLE items (tbl TEXT NOT NULL, pk TEXT NOT NULL, sk TEXT NOT NULL, g1pk TEXT, g1sk TEXT,
                     ttl INTEGER, data TEXT NOT NULL, PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;
                 CREATE INDEX items_gsi1 ON items (tbl, g1pk, g1sk, pk, sk) WHERE g1pk IS NOT NULL AND g1sk IS NOT NULL;
                 CREATE INDEX items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
                 INSERT INTO items VALUES ('main', 'C#1', 'PROFILE', 'T#t#CUSTOMERS', 'ann', NULL, '{\"pk\":\"C#1\",\"sk\":\"PROFILE\",\"gsi1pk\":\"T#t#CUSTOMERS\",\"gsi1sk\":\"ann\"}');
                 INSERT INTO items VALUES ('main', 'S#1', 'M#01', NULL, NULL, NULL, '{\"pk\":\"S#1\",\"sk\":\"M#01\",\"text\":\"hello\"}');
                 INSERT INTO items VALUES ('main', 'S#1', 'M#02', NULL, NULL, NULL, '{\"pk\":\"S#1\",\"sk\":\"M#02\",\"text\":\"again\"}');",
            )
            .expect("old schema");
        }
        let store = SqliteStore::open(&path).expect("open upgrades");
        let (version, sql): (i64, String) = store
            .read_blocking(|c| {
                let version = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                let sql = c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'items'", [], |r| r.get(0))?;
                Ok::<_, rusqlite::Error>((version, sql))
            })
            .expect("store")
            .expect("schema");
        assert_eq!(version, SCHEMA_VERSION);
        assert!(!sql.contains("WITHOUT ROWID"), "{sql}");
        let table = store.table("main");
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(async {
            let messages = table.query(Query::partition("S#1").sort(SortKey::BeginsWith("M#".into()))).await.expect("query");
            assert_eq!(sort_keys(messages), ["M#01", "M#02"]);
            let listed = table.query(Query::on_index(GSI1, "T#t#CUSTOMERS")).await.expect("index query");
            assert_eq!(listed.items.len(), 1, "the secondary index was rebuilt");
            // Keys stay unique after the upgrade.
            let again = item_at("S#1", "M#01");
            assert_eq!(table.put(again, Some(Condition::NotExists)).await, Err(StoreError::ConditionFailed));
        });
        drop((table, store));
        // Opening again leaves an upgraded database as it is.
        let store = SqliteStore::open(&path).expect("reopen");
        let rows =
            store.read_blocking(|c| c.query_row("SELECT COUNT(*) FROM items", [], |r| r.get::<_, i64>(0))).expect("read").expect("count");
        assert_eq!(rows, 3);
    }

    #[tokio::test]
    async fn commits_skip_the_page_cache_scan_and_the_database_stays_whole() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("confer.sqlite3")).expect("open");
        assert!(super::super::page_cache::install(), "the page cache wrapper is in place");
        let before = super::super::page_cache::skipped_truncations();
        let table = store.table("t");
        // Inserts all over the key space split and rebalance pages, which is what parks pages
        // on the lock page's number.
        let filler = "x".repeat(300);
        let mut written = 0;
        for round in 0..200u64 {
            let puts = (0..10u64).map(|i| {
                let partition = (round * 7919 + i * 104_729) % 97;
                let item = Item::from_iter([
                    (PK.into(), format!("S#{partition:03}").into()),
                    (SK.into(), format!("M#{round:05}{i:02}").into()),
                    ("filler".into(), filler.clone().into()),
                ]);
                table.put(item, None)
            });
            for put in futures::future::join_all(puts).await {
                put.expect("put");
                written += 1;
            }
        }
        assert!(super::super::page_cache::skipped_truncations() > before, "no commit skipped the scan");
        let (check, rows): (String, i64) = store
            .read_blocking(|c| {
                Ok::<_, rusqlite::Error>((
                    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?,
                ))
            })
            .expect("store")
            .expect("check");
        assert_eq!(check, "ok");
        assert_eq!(rows, written);
        let one = table.query(Query::partition("S#005").sort(SortKey::BeginsWith("M#".into()))).await.expect("query");
        assert!(!one.items.is_empty());
    }

    /// The log file never outgrows its hard limit plus one commit (these tests commit a few pages
    /// at a time) — however far behind the background checkpoint is.
    /// An item of about one page, in one of 50 partitions.
    fn page_sized_item(i: i64) -> Item {
        Item::from_iter([
            (PK.into(), format!("p{}", i % 50).into()),
            (SK.into(), format!("{i:05}").into()),
            ("filler".into(), "x".repeat(3000).into()),
        ])
    }

    fn assert_rows_after_reopening(path: &Path, expected: i64) {
        let reopened = SqliteStore::open(path).expect("reopen");
        let rows = reopened
            .read_blocking(|c| c.query_row("SELECT COUNT(*) FROM items", [], |r| r.get::<_, i64>(0)))
            .expect("read")
            .expect("count");
        assert_eq!(rows, expected, "every committed write is in the database");
    }

    fn log_bound_bytes(limit_frames: i64) -> u64 {
        let frame_bytes = 4096 + 24;
        32 + (limit_frames * WAL_HARD_LIMIT_FACTOR + 16) as u64 * frame_bytes
    }

    fn assert_log_within_hard_limit(wal: &Path, limit_frames: i64) {
        let bound = log_bound_bytes(limit_frames);
        let log_size = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
        assert!(log_size <= bound, "the log holds {log_size} bytes, more than {bound}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_stays_bounded_when_the_background_checkpoint_falls_behind() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("confer.sqlite3");
        let wal = dir.path().join("confer.sqlite3-wal");
        let limit_frames = 64;
        // No checkpointer at all: the slowest it can be.
        let store =
            SqliteStore::open_with(&path, LogSettings { reset_frames: limit_frames, background_checkpoints: false, ..Default::default() })
                .expect("open");
        let table = store.table("t");
        let items: i64 = 600;
        let mut largest = 0;
        for i in 0..items {
            table.put(page_sized_item(i), None).await.expect("put");
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        // Some 1,200 pages written, the log bounded at 128: started over several times.
        assert!(store.log_restarts() >= 3, "the log was started over {} times", store.log_restarts());
        let bound = log_bound_bytes(limit_frames);
        assert!(largest <= bound, "the log reached {largest} bytes, more than {bound}");
        assert_log_within_hard_limit(&wal, limit_frames);
        drop((table, store));
        assert_rows_after_reopening(&path, items);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pause_starts_the_log_over_in_its_file_and_a_long_one_empties_the_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("confer.sqlite3");
        let wal = dir.path().join("confer.sqlite3-wal");
        let log_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        let empty_after = std::time::Duration::from_secs(4);
        let store = SqliteStore::open_with(&path, LogSettings { empty_after, ..Default::default() }).expect("open");
        let table = store.table("t");
        let put = |sk: String| table.put(Item::from_iter([(PK.into(), "p".into()), (SK.into(), sk.into())]), None);
        for i in 0..50 {
            put(format!("{i}")).await.expect("put");
        }
        let grown = log_size();
        assert!(grown > 0, "the writes went to the log");
        // A second without writes: the log is copied into the database and started over, its
        // file kept.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while store.log_restarts() == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(store.log_restarts() >= 1, "an idle store starts its log over");
        assert_eq!(log_size(), grown, "the log file is kept");
        // The next writes overwrite it from its start instead of growing it.
        for i in 0..5 {
            put(format!("again {i}")).await.expect("put");
        }
        assert_eq!(log_size(), grown, "the log was started over at the beginning of its file");
        // A longer pause gives the disk space back.
        let deadline = std::time::Instant::now() + empty_after + std::time::Duration::from_secs(10);
        while log_size() > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(log_size(), 0, "a store idle for long empties its log file");
        // Writing goes on normally afterwards, and nothing written was lost on the way.
        put("after".into()).await.expect("put");
        let all = table.query(Query::partition("p")).await.expect("query");
        assert_eq!(all.items.len(), 56);
    }
}
