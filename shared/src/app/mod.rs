//! Use cases. Each takes the ports it needs through [`App`]; none knows which backend runs.

pub mod connections;
pub mod customers;
pub mod messages;
pub mod paging;
pub mod sessions;

use std::sync::Arc;

use crate::ports::{ConnectionGateway, EventLog, EventPublisher, Table};

/// The ports one deployment wires together, built once per process (Lambda init or confer-local start).
#[derive(Clone)]
pub struct App {
    /// Single-table store of customers, sessions, participants and messages.
    pub table: Arc<dyn Table>,
    /// Live WebSocket connections (TTL'd records, indexed by participant).
    pub connections_table: Arc<dyn Table>,
    /// Pushes frames to live connections.
    pub gateway: Arc<dyn ConnectionGateway>,
    pub events: Arc<dyn EventPublisher>,
    /// Readable event log (local runtime only; integrators use SNS in the cloud).
    pub event_log: Option<Arc<dyn EventLog>>,
}

impl App {
    /// Publishes an event; a failure is logged and does not undo the stored change.
    pub async fn publish(&self, event: crate::events::EventEnvelope) {
        if let Err(e) = self.events.publish(&event).await {
            tracing::error!(error = %e, event_type = %event.event_type, event_id = %event.id, "event publication failed");
        }
    }
}

/// Serialises an entity and adds storage attributes.
pub(crate) fn to_item<T: serde::Serialize>(
    entity: &T,
    key: &crate::ports::table::Key,
    extra: &[(&str, serde_json::Value)],
) -> Result<crate::ports::table::Item, crate::error::AppError> {
    let mut item = match serde_json::to_value(entity).map_err(crate::error::AppError::internal)? {
        serde_json::Value::Object(map) => map,
        _ => return Err(crate::error::AppError::internal("entity is not an object")),
    };
    item.insert(crate::ports::table::PK.into(), key.pk.clone().into());
    item.insert(crate::ports::table::SK.into(), key.sk.clone().into());
    for (k, v) in extra {
        item.insert((*k).to_string(), v.clone());
    }
    Ok(item)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: crate::ports::table::Item) -> Result<T, crate::error::AppError> {
    serde_json::from_value(serde_json::Value::Object(item)).map_err(crate::error::AppError::internal)
}
