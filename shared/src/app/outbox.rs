//! The cloud's transactional outbox. An integration event is written into the table in the same
//! transaction as the change that caused it (one item per event, under `OUTBOX#<event id>`), and
//! the table's stream hands each new outbox item to the relay, which publishes it to the
//! integrators' topic: an event is published if and only if its write committed. The relay marks
//! each item once published, so a stream record delivered again publishes nothing twice;
//! integrators still deduplicate by event id, as after any at-least-once delivery (a relay that
//! stops between publishing and marking publishes once more). Items expire after a week.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::App;
use crate::domain::now_epoch_seconds;
use crate::events::EventEnvelope;
use crate::keys;
use crate::ports::events::PublishError;
use crate::ports::table::{Condition, Item, Key, StoreError, Table, TransactOp, Update, TTL};
use crate::ports::{EventPublisher, TransactWithEvents};

/// Days an outbox item is kept (the stream keeps records for one).
pub const OUTBOX_DAYS: i64 = 7;
/// The attribute holding the event, as JSON text.
pub const EVENT: &str = "event";
/// Set once the relay has published the event.
pub const PUBLISHED_AT: &str = "published_at";

/// Events recorded in the table they are committed with.
pub struct TableOutbox {
    table: Arc<dyn Table>,
}

impl TableOutbox {
    pub fn new(table: Arc<dyn Table>) -> Self {
        TableOutbox { table }
    }

    pub fn item(event: &EventEnvelope) -> Result<Item, StoreError> {
        let key = keys::outbox(&event.id);
        let mut item = Item::new();
        item.insert(crate::ports::table::PK.into(), Value::String(key.pk));
        item.insert(crate::ports::table::SK.into(), Value::String(key.sk));
        item.insert(EVENT.into(), Value::String(serde_json::to_string(event).map_err(|e| StoreError::Invalid(e.to_string()))?));
        item.insert("event_type".into(), Value::String(event.event_type.clone()));
        item.insert(TTL.into(), Value::from(now_epoch_seconds() + OUTBOX_DAYS * 86_400));
        Ok(item)
    }
}

#[async_trait]
impl TransactWithEvents for TableOutbox {
    async fn transact_write_with_events(&self, mut ops: Vec<TransactOp>, events: Vec<EventEnvelope>) -> Result<(), StoreError> {
        let first_event = ops.len();
        for event in &events {
            // No condition: an event recorded again (its change written again) is relayed again,
            // and integrators know it by its id.
            ops.push(TransactOp::Put { item: Self::item(event)?, condition: None });
        }
        match self.table.transact_write(ops).await {
            // Callers read the reasons of their own operations, by position.
            Err(StoreError::TransactionCancelled { reasons }) => {
                Err(StoreError::TransactionCancelled { reasons: reasons.into_iter().take(first_event).collect() })
            }
            other => other,
        }
    }
}

#[async_trait]
impl EventPublisher for TableOutbox {
    /// Records an event outside a transaction (a change already written on its own).
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let item = Self::item(event).map_err(|e| PublishError(e.to_string()))?;
        match self.table.put(item, Some(Condition::NotExists)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(PublishError(e.to_string())),
        }
    }
}

/// What the relay did with one outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    Published,
    /// Published before: a record delivered again.
    AlreadyPublished,
    /// Not an outbox item, or expired.
    Nothing,
}

/// Publishes the event of the outbox item under `key` to the integrators' topic, once.
pub async fn relay(app: &App, key: &Key) -> Result<Relayed, String> {
    if !keys::is_outbox(key) {
        return Ok(Relayed::Nothing);
    }
    let Some(item) = app.table.get(key).await.map_err(|e| e.to_string())? else { return Ok(Relayed::Nothing) };
    if item.contains_key(PUBLISHED_AT) {
        return Ok(Relayed::AlreadyPublished);
    }
    let text = item.get(EVENT).and_then(Value::as_str).ok_or("an outbox item without its event")?;
    let event: EventEnvelope = serde_json::from_str(text).map_err(|e| format!("an outbox item's event does not parse: {e}"))?;
    app.integrations.publish(&event).await.map_err(|e| e.to_string())?;
    let mark = Update::default().set(PUBLISHED_AT, crate::domain::now_rfc3339());
    match app.table.update(key, mark, Some(Condition::Exists)).await {
        Ok(_) | Err(StoreError::ConditionFailed) => Ok(Relayed::Published),
        // Published; the mark only saves a second publication if this record comes again.
        Err(e) => {
            tracing::warn!(error = %e, event_id = %event.id, "outbox item published but not marked");
            Ok(Relayed::Published)
        }
    }
}
