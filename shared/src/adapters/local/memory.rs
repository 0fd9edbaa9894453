//! The table port in memory, for data that must not outlive the process. confer-local keeps
//! its live-connection records here: a connection ends with the process that holds its socket,
//! so a durable record of it would only be stale after a restart, and every message reads them.
//!
//! Same semantics as the other adapters (the conformance suite runs on it): conditions,
//! updates, sort-key conditions, paging, the sparse `gsi1` index, TTL, batches and
//! transactions. Each operation holds one lock, so each is atomic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use serde_json::Value;

use super::rules::{apply_update, condition_holds, into_page, sort_matches, str_attr};
use crate::domain::now_epoch_seconds;
use crate::ports::table::*;

#[derive(Default)]
pub struct MemoryTable {
    /// Reads (every message looks up its recipients' connections) share the lock; writes
    /// (connects, disconnects) hold it alone, so each operation stays atomic.
    inner: RwLock<Partitions>,
}

#[derive(Default)]
struct Partitions {
    /// pk → sk → item.
    items: HashMap<String, BTreeMap<String, Item>>,
    /// gsi1pk → (gsi1sk, pk, sk), for items holding both index attributes as strings.
    gsi1: HashMap<String, BTreeSet<(String, String, String)>>,
}

fn expired(item: &Item, now: i64) -> bool {
    item.get(TTL).and_then(Value::as_i64).is_some_and(|ttl| ttl <= now)
}

fn index_entry(item: &Item) -> Option<(String, (String, String, String))> {
    let g1pk = str_attr(item, GSI1.pk_attr)?;
    let g1sk = str_attr(item, GSI1.sk_attr)?;
    let key = key_of(item)?;
    Some((g1pk.to_string(), (g1sk.to_string(), key.pk, key.sk)))
}

impl Partitions {
    /// The item under `key`, unless absent or expired.
    fn visible(&self, key: &Key, now: i64) -> Option<&Item> {
        self.items.get(&key.pk)?.get(&key.sk).filter(|item| !expired(item, now))
    }

    fn remove(&mut self, key: &Key) -> Option<Item> {
        let partition = self.items.get_mut(&key.pk)?;
        let old = partition.remove(&key.sk)?;
        if partition.is_empty() {
            self.items.remove(&key.pk);
        }
        if let Some((g1pk, entry)) = index_entry(&old) {
            if let Some(set) = self.gsi1.get_mut(&g1pk) {
                set.remove(&entry);
                if set.is_empty() {
                    self.gsi1.remove(&g1pk);
                }
            }
        }
        Some(old)
    }

    fn write(&mut self, item: Item) {
        let key = key_of(&item).expect("items are checked before they are written");
        self.remove(&key);
        if let Some((g1pk, entry)) = index_entry(&item) {
            self.gsi1.entry(g1pk).or_default().insert(entry);
        }
        self.items.entry(key.pk).or_default().insert(key.sk, item);
    }

    fn apply(&mut self, writes: Vec<WriteOp>) {
        for write in writes {
            match write {
                WriteOp::Put(item) => self.write(item),
                WriteOp::Delete(key) => {
                    self.remove(&key);
                }
            }
        }
    }

    fn query(&self, q: &Query, now: i64) -> Result<Page, StoreError> {
        if q.limit == Some(0) {
            return Err(StoreError::Invalid("limit must be positive".into()));
        }
        let start_attr = |start: &Item, a: &str| {
            str_attr(start, a).map(str::to_string).ok_or_else(|| StoreError::Invalid(format!("start key lacks {a}")))
        };
        // Candidates in ascending order (of sk, or of gsi1sk, pk, sk on the index).
        let mut found: Vec<&Item> = match q.index {
            None => {
                let start = q.start_after.as_ref().map(|s| start_attr(s, SK)).transpose()?;
                self.items
                    .get(&q.pk)
                    .into_iter()
                    .flat_map(|p| p.iter())
                    .filter(|(sk, _)| sort_matches(sk, &q.sort))
                    .filter(|(sk, _)| match &start {
                        None => true,
                        Some(s) if q.forward => sk.as_str() > s.as_str(),
                        Some(s) => sk.as_str() < s.as_str(),
                    })
                    .map(|(_, item)| item)
                    .collect()
            }
            Some(ix) if ix == GSI1 => {
                let start = match &q.start_after {
                    None => None,
                    Some(s) => Some((start_attr(s, ix.sk_attr)?, start_attr(s, PK)?, start_attr(s, SK)?)),
                };
                self.gsi1
                    .get(&q.pk)
                    .into_iter()
                    .flat_map(|set| set.iter())
                    .filter(|(g1sk, _, _)| sort_matches(g1sk, &q.sort))
                    .filter(|entry| match &start {
                        None => true,
                        Some(s) if q.forward => *entry > s,
                        Some(s) => *entry < s,
                    })
                    .filter_map(|(_, pk, sk)| self.items.get(pk)?.get(sk))
                    .collect()
            }
            Some(ix) => return Err(StoreError::Invalid(format!("unknown index {}", ix.name))),
        };
        found.retain(|item| !expired(item, now));
        if !q.forward {
            found.reverse();
        }
        if let Some(limit) = q.limit {
            found.truncate(limit + 1);
        }
        Ok(into_page(found, q))
    }
}

