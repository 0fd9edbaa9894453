//! Local events: every event is appended to a durable log in SQLite (readable with a cursor)
//! and delivered to configured webhooks from that log, signed and retried with backoff, each
//! webhook's position stored, so nothing is lost while a subscriber is down or Confer restarts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use super::sqlite::SqliteStore;
use crate::events::EventEnvelope;
use crate::ports::events::{EventLog, EventPublisher, LoggedEvent, PublishError};

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
    appender: std::sync::mpsc::Sender<Append>,
}

/// One event waiting for the appender, and who to tell once it is committed.
struct Append {
    id: String,
    tenant: String,
    event_type: String,
    body: String,
    committed: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Largest number of events committed in one transaction.
const MAX_GROUP: usize = 512;

impl SqliteEventLog {
    pub fn new(store: Arc<SqliteStore>) -> Result<Self, PublishError> {
        store.lock().execute_batch(SCHEMA).map_err(|e| PublishError(e.to_string()))?;
        let appended = Arc::new(Notify::new());
        let (appender, queue) = std::sync::mpsc::channel();
        let (writer_store, writer_notify) = (store.clone(), appended.clone());
        std::thread::Builder::new()
            .name("confer-event-log".into())
            .spawn(move || append_in_groups(&writer_store, &queue, &writer_notify))
            .map_err(|e| PublishError(e.to_string()))?;
        Ok(SqliteEventLog { store, appended, appender })
    }

    /// Events after `after` for every tenant (webhook delivery reads the whole log).
    fn read_all(&self, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, PublishError> {
        self.select("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2", rusqlite::params![after as i64, limit as i64])
    }

    fn select(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<LoggedEvent>, PublishError> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(err)?;
        let rows = stmt
            .query_map(params, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, body) = row.map_err(err)?;
            out.push(LoggedEvent { seq: seq as u64, event: serde_json::from_str(&body).map_err(err)? });
        }
        Ok(out)
    }

    fn position(&self, url: &str) -> Result<u64, PublishError> {
        use rusqlite::OptionalExtension;
        let seq: Option<i64> = self
            .store
            .lock()
            .query_row("SELECT seq FROM webhook_positions WHERE url = ?1", [url], |r| r.get(0))
            .optional()
            .map_err(err)?;
        match seq {
            Some(s) => Ok(s as u64),
            // A new webhook starts at the end of the log: it receives events from now on.
            None => {
                let conn = self.store.lock();
                let end: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0)).map_err(err)?;
                conn.execute("INSERT OR IGNORE INTO webhook_positions (url, seq) VALUES (?1, ?2)", rusqlite::params![url, end]).map_err(err)?;
                Ok(end as u64)
            }
        }
    }

    fn advance(&self, url: &str, seq: u64) -> Result<(), PublishError> {
        self.store
            .lock()
            .execute("UPDATE webhook_positions SET seq = ?2 WHERE url = ?1 AND seq < ?2", rusqlite::params![url, seq as i64])
            .map_err(err)?;
        Ok(())
    }

    /// Starts one delivery task per webhook. Each delivers in log order, one event at a time,
    /// retrying a failed delivery with exponential backoff (capped at `max_backoff`).
    pub fn spawn_webhooks(&self, hooks: Vec<WebhookConfig>, max_backoff: Duration) -> Vec<tokio::task::JoinHandle<()>> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        hooks
            .into_iter()
            .map(|hook| {
                let log = self.clone();
                let http = http.clone();
                tokio::spawn(async move { log.deliver_forever(hook, http, max_backoff).await })
            })
            .collect()
    }

    async fn deliver_forever(&self, hook: WebhookConfig, http: reqwest::Client, max_backoff: Duration) {
        let mut position = loop {
            match self.position(&hook.url) {
                Ok(p) => break p,
                Err(e) => {
                    tracing::error!(error = %e, "webhook position unreadable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            let notified = self.appended.notified();
            let batch = self.read_all(position, 100).unwrap_or_else(|e| {
                tracing::error!(error = %e, "event log unreadable");
                Vec::new()
            });
            if batch.is_empty() {
                // Wake on the next append, or poll now and then in case another process appended.
                let _ = tokio::time::timeout(Duration::from_secs(5), notified).await;
                continue;
            }
            for logged in batch {
                let mut backoff = Duration::from_millis(200);
                while let Err(e) = send_signed(&http, &hook, &logged.event).await {
                    tracing::warn!(url = %hook.url, seq = logged.seq, error = %e, retry_in_ms = backoff.as_millis() as u64, "webhook delivery failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(max_backoff);
                }
                position = logged.seq;
                if let Err(e) = self.advance(&hook.url, position) {
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

/// Group commit: events published at the same moment share one transaction, so appending
/// costs one WAL commit per group rather than per event. `publish` still returns only after
/// its event is committed. The thread ends when every publisher is gone.
fn append_in_groups(store: &SqliteStore, queue: &std::sync::mpsc::Receiver<Append>, appended: &Notify) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let result = {
            let conn = store.lock();
            let write = || -> Result<(), rusqlite::Error> {
                conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
                let inserted = (|| {
                    let mut stmt = conn.prepare_cached("INSERT OR IGNORE INTO events (id, tenant, type, body) VALUES (?1, ?2, ?3, ?4)")?;
                    for a in &group {
                        stmt.execute(rusqlite::params![a.id, a.tenant, a.event_type, a.body])?;
                    }
                    Ok(())
                })();
                match inserted {
                    Ok(()) => conn.prepare_cached("COMMIT")?.execute([]).map(|_| ()),
                    Err(e) => {
                        let _ = conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
                        Err(e)
                    }
                }
            };
            write().map_err(|e| e.to_string())
        };
        for a in group {
            let _ = a.committed.send(result.clone());
        }
        appended.notify_waiters();
    }
}

fn err(e: impl std::fmt::Display) -> PublishError {
    PublishError(e.to_string())
}

#[async_trait]
impl EventPublisher for SqliteEventLog {
    /// Appends the event; an event id already in the log is not appended twice.
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let body = serde_json::to_string(event).map_err(err)?;
        let (committed, done) = tokio::sync::oneshot::channel();
        self.appender
            .send(Append { id: event.id.clone(), tenant: event.tenant.clone(), event_type: event.event_type.clone(), body, committed })
            .map_err(|_| PublishError("event log is closed".into()))?;
        done.await.map_err(|_| PublishError("event log stopped".into()))?.map_err(PublishError)
    }
}

#[async_trait]
impl EventLog for SqliteEventLog {
    async fn read(&self, tenant: &str, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, PublishError> {
        self.select(
            "SELECT seq, body FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            rusqlite::params![tenant, after as i64, limit as i64],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let sig = format!("t=100,v1={}", sign("s3cret", 100, b"{\"a\":1}"));
        assert!(verify_signature("s3cret", &sig, b"{\"a\":1}"));
        assert!(!verify_signature("s3cret", &sig, b"{\"a\":2}"));
        assert!(!verify_signature("other", &sig, b"{\"a\":1}"));
        assert!(!verify_signature("s3cret", "garbage", b"{\"a\":1}"));
    }
}
