//! The table's stream: each record names an item that changed (the stream carries keys only).
//! Two consumers read it — the search indexer and the outbox relay — and both read items as
//! they are now, so records delivered again or out of order leave the index and the topic as
//! the table says.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;

use super::Outcome;
use crate::app::outbox::{self, Relayed};
use crate::app::App;
use crate::ports::table::Key;

/// The item key of each record, in order (`None` for a record without string `pk` and `sk`).
pub fn keys(event: &Event) -> Vec<Option<Key>> {
    event
        .records
        .iter()
        .map(|r| {
            let keys = serde_json::to_value(&r.change.keys).ok()?;
            let text = |name: &str| keys.get(name).and_then(|v| v.get("S")).and_then(|s| s.as_str()).map(str::to_string);
            Some(Key::new(text("pk")?, text("sk")?))
        })
        .collect()
}

/// Brings the index up to date with the batch's items. A failure fails the batch from its first
/// record (Lambda then halves it and tries again, and after its retries hands the records to
/// the dead-letter queue).
pub async fn index_changes(app: Arc<App>, event: Event) -> Outcome {
    let keys: Vec<Key> = keys(&event).into_iter().flatten().collect();
    match crate::app::search::index_keys(&app, keys).await {
        Ok(n) => {
            tracing::info!(records = event.records.len(), sources = n, "indexed");
            Outcome::default()
        }
        Err(e) => {
            tracing::error!(error = %e, records = event.records.len(), "indexing failed");
            Outcome { failed: vec![0] }
        }
    }
}

/// Publishes the batch's outbox items in stream order. The first that fails stops the batch
/// there (the stream resends from it; the ones before are not published again).
pub async fn relay_events(app: Arc<App>, event: Event) -> Outcome {
    let mut published = 0;
    for (i, key) in keys(&event).into_iter().enumerate() {
        let Some(key) = key else { continue };
        match outbox::relay(&app, &key).await {
            Ok(Relayed::Published) => published += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, pk = %key.pk, "relaying an event failed");
                return Outcome { failed: vec![i] };
            }
        }
    }
    tracing::info!(records = event.records.len(), published, "events relayed");
    Outcome::default()
}

/// The response to Lambda for a stream batch: the sequence number of the first failed record
/// (Lambda resends the batch from it).
pub fn batch_response(event: &Event, outcome: &Outcome) -> aws_lambda_events::streams::DynamoDbEventResponse {
    let mut response = aws_lambda_events::streams::DynamoDbEventResponse::default();
    if let Some(first) = outcome.failed.iter().min() {
        let id = event.records.get(*first).and_then(|r| r.change.sequence_number.clone()).unwrap_or_default();
        let mut failure = aws_lambda_events::streams::DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(id);
        response.batch_item_failures.push(failure);
    }
    response
}
