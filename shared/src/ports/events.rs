//! Integration events: published for integrators (SNS in the cloud, a durable log + webhooks locally).

use async_trait::async_trait;

use crate::events::EventEnvelope;
use crate::ports::table::{StoreError, TransactOp};

#[derive(Debug, thiserror::Error)]
#[error("event publication failed: {0}")]
pub struct PublishError(pub String);

#[async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError>;
}

/// Table writes committed together with the events they cause: both or neither. The local store
/// keeps its event log in the database that holds its table, so one transaction does both; the
/// cloud has no such port (DynamoDB and SNS cannot commit together) and publishes after writing.
#[async_trait]
pub trait TransactWithEvents: Send + Sync + 'static {
    /// `Table::transact_write`, with `events` recorded in the same transaction when it succeeds.
    async fn transact_write_with_events(&self, ops: Vec<TransactOp>, events: Vec<EventEnvelope>) -> Result<(), StoreError>;
}

/// An event as stored in the local log, with its position.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LoggedEvent {
    pub seq: u64,
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// Reading the durable event log with a cursor (local runtime; in the cloud integrators use SNS).
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    async fn read(&self, tenant: &str, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, EventLogError>;
}

#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    /// This runtime keeps no readable log (the cloud publishes to SNS instead).
    #[error("no event log here")]
    NotAvailable,
    #[error("event log: {0}")]
    Backend(String),
}
