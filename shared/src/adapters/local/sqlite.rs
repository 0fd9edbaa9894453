//! The table port on SQLite: one file, WAL journal, every write committed before it is
//! acknowledged. Several logical tables share one database, each row tagged with its table.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::Value;

use crate::domain::now_epoch_seconds;
use crate::ports::table::*;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    tbl  TEXT NOT NULL,
    pk   TEXT NOT NULL,
    sk   TEXT NOT NULL,
    g1pk TEXT,
    g1sk TEXT,
    ttl  INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (tbl, pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (tbl, g1pk, g1sk, pk, sk) WHERE g1pk IS NOT NULL AND g1sk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

/// One SQLite database shared by the local tables (and the event log).
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Arc<Self>, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        Self::init(conn)
    }

    pub fn in_memory() -> Result<Arc<Self>, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Arc<Self>, StoreError> {
        // WAL + NORMAL: a committed transaction survives a crash of the process (not of the OS).
        // EXCLUSIVE locking: one process owns the database (a second confer-local on the same
        // data directory fails to start instead of splitting live connections between two
        // gateways), and no file lock is taken per transaction.
        conn.execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=2000;
             PRAGMA wal_autocheckpoint=4000; PRAGMA temp_store=MEMORY;",
        )
        .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Arc::new(SqliteStore { conn: Mutex::new(conn) }))
    }

    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn table(self: &Arc<Self>, name: &'static str) -> SqliteTable {
        SqliteTable { store: self.clone(), name }
    }

    /// Deletes expired items (TTL), as DynamoDB does in the background.
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        self.lock().execute("DELETE FROM items WHERE ttl IS NOT NULL AND ttl <= ?1", [now_epoch_seconds()]).map_err(backend)
    }
}

#[derive(Clone)]
pub struct SqliteTable {
    store: Arc<SqliteStore>,
    name: &'static str,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn str_attr<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr).and_then(Value::as_str)
}

fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = char::from_u32(last as u32 + 1)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

fn condition_holds(current: Option<&Item>, condition: &Condition) -> bool {
    match condition {
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::Equals(attr, value) => current.and_then(|i| i.get(attr)) == Some(value),
        Condition::AbsentOrLessThan(attr, value) => match current.and_then(|i| i.get(attr)) {
            None => true,
            Some(Value::String(s)) => s.as_str() < value.as_str(),
            Some(_) => false,
        },
    }
}

pub(crate) fn apply_update(current: Option<Item>, key: &Key, update: &Update) -> Result<Item, StoreError> {
    let mut item = current.unwrap_or_default();
    item.insert(PK.into(), key.pk.clone().into());
    item.insert(SK.into(), key.sk.clone().into());
    for (k, v) in &update.set {
        if k == PK || k == SK {
            return Err(StoreError::Invalid("an update cannot change the key".into()));
        }
        item.insert(k.clone(), v.clone());
    }
    for k in &update.remove {
        item.remove(k);
    }
    for (k, by) in &update.add {
        let now = match item.get(k) {
            None => 0,
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| StoreError::Invalid(format!("{k} is not an integer")))?,
            Some(_) => return Err(StoreError::Invalid(format!("{k} is not a number"))),
        };
        item.insert(k.clone(), (now + by).into());
    }
    check_item(&item)?;
    Ok(item)
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

    fn write(tx: &Connection, table: &str, item: &Item) -> Result<(), StoreError> {
        let key = key_of(item).ok_or_else(|| StoreError::Invalid("item needs pk and sk".into()))?;
        let data = serde_json::to_string(item).map_err(backend)?;
        tx.prepare_cached(
            "INSERT INTO items (tbl, pk, sk, g1pk, g1sk, ttl, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (tbl, pk, sk) DO UPDATE SET g1pk=excluded.g1pk, g1sk=excluded.g1sk, ttl=excluded.ttl, data=excluded.data",
        )
        .and_then(|mut stmt| stmt.execute(rusqlite::params![
                table,
                key.pk,
                key.sk,
                str_attr(item, GSI1.pk_attr),
                str_attr(item, GSI1.sk_attr),
                item.get(TTL).and_then(Value::as_i64),
                data
            ]))
        .map_err(backend)?;
        Ok(())
    }

    fn remove(tx: &Connection, table: &str, key: &Key) -> Result<(), StoreError> {
        tx.prepare_cached("DELETE FROM items WHERE tbl=?1 AND pk=?2 AND sk=?3")
            .and_then(|mut stmt| stmt.execute([table, &key.pk, &key.sk]))
            .map_err(backend)?;
        Ok(())
    }

    fn begin(conn: &Connection) -> Result<Tx<'_>, StoreError> {
        conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])).map_err(backend)?;
        Ok(Tx { conn, done: false })
    }
}

/// A write transaction with cached BEGIN/COMMIT statements (re-parsing them costs more than
/// the writes); rolled back when dropped uncommitted.
struct Tx<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Tx<'_> {
    fn commit(mut self) -> Result<(), rusqlite::Error> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.done = true;
        Ok(())
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([])) {
                tracing::error!(error = %e, "rollback failed");
            }
        }
    }
}

/// The table operations proper; they block on SQLite (see [`blocking`]).
impl SqliteTable {
    fn get_now(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Self::read(&self.store.lock(), self.name, key)
    }

