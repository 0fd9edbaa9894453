//! Integration events through SNS (moto) into a filtered SQS subscription, as an integrator sees them.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use confer::adapters::aws::sns::SnsPublisher;
use confer::events::{types, EventEnvelope, SCHEMA_VERSION, SOURCE};
use confer::ports::EventPublisher;
use confer_tests::moto;
use serde_json::{json, Value};

struct Subscription {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

/// A topic and a queue subscribed to `message.created` only, with raw delivery: the SQS body is
/// the envelope itself and the SNS message attributes arrive as SQS message attributes.
async fn topic_with_message_created_subscriber(config: &aws_config::SdkConfig) -> (String, Subscription) {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let topic_arn =
        sns.create_topic().name(moto::unique_name("confer-events")).send().await.expect("create topic").topic_arn.expect("topic arn");
    let queue_url =
        sqs.create_queue().queue_name(moto::unique_name("integrator")).send().await.expect("create queue").queue_url.expect("queue url");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue arn");
    let filter_policy = json!({ "event_type": [types::MESSAGE_CREATED] }).to_string();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("FilterPolicy", filter_policy)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");
    (topic_arn, Subscription { sqs, queue_url })
}

impl Subscription {
    async fn receive(&self, wait_seconds: i32) -> Vec<aws_sdk_sqs::types::Message> {
        self.sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default()
    }
}

fn envelope(event_type: &str, tenant: &str, data: Value) -> EventEnvelope {
    EventEnvelope {
        id: ulid::Ulid::new().to_string(),
        event_type: event_type.to_string(),
        source: SOURCE.to_string(),
        time: "2026-11-30T10:00:00Z".to_string(),
        tenant: tenant.to_string(),
        schema_version: SCHEMA_VERSION.to_string(),
        data,
    }
}

#[tokio::test]
async fn subscribers_receive_the_envelope_filtered_by_event_type() {
    let config = moto::sdk_config().await;
    let (topic_arn, subscription) = topic_with_message_created_subscriber(&config).await;
    let publisher = SnsPublisher::new(&config, topic_arn);
    publisher.warm().await;

    let filtered_out = envelope(types::CUSTOMER_CREATED, "acme", json!({ "customer_id": "c1" }));
    let wanted = envelope(types::MESSAGE_CREATED, "acme", json!({ "session_id": "s1", "message_id": "m1", "body": "hi ✓" }));
    publisher.publish(&filtered_out).await.expect("publish customer.created");
    publisher.publish(&wanted).await.expect("publish message.created");

    let messages = subscription.receive(5).await;
    assert_eq!(messages.len(), 1, "only message.created passes the filter: {messages:?}");
    let message = &messages[0];
    let body: Value = serde_json::from_str(message.body().expect("body")).expect("the body is the JSON envelope");
    assert_eq!(
        body,
        json!({
            "id": wanted.id,
            "type": "message.created",
            "source": "confer",
            "time": "2026-11-30T10:00:00Z",
            "tenant": "acme",
            "schemaversion": "1",
            "data": { "session_id": "s1", "message_id": "m1", "body": "hi ✓" }
        })
    );
    let decoded: EventEnvelope = serde_json::from_value(body).expect("decodes as an envelope");
    assert_eq!(decoded, wanted);

    let attributes: HashMap<&str, (&str, Option<&str>)> = message
        .message_attributes()
        .expect("message attributes")
        .iter()
        .map(|(name, value)| (name.as_str(), (value.data_type(), value.string_value())))
        .collect();
    assert_eq!(attributes.get("event_type"), Some(&("String", Some("message.created"))));
    assert_eq!(attributes.get("tenant_id"), Some(&("String", Some("acme"))));

    assert!(subscription.receive(1).await.is_empty(), "customer.created must not be delivered");
}

#[tokio::test]
async fn publishing_to_a_missing_topic_fails() {
    let config = moto::sdk_config().await;
    let missing = format!("arn:aws:sns:us-east-1:123456789012:{}", moto::unique_name("absent"));
    let publisher = SnsPublisher::new(&config, missing);
    publisher.warm().await;
    let result = publisher.publish(&envelope(types::SESSION_CREATED, "acme", json!({}))).await;
    assert!(result.is_err(), "publishing to a missing topic must fail");
}
