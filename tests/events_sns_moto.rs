//! Integration events through SNS (moto) into a filtered SQS subscription, as an integrator sees them.

use std::collections::HashMap;

use confer::adapters::aws::sns::SnsPublisher;
use confer::events::{types, EventEnvelope, SCHEMA_VERSION, SOURCE};
use confer::ports::EventPublisher;
use confer_tests::moto;
use serde_json::{json, Value};

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
    let filter_policy = json!({ "event_type": [types::MESSAGE_CREATED] }).to_string();
    let (topic_arn, subscription) = moto::topic_with_subscriber(&config, Some(filter_policy)).await;
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
