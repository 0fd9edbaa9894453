//! Embedded backends: a durable SQLite table, an in-memory table for live-connection records,
//! in-process live connections, and a durable event log with signed, retried webhooks.

pub mod agents;
pub mod blobs;
pub mod connections;
pub mod event_log;
pub mod libretranslate;
pub mod memory;
pub mod page_cache;
pub mod pocketsphinx;
pub mod query_cache;
pub mod queue;
pub mod recorder;
mod rules;
pub mod search;
pub mod secrets;
pub mod sqlite;
pub mod video;
mod wal_writes;

pub use blobs::LocalBlobs;
pub use connections::LocalConnections;
pub use event_log::{LocalOutbox, SqliteEventLog, WebhookConfig};
pub use memory::MemoryTable;
pub use queue::LocalQueue;
pub use search::TantivySearch;
pub use sqlite::{SqliteStore, SqliteTable};
pub use video::LocalVideo;

use std::sync::Arc;

/// The ports of the local runtime over one SQLite store, wired as confer-local runs them.
pub struct LocalBackends {
    pub app: crate::App,
    pub connections: LocalConnections,
    /// Live-connection records (they end with the process, so they live in memory).
    pub connection_records: Arc<MemoryTable>,
    pub event_log: SqliteEventLog,
    /// The fan-out queue (and the schedules that send to it), in the store's database.
    pub queue: LocalQueue,
    /// The imports queue: recordings to fetch from the video apps.
    pub imports: LocalQueue,
}

impl LocalBackends {
    /// The local queue a consumer reads (by its template logical id).
    pub fn queue_named(queue: &LocalQueue, imports: &LocalQueue, name: &str) -> Option<LocalQueue> {
        [queue, imports].into_iter().find(|q| q.name() == name).cloned()
    }
}

pub fn assemble(store: &Arc<SqliteStore>) -> Result<LocalBackends, crate::ports::events::PublishError> {
    let event_log = SqliteEventLog::new(store.clone())?;
    let connections = LocalConnections::new();
    let connection_records = Arc::new(MemoryTable::new());
    let table = store.table(sqlite::MAIN_TABLE);
    let outbox = event_log.outbox(table.clone())?;
    let queue = LocalQueue::open(store.clone(), crate::inbound::announcements::FANOUT_QUEUE)
        .map_err(|e| crate::ports::events::PublishError(e.to_string()))?;
    let imports = LocalQueue::open(store.clone(), crate::inbound::imports::IMPORTS_QUEUE)
        .map_err(|e| crate::ports::events::PublishError(e.to_string()))?;
    let app = crate::App {
        table: Arc::new(table.clone()),
        connections_table: connection_records.clone(),
        gateway: Arc::new(connections.clone()),
        events: Arc::new(event_log.clone()),
        event_log: Arc::new(event_log.clone()),
        outbox: Some(Arc::new(outbox)),
        // Object storage lives in a folder the caller chooses (see `LocalBlobs::open`).
        blobs: Arc::new(crate::ports::blobs::NoBlobs),
        tokens: Arc::new(crate::ports::identity::NoIdentity),
        agents: Arc::new(crate::ports::identity::NoIdentity),
        video: Arc::new(video::LocalVideo::default()),
        queue: Arc::new(queue.clone()),
        scheduler: Arc::new(queue.clone()),
        imports: Arc::new(imports.clone()),
        // Recordings, speech and translation are configured by the caller (confer-local's options).
        ..crate::App::without_backends()
    };
    Ok(LocalBackends { app, connections, connection_records, event_log, queue, imports })
}
