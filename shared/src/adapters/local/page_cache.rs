//! SQLite's own page cache, minus a full scan at every commit.
//!
//! At the end of every write transaction SQLite asks its page cache to drop the pages past the
//! end of the database (`xTruncate`). The default cache remembers the largest page number it
//! has held and, when that is far past the end, scans its whole hash table — and B-tree
//! rebalancing parks a page for a moment under the number of the lock page (the page at 1 GiB,
//! never part of a database), which pushes that remembered maximum to 1 GiB until the next
//! truncation. Under steady random inserts (chat messages into 500 sessions) nearly every
//! commit then scans the 64 MiB cache for pages that cannot exist: about a quarter of the
//! store thread's time, measured.
//!
//! This wrapper passes every call through to the default cache and keeps its own bound on the
//! page numbers actually held — the lock page's parking counted only while a page is parked
//! there — and skips a truncation that provably drops nothing.

use std::os::raw::{c_int, c_uint};
use std::sync::OnceLock;

use rusqlite::ffi;

/// SQLite's `PENDING_BYTE`: the lock page is the page holding this file offset.
const PENDING_BYTE: u64 = 0x4000_0000;

/// What the wrapper knows about the page numbers one cache holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldPages {
    /// No held page has a number above this (the lock page's parking aside).
    max_key: c_uint,
    /// The lock page's number for this cache's page size.
    lock_key: c_uint,
    /// A page is parked under the lock page's number right now.
    lock_key_held: bool,
}

impl HeldPages {
    pub(crate) fn new(page_size: c_int) -> Self {
        let lock_key = (PENDING_BYTE / page_size.max(512) as u64 + 1) as c_uint;
        HeldPages { max_key: 0, lock_key, lock_key_held: false }
    }

    /// A fetch that may have created a page under `key`.
    pub(crate) fn fetched(&mut self, key: c_uint) {
        if key == self.lock_key {
            self.lock_key_held = true;
        } else {
            self.max_key = self.max_key.max(key);
        }
    }

    pub(crate) fn rekeyed(&mut self, old: c_uint, new: c_uint) {
        if old == self.lock_key {
            self.lock_key_held = false;
        }
        self.fetched(new);
    }

    /// Whether a truncation to below `limit` may drop any page; the bound is updated as if it ran.
    pub(crate) fn truncate(&mut self, limit: c_uint) -> bool {
        let drops_lock_key = self.lock_key_held && self.lock_key >= limit;
        let drops = limit <= self.max_key || drops_lock_key;
        if drops {
            self.max_key = self.max_key.min(limit.saturating_sub(1));
            if drops_lock_key {
                self.lock_key_held = false;
            }
        }
        drops
    }
}

/// One cache: the default cache's handle and the bound kept beside it.
struct Wrapped {
    inner: *mut ffi::sqlite3_pcache,
    held: HeldPages,
}

struct DefaultCache(ffi::sqlite3_pcache_methods2);
// The methods table is plain function pointers and SQLite's own argument, set once and never
// written again.
unsafe impl Send for DefaultCache {}
unsafe impl Sync for DefaultCache {}

static DEFAULT: OnceLock<Option<DefaultCache>> = OnceLock::new();

fn default_methods() -> &'static ffi::sqlite3_pcache_methods2 {
    match DEFAULT.get() {
        Some(Some(d)) => &d.0,
        _ => unreachable!("the wrapper is only installed after the default cache is known"),
    }
}

/// # Safety
/// `p` must come from [`x_create`] and not yet be destroyed; SQLite calls one cache from one
/// connection at a time.
unsafe fn wrapped<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Wrapped {
    unsafe { &mut *(p as *mut Wrapped) }
}

unsafe extern "C" fn x_create(page_size: c_int, extra: c_int, purgeable: c_int) -> *mut ffi::sqlite3_pcache {
    let create = default_methods().xCreate.expect("default page cache has xCreate");
    let inner = unsafe { create(page_size, extra, purgeable) };
    if inner.is_null() {
        return std::ptr::null_mut();
    }
    Box::into_raw(Box::new(Wrapped { inner, held: HeldPages::new(page_size) })) as *mut ffi::sqlite3_pcache
}

unsafe extern "C" fn x_cachesize(p: *mut ffi::sqlite3_pcache, pages: c_int) {
    let w = unsafe { wrapped(p) };
    if let Some(f) = default_methods().xCachesize {
        unsafe { f(w.inner, pages) }
    }
}

unsafe extern "C" fn x_pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    let w = unsafe { wrapped(p) };
    default_methods().xPagecount.map_or(0, |f| unsafe { f(w.inner) })
}

unsafe extern "C" fn x_fetch(p: *mut ffi::sqlite3_pcache, key: c_uint, create: c_int) -> *mut ffi::sqlite3_pcache_page {
    let w = unsafe { wrapped(p) };
    let fetch = default_methods().xFetch.expect("default page cache has xFetch");
    let page = unsafe { fetch(w.inner, key, create) };
    if create != 0 && !page.is_null() {
        w.held.fetched(key);
    }
    page
}

unsafe extern "C" fn x_unpin(p: *mut ffi::sqlite3_pcache, page: *mut ffi::sqlite3_pcache_page, discard: c_int) {
    let w = unsafe { wrapped(p) };
    if let Some(f) = default_methods().xUnpin {
        unsafe { f(w.inner, page, discard) }
    }
}