    fn put_now(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        check_item(&item)?;
        let key = key_of(&item).expect("checked");
        let conn = self.store.lock();
        let tx = Self::begin(&conn)?;
        if let Some(c) = &condition {
            if !condition_holds(Self::read(&tx, self.name, &key)?.as_ref(), c) {
                return Err(StoreError::ConditionFailed);
            }
        }
        Self::write(&tx, self.name, &item)?;
        tx.commit().map_err(backend)
    }

    fn update_now(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        let conn = self.store.lock();
        let tx = Self::begin(&conn)?;
        let current = Self::read(&tx, self.name, key)?;
        if let Some(c) = &condition {
            if !condition_holds(current.as_ref(), c) {
                return Err(StoreError::ConditionFailed);
            }
        }
        let item = apply_update(current, key, &update)?;
        Self::write(&tx, self.name, &item)?;
        tx.commit().map_err(backend)?;
        Ok(item)
    }

    fn delete_now(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        let conn = self.store.lock();
        let tx = Self::begin(&conn)?;
        let current = Self::read(&tx, self.name, key)?;
        if let Some(c) = &condition {
            if !condition_holds(current.as_ref(), c) {
                return Err(StoreError::ConditionFailed);
            }
        }
        Self::remove(&tx, self.name, key)?;
        tx.commit().map_err(backend)?;
        Ok(current)
    }

    fn query_now(&self, q: Query) -> Result<Page, StoreError> {
        let (pk_col, sk_col, order) = match q.index {
            None => ("pk", "sk", if q.forward { "sk ASC" } else { "sk DESC" }),
            Some(ix) if ix == GSI1 => {
                ("g1pk", "g1sk", if q.forward { "g1sk ASC, pk ASC, sk ASC" } else { "g1sk DESC, pk DESC, sk DESC" })
            }
            Some(ix) => return Err(StoreError::Invalid(format!("unknown index {}", ix.name))),
        };
        let mut sql = format!("SELECT data FROM items WHERE tbl = ? AND {pk_col} = ?");
        let mut args: Vec<rusqlite::types::Value> = vec![self.name.to_string().into(), q.pk.clone().into()];
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
            let get = |a: &str| {
                str_attr(start, a).map(str::to_string).ok_or_else(|| StoreError::Invalid(format!("start key lacks {a}")))
            };
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
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut items = Vec::new();
        for row in rows {
            items.push(serde_json::from_str::<Item>(&row.map_err(backend)?).map_err(backend)?);
        }
        let mut last_key = None;
        if let Some(limit) = q.limit {
            if items.len() > limit {
                items.truncate(limit);
                let last = items.last().expect("limit is positive");
                let mut key = Item::new();
                let mut attrs = vec![PK, SK];
                if let Some(ix) = q.index {
                    attrs.extend([ix.pk_attr, ix.sk_attr]);
                }
                for a in attrs {
                    if let Some(v) = last.get(a) {
                        key.insert(a.to_string(), v.clone());
                    }
                }
                last_key = Some(key);
            }
        }
        Ok(Page { items, last_key })
    }

    fn batch_write_now(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        check_batch(&ops)?;
        let conn = self.store.lock();
        let tx = Self::begin(&conn)?;
        for op in &ops {
            match op {
                WriteOp::Put(item) => Self::write(&tx, self.name, item)?,
                WriteOp::Delete(key) => Self::remove(&tx, self.name, key)?,
            }
        }
        tx.commit().map_err(backend)
    }

    fn transact_write_now(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        let conn = self.store.lock();
        let tx = Self::begin(&conn)?;
        let mut reasons = Vec::with_capacity(ops.len());
        let mut currents = Vec::with_capacity(ops.len());
        for op in &ops {
            let (key, condition) = match op {
                TransactOp::Put { item, condition } => (key_of(item).expect("checked"), condition.as_ref()),
                TransactOp::Update { key, condition, .. } | TransactOp::Delete { key, condition } => (key.clone(), condition.as_ref()),
                TransactOp::Check { key, condition } => (key.clone(), Some(condition)),
            };
            let current = Self::read(&tx, self.name, &key)?;
            reasons.push(condition.is_some_and(|c| !condition_holds(current.as_ref(), c)));
            currents.push(current);
        }
        if reasons.iter().any(|r| *r) {
            return Err(StoreError::TransactionCancelled { reasons });
        }
        for (op, current) in ops.iter().zip(currents) {
            match op {
                TransactOp::Put { item, .. } => Self::write(&tx, self.name, item)?,
                TransactOp::Update { key, update, .. } => Self::write(&tx, self.name, &apply_update(current, key, update)?)?,
                TransactOp::Delete { key, .. } => Self::remove(&tx, self.name, key)?,
                TransactOp::Check { .. } => {}
            }
        }
        tx.commit().map_err(backend)
    }
}

/// Runs SQLite work on a multi-threaded runtime without stalling the worker's other tasks: the
/// runtime hands them to another thread while this one waits for the connection.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        blocking(|| self.get_now(key))
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        blocking(|| self.put_now(item, condition))
    }
    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        blocking(|| self.update_now(key, update, condition))
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        blocking(|| self.delete_now(key, condition))
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        blocking(|| self.query_now(query))
    }
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        blocking(|| self.batch_write_now(ops))
    }
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        blocking(|| self.transact_write_now(ops))
    }
}
