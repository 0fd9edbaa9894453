//! The imports queue's consumer (`recordings-import`): recordings the video apps finished,
//! downloaded into the recordings store and handed to the recording pipeline. A message that
//! fails for a transient reason (the app unavailable, storage failing) is reported for retry
//! alone; one that can never succeed is logged and dropped.

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;

use super::Outcome;
use crate::app::video_apps::import::{self, ImportJob};
use crate::app::App;
use crate::error::AppError;

/// The template logical id of the imports queue.
pub const IMPORTS_QUEUE: &str = "ImportsQueue";

pub async fn import(app: Arc<App>, event: SqsEvent) -> Outcome {
    let mut outcome = Outcome::default();
    for (i, record) in event.records.iter().enumerate() {
        let body = record.body.as_deref().unwrap_or_default();
        let job: ImportJob = match serde_json::from_str(body) {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, message_id = ?record.message_id, "not a recording import; dropped");
                continue;
            }
        };
        match import::run(&app, job).await {
            Ok(()) => {}
            Err(e @ (AppError::Validation(_) | AppError::NotFound(_))) => {
                tracing::error!(error = %e, message_id = ?record.message_id, "recording import cannot be done; dropped");
            }
            Err(e) => {
                tracing::warn!(error = %e, message_id = ?record.message_id, "recording import failed; to be retried");
                outcome.failed.push(i);
            }
        }
    }
    outcome
}
