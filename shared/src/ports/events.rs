//! Integration events: published for integrators (SNS in the cloud, a durable log + webhooks locally).

use async_trait::async_trait;

use crate::events::EventEnvelope;

#[derive(Debug, thiserror::Error)]
#[error("event publication failed: {0}")]
pub struct PublishError(pub String);

#[async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError>;
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
    async fn read(&self, tenant: &str, after: u64, limit: usize) -> Result<Vec<LoggedEvent>, PublishError>;
}