impl MemoryTable {
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> RwLockWriteGuard<'_, Partitions> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, Partitions> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops expired items (they are already invisible; this frees their memory).
    pub fn purge_expired(&self) -> usize {
        let now = now_epoch_seconds();
        let mut inner = self.write();
        let dead: Vec<Key> = inner.items.values().flat_map(|p| p.values()).filter(|item| expired(item, now)).filter_map(key_of).collect();
        for key in &dead {
            inner.remove(key);
        }
        dead.len()
    }

    /// Number of stored items, expired ones included until purged.
    pub fn len(&self) -> usize {
        self.read().items.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.read().items.is_empty()
    }
}

fn check(current: Option<&Item>, condition: Option<&Condition>) -> Result<(), StoreError> {
    match condition {
        Some(c) if !condition_holds(current, c) => Err(StoreError::ConditionFailed),
        _ => Ok(()),
    }
}

#[async_trait]
impl Table for MemoryTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.read().visible(key, now_epoch_seconds()).cloned())
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        check_item(&item)?;
        let key = key_of(&item).expect("checked");
        let mut inner = self.write();
        check(inner.visible(&key, now_epoch_seconds()), condition.as_ref())?;
        inner.write(item);
        Ok(())
    }

    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        let mut inner = self.write();
        let current = inner.visible(key, now_epoch_seconds()).cloned();
        check(current.as_ref(), condition.as_ref())?;
        let item = apply_update(current, key, &update)?;
        inner.write(item.clone());
        Ok(item)
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let mut inner = self.write();
        let current = inner.visible(key, now_epoch_seconds()).cloned();
        check(current.as_ref(), condition.as_ref())?;
        inner.remove(key);
        Ok(current)
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.read().query(&query, now_epoch_seconds())
    }

    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_batch(&ops)?;
        let mut inner = self.write();
        inner.apply(ops);
        Ok(())
    }

    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        let now = now_epoch_seconds();
        let mut inner = self.write();
        let mut reasons = Vec::with_capacity(ops.len());
        let mut currents = Vec::with_capacity(ops.len());
        for op in &ops {
            let (key, condition) = match op {
                TransactOp::Put { item, condition } => (key_of(item).expect("checked"), condition.as_ref()),
                TransactOp::Update { key, condition, .. } | TransactOp::Delete { key, condition } => (key.clone(), condition.as_ref()),
                TransactOp::Check { key, condition } => (key.clone(), Some(condition)),
            };
            let current = inner.visible(&key, now).cloned();
            reasons.push(condition.is_some_and(|c| !condition_holds(current.as_ref(), c)));
            currents.push(current);
        }
        if reasons.iter().any(|r| *r) {
            return Err(StoreError::TransactionCancelled { reasons });
        }
        // Compute every new item first, so an invalid update leaves the table untouched.
        let mut writes = Vec::with_capacity(ops.len());
        for (op, current) in ops.into_iter().zip(currents) {
            match op {
                TransactOp::Put { item, .. } => writes.push(WriteOp::Put(item)),
                TransactOp::Update { key, update, .. } => writes.push(WriteOp::Put(apply_update(current, &key, &update)?)),
                TransactOp::Delete { key, .. } => writes.push(WriteOp::Delete(key)),
                TransactOp::Check { .. } => {}
            }
        }
        inner.apply(writes);
        Ok(())
    }
}
