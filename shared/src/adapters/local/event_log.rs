//! Local events: every event is appended to a durable log in SQLite (readable with a cursor)
//! and delivered to configured webhooks from that log, signed and retried with backoff, each
//! webhook's position stored, so nothing is lost while a subscriber is down or Confer restarts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use super::sqlite::{SqliteStore, SqliteTable};
use crate::events::EventEnvelope;
use crate::ports::events::{EventLog, EventPublisher, LoggedEvent, PublishError, TransactWithEvents};
use crate::ports::table::{StoreError, TransactOp};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    id     TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    type   TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant, seq);
CREATE TABLE IF NOT EXISTS webhook_positions (
    url TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
";

/// Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "confer-signature";
pub const EVENT_ID_HEADER: &str = "confer-event-id";
pub const EVENT_TYPE_HEADER: &str = "confer-event-type";

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: String,
}

#[derive(Clone)]
pub struct SqliteEventLog {
    store: Arc<SqliteStore>,
    appended: Arc<Notify>,
}

impl SqliteEventLog {
    pub fn new(store: Arc<SqliteStore>) -> Result<Self, PublishError> {
        store.write_blocking(|conn| conn.execute_batch(SCHEMA).map_err(|e| StoreError::Backend(e.to_string()))).map_err(err)?;
        Ok(SqliteEventLog { store, appended: Arc::new(Notify::new()) })
    }

    /// Events after `after` for every tenant (webhook delivery reads the whole log).
    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, PublishError> {
        self.select("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2", vec![(after as i64).into(), (limit as i64).into()])
            .await
    }

    async fn select(&self, sql: &'static str, params: Vec<rusqlite::types::Value>) -> Result<Vec<LoggedEvent>, PublishError> {
        let rows = self
            .store
            .read(move |conn| -> Result<Vec<(i64, String)>, rusqlite::Error> {
                let mut stmt = conn.prepare_cached(sql)?;
                let rows =
                    stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
                rows.collect()
            })
            .await
            .map_err(err)?
            .map_err(err)?;
        rows.into_iter().map(|(seq, body)| Ok(LoggedEvent { seq: seq as u64, event: serde_json::from_str(&body).map_err(err)? })).collect()
    }

    async fn position(&self, url: &str) -> Result<u64, PublishError> {
        let url = url.to_string();
        self.store
            .write(move |conn| {
                use rusqlite::OptionalExtension;
                let known: Option<i64> =
                    conn.query_row("SELECT seq FROM webhook_positions WHERE url = ?1", [&url], |r| r.get(0)).optional().map_err(backend)?;
                if let Some(seq) = known {
                    return Ok(seq as u64);
                }
                // A new webhook starts at the end of the log: it receives events from now on.
                let end: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0)).map_err(backend)?;
                conn.execute("INSERT INTO webhook_positions (url, seq) VALUES (?1, ?2)", rusqlite::params![url, end]).map_err(backend)?;
                Ok(end as u64)
            })
            .await
            .map_err(err)
    }

    async fn advance(&self, url: &str, seq: u64) -> Result<(), PublishError> {
        let url = url.to_string();
        self.store
            .write(move |conn| {
                conn.prepare_cached("UPDATE webhook_positions SET seq = ?2 WHERE url = ?1 AND seq < ?2")
                    .and_then(|mut s| s.execute(rusqlite::params![url, seq as i64]))
                    .map(|_| ())
                    .map_err(backend)
            })
            .await
            .map_err(err)
    }

    /// Starts one delivery task per webhook. Each delivers in log order, one event at a time,
    /// retrying a failed delivery with exponential backoff (capped at `max_backoff`).
    /// The tasks end when `stop` turns true: between deliveries, or while waiting — never
    /// between a delivery and the saving of its position, so a clean stop repeats nothing.
    pub fn spawn_webhooks(
        &self,
        hooks: Vec<WebhookConfig>,
        max_backoff: Duration,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        hooks
            .into_iter()
            .map(|hook| {
                let log = self.clone();
                let http = http.clone();
                let stop = stop.clone();
                tokio::spawn(async move { log.deliver_until_stopped(hook, http, max_backoff, stop).await })
            })
            .collect()
    }

    async fn deliver_until_stopped(
        &self,
        hook: WebhookConfig,
        http: reqwest::Client,
        max_backoff: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let stopped = |stop: &tokio::sync::watch::Receiver<bool>| *stop.borrow();
        let mut position = loop {
            match self.position(&hook.url).await {
                Ok(p) => {
                    tracing::info!(url = %hook.url, after_seq = p, "webhook delivery resumes after its stored position");
                    break p;
                }
                Err(e) => {
                    tracing::error!(error = %e, "webhook position unreadable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        while !stopped(&stop) {
            let notified = self.appended.notified();
            let batch = self.read_all(position, 100).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "event log unreadable");
                Vec::new()
            });
            if batch.is_empty() {
                // Wake on the next append, or poll now and then in case another process appended.
                tokio::select! {
                    _ = tokio::time::timeout(Duration::from_secs(5), notified) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
                continue;
            }
            for logged in batch {
                if stopped(&stop) {
                    return;
                }
                let mut backoff = Duration::from_millis(200);
                while let Err(e) = send_signed(&http, &hook, &logged.event).await {
                    tracing::warn!(url = %hook.url, seq = logged.seq, error = %e, retry_in_ms = backoff.as_millis() as u64, "webhook delivery failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|s| *s) => return,
                    }
                    backoff = (backoff * 2).min(max_backoff);
                }
                position = logged.seq;
                if let Err(e) = self.advance(&hook.url, position).await {
                    tracing::error!(error = %e, "webhook position not saved");
                }
            }
        }
    }
}

