//! Embedded backends: a durable SQLite table, in-process live connections, and a durable event
//! log with signed, retried webhooks.

pub mod connections;
pub mod event_log;
pub mod sqlite;

pub use connections::LocalConnections;
pub use event_log::{SqliteEventLog, WebhookConfig};
pub use sqlite::{SqliteStore, SqliteTable};
