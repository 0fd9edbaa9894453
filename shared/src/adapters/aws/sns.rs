//! Publishing integration events to the SNS topic. The message is the JSON envelope; the
//! attributes `event_type` and `tenant_id` let subscribers filter without parsing it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::events::EventEnvelope;
use crate::ports::events::PublishError;
use crate::ports::EventPublisher;

pub const ATTR_EVENT_TYPE: &str = "event_type";
pub const ATTR_TENANT_ID: &str = "tenant_id";

const WARM_TIMEOUT: Duration = Duration::from_secs(1);

pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(config: &aws_config::SdkConfig, topic_arn: String) -> Self {
        SnsPublisher { client: Client::new(config), topic_arn }
    }

    /// Opens the connection to SNS ahead of the first event; failures only cost latency later.
    pub async fn warm(&self) {
        let attributes = self.client.get_topic_attributes().topic_arn(&self.topic_arn).send();
        match tokio::time::timeout(WARM_TIMEOUT, attributes).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(topic = %self.topic_arn, error = %DisplayErrorContext(&e), "warming SNS failed"),
            Err(_) => tracing::warn!(topic = %self.topic_arn, "warming SNS timed out"),
        }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, PublishError> {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(|e| PublishError(e.to_string()))
}

#[async_trait]
impl EventPublisher for SnsPublisher {
    async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
        let message = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(message)
            .message_attributes(ATTR_EVENT_TYPE, string_attribute(&event.event_type)?)
            .message_attributes(ATTR_TENANT_ID, string_attribute(&event.tenant)?)
            .send()
            .await
            .map_err(|e| PublishError(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}