/// Signature of a webhook body: hex HMAC-SHA256 over `"<timestamp>.<body>"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a `confer-signature` header value against the body (for receivers, and tests).
pub fn verify_signature(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    match (t, v1) {
        (Some(t), Some(v1)) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(t.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            let expected: Vec<u8> = (0..v1.len() / 2).filter_map(|i| u8::from_str_radix(v1.get(2 * i..2 * i + 2)?, 16).ok()).collect();
            mac.verify_slice(&expected).is_ok()
        }
        _ => false,
    }
}

async fn send_signed(http: &reqwest::Client, hook: &WebhookConfig, event: &serde_json::Value) -> Result<(), String> {
    let body = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let t = crate::domain::now_epoch_seconds();
    let signature = format!("t={t},v1={}", sign(&hook.secret, t, &body));
    let str_field = |k: &str| event.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let response = http
        .post(&hook.url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_ID_HEADER, str_field("id"))
        .header(EVENT_TYPE_HEADER, str_field("type"))
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("status {}", response.status()))
    }
}

fn err(e: impl std::fmt::Display) -> PublishError {
    PublishError(e.to_string())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

#[async_trait]
impl EventPublisher for SqliteEventLog {
    /// Appends the event and returns once it is committed (the store commits events published
    /// at the same moment together); an event id already in the log is not appended twice.
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let row = Appended::of(event)?;
        self.store.write(move |conn| row.append(conn)).await.map_err(err)?;
        self.appended.notify_waiters();
        Ok(())
    }
}

/// An event ready to be appended to the log.
struct Appended {
    id: String,
    tenant: String,
    event_type: String,
    body: String,
}

impl Appended {
    fn of(event: &EventEnvelope) -> Result<Self, PublishError> {
        Ok(Appended {
            id: event.id.clone(),
            tenant: event.tenant.clone(),
            event_type: event.event_type.clone(),
            body: serde_json::to_string(event).map_err(err)?,
        })
    }

