//! Ports: the traits use cases depend on. Every port has an embedded adapter (`adapters::local`)
//! and a cloud adapter (`adapters::aws`).

pub mod blobs;
pub mod connections;
pub mod events;
pub mod identity;
pub mod meetings;
pub mod queue;
pub mod recorder;
pub mod search;
pub mod secrets;
pub mod table;
pub mod transcriber;
pub mod transcription;
pub mod translator;
pub mod video;

pub use blobs::{BlobError, BlobStore};
pub use connections::{ConnectionGateway, PostError};
pub use events::{EventLog, EventPublisher, TransactWithEvents};
pub use queue::{QueueError, QueueMessage, Scheduler, WorkQueue};
pub use table::Table;
