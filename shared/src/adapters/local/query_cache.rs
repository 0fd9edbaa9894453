//! Results of whole-range partition queries on the SQLite tables, answered without a trip to
//! the store while no committed write has touched their range.
//!
//! Sound because confer-local is the database's only writer (it holds it in exclusive mode)
//! and every item write goes through the store's thread, which fills the cache when it runs a
//! query and invalidates the ranges a write group touched after committing it and before
//! answering its writers. So an entry never outlives a write anyone has been told about; a
//! reader that sees an entry about to be invalidated is concurrent with that write, and may
//! see either state. The hot case is a session's header and participants, read on every
//! message while only messages (outside that range) are written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::rules::sort_matches;
use crate::ports::table::{Item, Key, Page, Query, SortKey, TTL};

/// Cached ranges kept at most; past this the cache starts over (cheap, and rare).
pub const MAX_CACHED_RANGES: usize = 10_000;

#[derive(Default)]
pub struct QueryCache {
    inner: Mutex<Ranges>,
}

#[derive(Default)]
struct Ranges {
    /// (table, partition) → cached (sort condition, direction, items).
    by_partition: HashMap<(&'static str, String), Vec<Range>>,
    count: usize,
}

struct Range {
    sort: Option<SortKey>,
    forward: bool,
    items: Arc<Vec<Item>>,
}

impl QueryCache {
    fn lock(&self) -> MutexGuard<'_, Ranges> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Only whole ranges of the table itself: no index, no page limit, no start key.
    pub fn cacheable(query: &Query) -> bool {
        query.index.is_none() && query.limit.is_none() && query.start_after.is_none()
    }

    pub fn lookup(&self, table: &'static str, query: &Query) -> Option<Page> {
        if !Self::cacheable(query) {
            return None;
        }
        let inner = self.lock();
        let range =
            inner.by_partition.get(&(table, query.pk.clone()))?.iter().find(|r| r.sort == query.sort && r.forward == query.forward)?;
        Some(Page { items: range.items.as_ref().clone(), last_key: None })
    }

    /// Called by the store's thread right after it ran `query`. Items that expire are not
    /// cached (expiry is not a write, so nothing would invalidate them).
    pub fn insert(&self, table: &'static str, query: &Query, items: &[Item]) {
        if !Self::cacheable(query) || items.iter().any(|i| i.contains_key(TTL)) {
            return;
        }
        let mut inner = self.lock();
        if inner.count >= MAX_CACHED_RANGES {
            inner.by_partition.clear();
            inner.count = 0;
        }
        let ranges = inner.by_partition.entry((table, query.pk.clone())).or_default();
        ranges.retain(|r| !(r.sort == query.sort && r.forward == query.forward));
        let replaced = ranges.len();
        ranges.push(Range { sort: query.sort.clone(), forward: query.forward, items: Arc::new(items.to_vec()) });
        let added = ranges.len() - replaced;
        inner.count += added;
    }

    /// Forgets every cached range that contains `key` (called after a write touching it commits).
    pub fn invalidate(&self, table: &'static str, key: &Key) {
        let mut inner = self.lock();
        let slot = (table, key.pk.clone());
        let Some(ranges) = inner.by_partition.get_mut(&slot) else { return };
        let before = ranges.len();
        ranges.retain(|r| !sort_matches(&key.sk, &r.sort));
        let removed = before - ranges.len();
        if ranges.is_empty() {
            inner.by_partition.remove(&slot);
        }
        inner.count -= removed;
    }

    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.by_partition.clear();
        inner.count = 0;
    }

    pub fn len(&self) -> usize {
        self.lock().count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(pk: &str, sk: &str) -> Item {
        json!({ "pk": pk, "sk": sk }).as_object().cloned().expect("object")
    }

    fn header_query() -> Query {
        Query::partition("S1").sort(SortKey::Between("META".into(), "P$".into()))
    }

    #[test]
    fn a_write_inside_the_range_invalidates_one_outside_does_not() {
        let cache = QueryCache::default();
        cache.insert("main", &header_query(), &[item("S1", "META"), item("S1", "P#A#ann")]);
        assert_eq!(cache.lookup("main", &header_query()).map(|p| p.items.len()), Some(2));

        cache.invalidate("main", &Key::new("S1", "M#01J"));
        cache.invalidate("main", &Key::new("S2", "META"));
        cache.invalidate("other", &Key::new("S1", "META"));
        assert!(cache.lookup("main", &header_query()).is_some(), "writes outside the range keep it");

        cache.invalidate("main", &Key::new("S1", "P#C#cus"));
        assert!(cache.lookup("main", &header_query()).is_none(), "a new participant invalidates it");
        assert!(cache.is_empty());
    }

    #[test]
    fn only_whole_ranges_without_expiring_items_are_kept() {
        let cache = QueryCache::default();
        cache.insert("main", &header_query().limit(10), &[item("S1", "META")]);
        cache.insert("main", &header_query().backward(), &[item("S1", "META")]);
        let mut expiring = item("S1", "META");
        expiring.insert(TTL.into(), 1.into());
        cache.insert("main", &header_query(), &[expiring]);
        assert!(cache.lookup("main", &header_query().limit(10)).is_none());
        assert!(cache.lookup("main", &header_query()).is_none());
        assert!(cache.lookup("main", &header_query().backward()).is_some(), "direction is part of the range");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = QueryCache::default();
        for i in 0..=MAX_CACHED_RANGES {
            cache.insert("main", &Query::partition(format!("S{i}")), &[]);
        }
        assert!(cache.len() <= MAX_CACHED_RANGES);
    }
}
