//! The local work queue: SQS's semantics over the store's SQLite database, so queued work and
//! schedules survive a restart. A received message is hidden for a while (the visibility
//! timeout) and deleted once handled; one received too often moves to the dead-letter table.
//! A schedule is a message that stays hidden until its time. confer-local's worker
//! (`infra/src/queue_worker.rs`) feeds the consumers the SQS events Lambda would.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use tokio::sync::Notify;

use super::sqlite::SqliteStore;
use crate::ports::queue::{QueueError, QueueMessage, Scheduler, WorkQueue, MAX_MESSAGE_BYTES};
use crate::ports::table::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    queue             TEXT NOT NULL,
    id                TEXT NOT NULL,
    body              TEXT NOT NULL,
    sent_at           INTEGER NOT NULL,
    visible_at        INTEGER NOT NULL,
    receives          INTEGER NOT NULL DEFAULT 0,
    first_received_at INTEGER,
    schedule          TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at);
CREATE UNIQUE INDEX IF NOT EXISTS queue_messages_schedule ON queue_messages (queue, schedule) WHERE schedule IS NOT NULL;
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    seq       INTEGER PRIMARY KEY,
    queue     TEXT NOT NULL,
    id        TEXT NOT NULL,
    body      TEXT NOT NULL,
    sent_at   INTEGER NOT NULL,
    receives  INTEGER NOT NULL,
    failed_at INTEGER NOT NULL
);
";

/// A message as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The receipt: what deletes or releases it.
    pub seq: i64,
    pub id: String,
    pub body: String,
    /// Epoch milliseconds.
    pub sent_at: i64,
    pub first_received_at: i64,
    pub receives: u32,
}

#[derive(Clone)]
pub struct LocalQueue {
    store: Arc<SqliteStore>,
    queue: &'static str,
    arrived: Arc<Notify>,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn queue_error(e: StoreError) -> QueueError {
    QueueError::Backend(e.to_string())
}

impl LocalQueue {
    /// The queue named `queue` (its template logical id) in the store's database.
    pub fn open(store: Arc<SqliteStore>, queue: &'static str) -> Result<Self, StoreError> {
        store.write_blocking(|conn| conn.execute_batch(SCHEMA).map_err(backend))?;
        Ok(LocalQueue { store, queue, arrived: Arc::new(Notify::new()) })
    }

    pub fn name(&self) -> &'static str {
        self.queue
    }

    /// Woken when a message is sent (a worker waits on it when the queue is empty).
    pub fn arrivals(&self) -> Arc<Notify> {
        self.arrived.clone()
    }

    async fn insert(&self, messages: Vec<QueueMessage>, visible_at: i64, schedule: Option<String>) -> Result<(), QueueError> {
        if let Some(m) = messages.iter().find(|m| m.body.len() > MAX_MESSAGE_BYTES) {
            return Err(QueueError::Backend(format!(
                "message {} has {} bytes; a queue message takes {MAX_MESSAGE_BYTES}",
                m.id,
                m.body.len()
            )));
        }
        let queue = self.queue;
        self.store
            .write(move |conn| {
                let now = now_ms();
                let mut stmt = conn
                    .prepare_cached(
                        "INSERT INTO queue_messages (queue, id, body, sent_at, visible_at, schedule) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT DO NOTHING",
                    )
                    .map_err(backend)?;
                for m in &messages {
                    let visible_at = visible_at.max(now + i64::from(m.delay_seconds) * 1000);
                    stmt.execute(rusqlite::params![queue, m.id, m.body, now, visible_at, schedule]).map_err(backend)?;
                }
                Ok(())
            })
            .await
            .map_err(queue_error)?;
        self.arrived.notify_waiters();
        self.arrived.notify_one();
        Ok(())
    }

