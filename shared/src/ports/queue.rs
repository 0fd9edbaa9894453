//! Work that goes through a queue (SQS in the cloud; a durable queue in the local store), and
//! work set for a later time (EventBridge Scheduler in the cloud; the same local queue, whose
//! messages may wait until a time). Consumers are in `inbound::CONSUMERS`.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    /// This deployment has no such queue (a function without the capability).
    #[error("no work queue here")]
    NotAvailable,
    #[error("queue: {0}")]
    Backend(String),
}

/// One message: a stable id (a repeated send of the same work carries the same id), its body, and
/// how long it stays invisible after it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub id: String,
    pub body: String,
    /// Seconds before consumers see it, at most [`MAX_DELAY_SECONDS`] (SQS's per-message delay).
    pub delay_seconds: u32,
}

impl QueueMessage {
    pub fn new(id: impl Into<String>, body: impl Into<String>) -> Self {
        QueueMessage { id: id.into(), body: body.into(), delay_seconds: 0 }
    }

    /// The same message, hidden for `seconds` (capped at [`MAX_DELAY_SECONDS`]).
    pub fn delayed(mut self, seconds: u32) -> Self {
        self.delay_seconds = seconds.min(MAX_DELAY_SECONDS);
        self
    }
}

/// Largest body a queue message may have (SQS: 256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Longest a message may be delayed (SQS: 15 minutes).
pub const MAX_DELAY_SECONDS: u32 = 900;
/// A time closer than this is not worth a schedule (EventBridge Scheduler fires within the minute
/// of its time): the message goes to the queue delayed until then instead.
pub const MIN_SCHEDULE_LEAD_SECONDS: i64 = 120;

#[async_trait]
pub trait WorkQueue: Send + Sync + 'static {
    /// Sends every message; consumers get each at least once.
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError>;
}

#[async_trait]
pub trait Scheduler: Send + Sync + 'static {
    /// Delivers `message` to the work queue at `at` (or at once when `at` has passed). Setting
    /// the same name again replaces nothing: the name is the schedule's identity.
    async fn schedule(&self, name: &str, at: time::OffsetDateTime, message: QueueMessage) -> Result<(), QueueError>;
    /// Removes a schedule that has not fired; an unknown name is not an error.
    async fn cancel(&self, name: &str) -> Result<(), QueueError>;
}

pub struct NoQueue;

#[async_trait]
impl WorkQueue for NoQueue {
    async fn send(&self, _: Vec<QueueMessage>) -> Result<(), QueueError> {
        Err(QueueError::NotAvailable)
    }
}

#[async_trait]
impl Scheduler for NoQueue {
    async fn schedule(&self, _: &str, _: time::OffsetDateTime, _: QueueMessage) -> Result<(), QueueError> {
        Err(QueueError::NotAvailable)
    }
    async fn cancel(&self, _: &str) -> Result<(), QueueError> {
        Err(QueueError::NotAvailable)
    }
}
