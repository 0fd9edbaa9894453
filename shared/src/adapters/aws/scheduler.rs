//! Schedules on EventBridge Scheduler: a one-time `at()` schedule in the deployment's schedule
//! group whose target is the fan-out queue (SendMessage with the message as its body), sent as
//! the scheduler role, deleted by the service once it has fired. The schedule's name is its
//! identity: creating it again is harmless, deleting one that is gone too.

use async_trait::async_trait;
use aws_sdk_scheduler::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target};
use aws_sdk_scheduler::Client;

use crate::ports::queue::{QueueError, QueueMessage, Scheduler};

/// How long the service keeps trying to deliver a fired schedule, and how often.
const MAX_EVENT_AGE_SECONDS: i32 = 24 * 60 * 60;
const MAX_RETRY_ATTEMPTS: i32 = 185;

pub struct EventBridgeScheduler {
    client: Client,
    group: String,
    queue_arn: String,
    role_arn: String,
}

/// `at(yyyy-mm-ddThh:mm:ss)` in UTC, the form a one-time schedule takes.
pub fn at_expression(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})", at.year(), u8::from(at.month()), at.day(), at.hour(), at.minute(), at.second())
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> QueueError {
    QueueError::Backend(DisplayErrorContext(&e).to_string())
}

impl EventBridgeScheduler {
    pub fn new(config: &aws_config::SdkConfig, group: String, queue_arn: String, role_arn: String) -> Self {
        Self::with_client(Client::new(config), group, queue_arn, role_arn)
    }

    pub fn with_client(client: Client, group: String, queue_arn: String, role_arn: String) -> Self {
        EventBridgeScheduler { client, group, queue_arn, role_arn }
    }
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    async fn schedule(&self, name: &str, at: time::OffsetDateTime, message: QueueMessage) -> Result<(), QueueError> {
        let build = |e: aws_sdk_scheduler::error::BuildError| QueueError::Backend(e.to_string());
        let target = Target::builder()
            .arn(&self.queue_arn)
            .role_arn(&self.role_arn)
            .input(message.body)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECONDS)
                    .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
                    .build(),
            )
            .build()
            .map_err(build)?;
        let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().map_err(build)?;
        let created = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.group)
            .schedule_expression(at_expression(at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            // A retried call with the same token is answered as the first was.
            .client_token(name)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // A schedule of that name exists already: this one was set before.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => {
                tracing::info!(schedule = name, "schedule exists already");
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn cancel(&self, name: &str) -> Result<(), QueueError> {
        match self.client.delete_schedule().name(name).group_name(&self.group).send().await {
            Ok(_) => Ok(()),
            // Fired and deleted by the service, or never set.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => Ok(()),
            Err(e) => {
                tracing::warn!(schedule = name, code = ?e.code(), "deleting the schedule failed");
                Err(backend(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_expressions_are_utc_to_the_second() {
        let at = time::macros::datetime!(2027-03-04 05:06:07.890 +02:00);
        assert_eq!(at_expression(at), "at(2027-03-04T03:06:07)");
    }
}