    /// Up to `max` visible messages, hidden for `visibility_ms` from now. Messages already
    /// received `max_receives` times move to the dead-letter table instead.
    pub async fn receive(&self, max: usize, visibility_ms: i64, max_receives: u32) -> Result<Vec<Received>, StoreError> {
        let queue = self.queue;
        self.store
            .write(move |conn| {
                let now = now_ms();
                let rows: Vec<(i64, String, String, i64, u32, Option<i64>)> = {
                    let mut stmt = conn
                        .prepare_cached(
                            "SELECT seq, id, body, sent_at, receives, first_received_at FROM queue_messages
                             WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq LIMIT ?3",
                        )
                        .map_err(backend)?;
                    let rows = stmt
                        .query_map(rusqlite::params![queue, now, max as i64], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                        })
                        .map_err(backend)?;
                    rows.collect::<Result<_, _>>().map_err(backend)?
                };
                let mut out = Vec::with_capacity(rows.len());
                for (seq, id, body, sent_at, receives, first) in rows {
                    if receives >= max_receives {
                        conn.prepare_cached(
                            "INSERT OR REPLACE INTO queue_dead_letters (seq, queue, id, body, sent_at, receives, failed_at)
                             SELECT seq, queue, id, body, sent_at, receives, ?2 FROM queue_messages WHERE seq = ?1",
                        )
                        .and_then(|mut s| s.execute(rusqlite::params![seq, now]))
                        .map_err(backend)?;
                        conn.prepare_cached("DELETE FROM queue_messages WHERE seq = ?1")
                            .and_then(|mut s| s.execute([seq]))
                            .map_err(backend)?;
                        tracing::error!(queue, message_id = %id, receives, "message moved to the dead-letter table");
                        continue;
                    }
                    let first = first.unwrap_or(now);
                    conn.prepare_cached(
                        "UPDATE queue_messages SET visible_at = ?2, receives = receives + 1, first_received_at = ?3 WHERE seq = ?1",
                    )
                    .and_then(|mut s| s.execute(rusqlite::params![seq, now + visibility_ms, first]))
                    .map_err(backend)?;
                    out.push(Received { seq, id, body, sent_at, first_received_at: first, receives: receives + 1 });
                }
                Ok(out)
            })
            .await
    }

    /// Deletes handled messages.
    pub async fn delete(&self, receipts: Vec<i64>) -> Result<(), StoreError> {
        if receipts.is_empty() {
            return Ok(());
        }
        self.store
            .write(move |conn| {
                let mut stmt = conn.prepare_cached("DELETE FROM queue_messages WHERE seq = ?1").map_err(backend)?;
                for seq in receipts {
                    stmt.execute([seq]).map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    /// Makes a failed message visible again after `delay_ms` (sooner than its visibility timeout).
    pub async fn release(&self, receipt: i64, delay_ms: i64) -> Result<(), StoreError> {
        self.store
            .write(move |conn| {
                conn.prepare_cached("UPDATE queue_messages SET visible_at = ?2 WHERE seq = ?1")
                    .and_then(|mut s| s.execute(rusqlite::params![receipt, now_ms() + delay_ms]))
                    .map(|_| ())
                    .map_err(backend)
            })
            .await
    }

    /// Makes the messages a stopped process had received visible at once (nobody handles them now).
    pub async fn recover_in_flight(&self) -> Result<(), StoreError> {
        let queue = self.queue;
        self.store
            .write(move |conn| {
                conn.prepare_cached("UPDATE queue_messages SET visible_at = ?2 WHERE queue = ?1 AND receives > 0 AND visible_at > ?2")
                    .and_then(|mut s| s.execute(rusqlite::params![queue, now_ms()]))
                    .map(|_| ())
                    .map_err(backend)
            })
            .await
    }

    /// When the next hidden message becomes visible (epoch ms), if any is waiting.
    pub async fn next_visible_at(&self) -> Result<Option<i64>, StoreError> {
        let queue = self.queue;
        self.store
            .read(move |conn| {
                conn.query_row("SELECT MIN(visible_at) FROM queue_messages WHERE queue = ?1", [queue], |r| r.get::<_, Option<i64>>(0))
                    .optional()
                    .map(Option::flatten)
            })
            .await?
            .map_err(backend)
    }

    /// Messages waiting (visible or not) and messages in the dead-letter table.
    pub async fn depth(&self) -> Result<(u64, u64), StoreError> {
        let queue = self.queue;
        self.store
            .read(move |conn| -> rusqlite::Result<(u64, u64)> {
                let waiting: i64 = conn.query_row("SELECT COUNT(*) FROM queue_messages WHERE queue = ?1", [queue], |r| r.get(0))?;
                let dead: i64 = conn.query_row("SELECT COUNT(*) FROM queue_dead_letters WHERE queue = ?1", [queue], |r| r.get(0))?;
                Ok((waiting as u64, dead as u64))
            })
            .await?
            .map_err(backend)
    }
}

#[async_trait]
impl WorkQueue for LocalQueue {
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        self.insert(messages, 0, None).await
    }
}

#[async_trait]
impl Scheduler for LocalQueue {
    async fn schedule(&self, name: &str, at: time::OffsetDateTime, message: QueueMessage) -> Result<(), QueueError> {
        let at_ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
        self.insert(vec![message], at_ms, Some(name.to_string())).await
    }

    async fn cancel(&self, name: &str) -> Result<(), QueueError> {
        let (queue, name) = (self.queue, name.to_string());
        self.store
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND schedule = ?2 AND receives = 0")
                    .and_then(|mut s| s.execute(rusqlite::params![queue, name]))
                    .map(|_| ())
                    .map_err(backend)
            })
            .await
            .map_err(queue_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str) -> QueueMessage {
        QueueMessage::new(id, format!("{{\"n\":\"{id}\"}}"))
    }

    #[tokio::test]
    async fn messages_hide_while_received_and_go_when_deleted() {
        let q = LocalQueue::open(SqliteStore::in_memory().unwrap(), "Q").unwrap();
        q.send(vec![message("a"), message("b")]).await.unwrap();
        let got = q.receive(10, 60_000, 5).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(q.receive(10, 60_000, 5).await.unwrap().is_empty(), "hidden while being handled");
        q.delete(vec![got[0].seq]).await.unwrap();
        q.release(got[1].seq, 0).await.unwrap();
        let again = q.receive(10, 60_000, 5).await.unwrap();
        assert_eq!((again.len(), again[0].id.as_str(), again[0].receives), (1, "b", 2));
        assert_eq!(again[0].first_received_at, got[1].first_received_at);
    }

    #[tokio::test]
    async fn a_message_received_too_often_is_dead_lettered() {
        let q = LocalQueue::open(SqliteStore::in_memory().unwrap(), "Q").unwrap();
        q.send(vec![message("poison")]).await.unwrap();
        for _ in 0..3 {
            let got = q.receive(1, 60_000, 3).await.unwrap();
            assert_eq!(got.len(), 1);
            q.release(got[0].seq, 0).await.unwrap();
        }
        assert!(q.receive(1, 60_000, 3).await.unwrap().is_empty());
        assert_eq!(q.depth().await.unwrap(), (0, 1));
    }

    #[tokio::test]
    async fn schedules_wait_for_their_time_and_can_be_cancelled() {
        let q = LocalQueue::open(SqliteStore::in_memory().unwrap(), "Q").unwrap();
        let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        q.schedule("s1", later, message("later")).await.unwrap();
        q.schedule("s1", later, message("later")).await.unwrap();
        q.schedule("s2", time::OffsetDateTime::now_utc() - time::Duration::seconds(5), message("due")).await.unwrap();
        assert_eq!(q.depth().await.unwrap(), (2, 0), "a name is scheduled once");
        let got = q.receive(10, 60_000, 5).await.unwrap();
        assert_eq!(got.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["due"]);
        q.delete(vec![got[0].seq]).await.unwrap();
        let next = q.next_visible_at().await.unwrap().unwrap();
        assert!(next >= (later.unix_timestamp() - 1) * 1000, "the schedule is the next to show");
        q.cancel("s1").await.unwrap();
        q.cancel("unknown").await.unwrap();
        assert_eq!(q.depth().await.unwrap(), (0, 0));
    }
}
