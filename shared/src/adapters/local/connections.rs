//! Live connections of the local gateway: each socket registers a channel; posting to a
//! connection that closed answers `Gone`, exactly like API Gateway's @connections API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::domain::limits::MAX_WS_MESSAGE_BYTES;
use crate::ports::{ConnectionGateway, PostError};

/// What the gateway's socket task receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Frame(Vec<u8>),
    Close,
}

#[derive(Default, Clone)]
pub struct LocalConnections {
    inner: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Outbound>>>>,
}

impl LocalConnections {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a socket; frames posted to `id` arrive on the returned receiver.
    pub fn register(&self, id: &str) -> mpsc::UnboundedReceiver<Outbound> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), tx);
        rx
    }

    pub fn unregister(&self, id: &str) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sender(&self, id: &str) -> Option<mpsc::UnboundedSender<Outbound>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }
}

#[async_trait]
impl ConnectionGateway for LocalConnections {
    async fn post(&self, connection_id: &str, payload: &[u8]) -> Result<(), PostError> {
        if payload.len() > MAX_WS_MESSAGE_BYTES {
            return Err(PostError::TooLarge);
        }
        let sender = self.sender(connection_id).ok_or(PostError::Gone)?;
        sender.send(Outbound::Frame(payload.to_vec())).map_err(|_| {
            self.unregister(connection_id);
            PostError::Gone
        })
    }

    async fn disconnect(&self, connection_id: &str) -> Result<(), PostError> {
        if let Some(sender) = self.sender(connection_id) {
            let _ = sender.send(Outbound::Close);
        }
        Ok(())
    }
}

impl LocalConnections {
    /// Asks every live socket to close (shutdown).
    pub fn close_all(&self) {
        for sender in self.inner.lock().unwrap_or_else(|e| e.into_inner()).values() {
            let _ = sender.send(Outbound::Close);
        }
    }
}
