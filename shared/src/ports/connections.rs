//! Pushing frames to live WebSocket connections (API Gateway's @connections API).

use async_trait::async_trait;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PostError {
    /// The connection no longer exists (API Gateway: 410 GoneException).
    #[error("connection is gone")]
    Gone,
    #[error("payload too large for one WebSocket message")]
    TooLarge,
    #[error("backend: {0}")]
    Backend(String),
}

#[async_trait]
pub trait ConnectionGateway: Send + Sync + 'static {
    async fn post(&self, connection_id: &str, payload: &[u8]) -> Result<(), PostError>;
    /// Closes the connection; unknown connections are not an error.
    async fn disconnect(&self, connection_id: &str) -> Result<(), PostError>;
}