    /// An id already in the log is not appended again.
    fn append(&self, conn: &rusqlite::Connection) -> Result<(), StoreError> {
        conn.prepare_cached("INSERT OR IGNORE INTO events (id, tenant, type, body) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(rusqlite::params![self.id, self.tenant, self.event_type, self.body]))
            .map(|_| ())
            .map_err(backend)
    }
}

impl SqliteEventLog {
    /// Writes to `table` that append their events to this log in the same transaction. The
    /// table must live in this log's database (as `assemble` builds them).
    pub fn outbox(&self, table: SqliteTable) -> Result<LocalOutbox, PublishError> {
        if !table.same_store(&self.store) {
            return Err(PublishError("an outbox needs its table and the event log in one database".into()));
        }
        Ok(LocalOutbox { table, log: self.clone() })
    }
}

/// A table and the event log in one SQLite database: a write and its events commit together.
pub struct LocalOutbox {
    table: SqliteTable,
    log: SqliteEventLog,
}

#[async_trait]
impl TransactWithEvents for LocalOutbox {
    async fn transact_write_with_events(&self, ops: Vec<TransactOp>, events: Vec<EventEnvelope>) -> Result<(), StoreError> {
        let rows = events.iter().map(Appended::of).collect::<Result<Vec<_>, _>>().map_err(|e| StoreError::Backend(e.0))?;
        self.table.transact_write_then(ops, move |conn| rows.iter().try_for_each(|row| row.append(conn))).await?;
        self.log.appended.notify_waiters();
        Ok(())
    }
}

#[async_trait]
impl EventLog for SqliteEventLog {
    async fn read(&self, tenant: &str, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, crate::ports::events::EventLogError> {
        self.select(
            "SELECT seq, body FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            vec![tenant.to_string().into(), (after as i64).into(), (limit as i64).into()],
        )
        .await
        .map_err(|e| crate::ports::events::EventLogError::Backend(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;
    use crate::ports::table::{Condition, Item, Key, Table};

    fn item(sk: &str) -> Item {
        let mut item = Item::new();
        item.insert("pk".into(), "T#acme#S#s1".into());
        item.insert("sk".into(), sk.into());
        item
    }

    fn event(id: &str) -> EventEnvelope {
        EventEnvelope::new("message.created", &TenantId::parse("acme").unwrap(), id.into(), serde_json::json!({ "n": 1 }))
    }

    async fn ids(log: &SqliteEventLog) -> Vec<String> {
        log.read("acme", 0, 100).await.unwrap().into_iter().map(|e| e.event["id"].as_str().unwrap_or_default().to_string()).collect()
    }

    #[tokio::test]
    async fn an_outbox_write_commits_its_items_and_events_together_or_neither() {
        let store = SqliteStore::in_memory().unwrap();
        let log = SqliteEventLog::new(store.clone()).unwrap();
        let table = store.table("main");
        let outbox = log.outbox(table.clone()).unwrap();
        let put = |sk: &str| TransactOp::Put { item: item(sk), condition: Some(Condition::NotExists) };

        outbox.transact_write_with_events(vec![put("M#1"), put("CMID#a")], vec![event("m1:created")]).await.unwrap();
        assert!(table.get(&Key::new("T#acme#S#s1", "M#1")).await.unwrap().is_some());
        assert_eq!(ids(&log).await, ["m1:created"]);

        // A failing condition: no item and no event.
        let failed = outbox.transact_write_with_events(vec![put("M#2"), put("CMID#a")], vec![event("m2:created")]).await;
        assert!(matches!(failed, Err(StoreError::TransactionCancelled { ref reasons }) if reasons == &[false, true]), "{failed:?}");
        assert!(table.get(&Key::new("T#acme#S#s1", "M#2")).await.unwrap().is_none());
        assert_eq!(ids(&log).await, ["m1:created"]);

        // An event id already logged is not appended twice; the items still commit.
        outbox.transact_write_with_events(vec![put("M#3")], vec![event("m1:created")]).await.unwrap();
        assert!(table.get(&Key::new("T#acme#S#s1", "M#3")).await.unwrap().is_some());
        assert_eq!(ids(&log).await, ["m1:created"]);
    }

    #[test]
    fn an_outbox_refuses_a_table_in_another_database() {
        let log = SqliteEventLog::new(SqliteStore::in_memory().unwrap()).unwrap();
        let elsewhere = SqliteStore::in_memory().unwrap().table("main");
        assert!(log.outbox(elsewhere).is_err());
    }

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let sig = format!("t=100,v1={}", sign("s3cret", 100, b"{\"a\":1}"));
        assert!(verify_signature("s3cret", &sig, b"{\"a\":1}"));
        assert!(!verify_signature("s3cret", &sig, b"{\"a\":2}"));
        assert!(!verify_signature("other", &sig, b"{\"a\":1}"));
        assert!(!verify_signature("s3cret", "garbage", b"{\"a\":1}"));
    }
}