unsafe extern "C" fn x_rekey(p: *mut ffi::sqlite3_pcache, page: *mut ffi::sqlite3_pcache_page, old: c_uint, new: c_uint) {
    let w = unsafe { wrapped(p) };
    if let Some(f) = default_methods().xRekey {
        unsafe { f(w.inner, page, old, new) }
    }
    w.held.rekeyed(old, new);
}

unsafe extern "C" fn x_truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let w = unsafe { wrapped(p) };
    if w.held.truncate(limit) {
        if let Some(f) = default_methods().xTruncate {
            unsafe { f(w.inner, limit) }
        }
    } else {
        SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

unsafe extern "C" fn x_destroy(p: *mut ffi::sqlite3_pcache) {
    let w = unsafe { Box::from_raw(p as *mut Wrapped) };
    if let Some(f) = default_methods().xDestroy {
        unsafe { f(w.inner) }
    }
}

unsafe extern "C" fn x_shrink(p: *mut ffi::sqlite3_pcache) {
    let w = unsafe { wrapped(p) };
    if let Some(f) = default_methods().xShrink {
        unsafe { f(w.inner) }
    }
}

/// Installs the wrapper, once per process, before SQLite's first use. Returns whether it is in
/// place: SQLite accepts a page cache only before it initialises, so a process that used SQLite
/// some other way first keeps the default cache (correct, only slower).
pub fn install() -> bool {
    DEFAULT
        .get_or_init(|| {
            let mut default = std::mem::MaybeUninit::<ffi::sqlite3_pcache_methods2>::zeroed();
            // SAFETY: both calls take a pointer to a methods table, as documented; SQLite copies
            // the table it is given.
            unsafe {
                if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, default.as_mut_ptr()) != ffi::SQLITE_OK {
                    tracing::debug!("SQLite already initialised: default page cache kept");
                    return None;
                }
                let default = default.assume_init();
                if default.xCreate.is_none() || default.xFetch.is_none() {
                    return None;
                }
                let mut ours = default;
                ours.xCreate = Some(x_create);
                ours.xCachesize = Some(x_cachesize);
                ours.xPagecount = Some(x_pagecount);
                ours.xFetch = Some(x_fetch);
                ours.xUnpin = Some(x_unpin);
                ours.xRekey = Some(x_rekey);
                ours.xTruncate = Some(x_truncate);
                ours.xDestroy = Some(x_destroy);
                ours.xShrink = if default.xShrink.is_some() { Some(x_shrink) } else { None };
                // SQLite calls the wrappers only once a connection opens, after this returns and
                // `DEFAULT` holds the default methods.
                let stored = DefaultCache(default);
                if ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &ours as *const ffi::sqlite3_pcache_methods2) != ffi::SQLITE_OK {
                    tracing::debug!("page cache not accepted: default kept");
                    return None;
                }
                Some(stored)
            }
        })
        .is_some()
}

/// Truncations skipped since the process started (each one a scan the default cache would have
/// made for nothing).
pub fn skipped_truncations() -> u64 {
    SKIPPED.load(std::sync::atomic::Ordering::Relaxed)
}

static SKIPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK_4K: c_uint = 262_145;

    #[test]
    fn lock_page_number_follows_the_page_size() {
        assert_eq!(HeldPages::new(4096).lock_key, LOCK_4K);
        assert_eq!(HeldPages::new(1024).lock_key, 1_048_577);
        assert_eq!(HeldPages::new(65536).lock_key, 16_385);
    }

    #[test]
    fn truncation_past_every_held_page_is_skipped() {
        let mut held = HeldPages::new(4096);
        for key in [1, 7, 300, 42] {
            held.fetched(key);
        }
        assert!(!held.truncate(301), "nothing at or above 301 is held");
        assert!(held.truncate(300), "page 300 is held");
        assert!(!held.truncate(300), "page 300 was just dropped");
        assert!(held.truncate(8));
        assert!(!held.truncate(8));
    }

    #[test]
    fn a_page_parked_on_the_lock_page_does_not_raise_the_bound() {
        let mut held = HeldPages::new(4096);
        for key in 1..=500 {
            held.fetched(key);
        }
        // B-tree rebalancing swaps pages 40 and 12 through the lock page's number.
        held.rekeyed(40, LOCK_4K);
        held.rekeyed(12, 40);
        held.rekeyed(LOCK_4K, 12);
        assert!(!held.truncate(501), "a commit at 500 pages drops nothing");
    }

    #[test]
    fn a_page_still_parked_on_the_lock_page_is_dropped() {
        let mut held = HeldPages::new(4096);
        held.fetched(10);
        held.rekeyed(10, LOCK_4K);
        assert!(held.truncate(11), "the parked page is above the limit");
        assert!(!held.truncate(11));
        // A database larger than 1 GiB keeps the lock page below its end.
        held.rekeyed(5, LOCK_4K);
        assert!(!held.truncate(LOCK_4K + 1));
        assert!(held.truncate(LOCK_4K));
    }

    #[test]
    fn rekeying_raises_the_bound() {
        let mut held = HeldPages::new(4096);
        held.fetched(3);
        held.rekeyed(3, 900);
        assert!(held.truncate(900));
    }
}
