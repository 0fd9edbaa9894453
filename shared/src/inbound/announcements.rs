//! The fan-out queue's consumer (`announcements-deliver`): publish messages (from the create call
//! or a schedule) and chunk messages. A message that fails for a transient reason is reported
//! for retry alone (SQS partial batch response); one that can never succeed is logged and
//! dropped rather than retried into the dead-letter queue.

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;

use super::Outcome;
use crate::app::announcements::fanout::{self, FanoutMessage};
use crate::app::App;
use crate::error::AppError;

/// The template logical id of the fan-out queue.
pub const FANOUT_QUEUE: &str = "FanoutQueue";

pub async fn deliver(app: Arc<App>, event: SqsEvent) -> Outcome {
    let mut outcome = Outcome::default();
    // A batch's messages are independent: handled side by side.
    let results = futures::future::join_all(event.records.iter().map(|record| {
        let app = app.clone();
        async move {
            let body = record.body.as_deref().unwrap_or_default();
            let message: FanoutMessage = match serde_json::from_str(body) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(error = %e, message_id = ?record.message_id, "not a fan-out message; dropped");
                    return true;
                }
            };
            match fanout::handle(&app, message).await {
                Ok(handled) => {
                    tracing::info!(message_id = ?record.message_id, ?handled, "fan-out message handled");
                    true
                }
                Err(e @ (AppError::Validation(_) | AppError::NotFound(_))) => {
                    tracing::error!(error = %e, message_id = ?record.message_id, "fan-out message cannot be handled; dropped");
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, message_id = ?record.message_id, "fan-out message failed; to be retried");
                    false
                }
            }
        }
    }))
    .await;
    for (i, ok) in results.into_iter().enumerate() {
        if !ok {
            outcome.failed.push(i);
        }
    }
    outcome
}
