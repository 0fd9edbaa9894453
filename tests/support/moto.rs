//! Access to the moto server started by `infra/scripts/with-moto.sh`.

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
};

pub const ENV_MOTO_ENDPOINT: &str = "CONFER_MOTO_ENDPOINT";

/// The moto endpoint; panics when the tests were not started through `with-moto.sh`.
pub fn endpoint() -> String {
    match std::env::var(ENV_MOTO_ENDPOINT) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{ENV_MOTO_ENDPOINT} is not set: AWS adapter tests need a moto server; run them through \
             `infra/scripts/with-moto.sh cargo test ...`"
        ),
    }
}

/// SDK configuration pointing at moto with test credentials; panics when moto does not answer.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = endpoint();
    let address = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
    let reachable = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(&address)).await;
    if !matches!(reachable, Ok(Ok(_))) {
        panic!("moto is not reachable at {endpoint} ({ENV_MOTO_ENDPOINT}); is the server running?");
    }
    let credentials = aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "confer-tests");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .load()
        .await
}

/// A name unique to this run, for tables, topics and queues.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().expect("attribute")
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().expect("key schema")
}

/// Creates the table as template.yaml declares it, unless a concurrent test already did.
pub async fn create_table(config: &aws_config::SdkConfig, name: &str) {
    let client = aws_sdk_dynamodb::Client::new(config);
    let gsi1 = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash))
        .key_schema(key("gsi1sk", KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("gsi1");
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .attribute_definitions(attribute("gsi1pk"))
        .attribute_definitions(attribute("gsi1sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(gsi1)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.code() == Some("ResourceInUseException") => {}
        Err(e) => panic!("creating table {name} in moto failed: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)),
    }
}

/// An SQS queue subscribed to an SNS topic with raw delivery (the SQS body is the message itself
/// and SNS message attributes arrive as SQS message attributes), as an integrator subscribes.
pub struct Subscription {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

/// A new topic and a queue subscribed to it, with `filter_policy` when given. Answers the topic's ARN.
pub async fn topic_with_subscriber(config: &aws_config::SdkConfig, filter_policy: Option<String>) -> (String, Subscription) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let topic_arn = sns.create_topic().name(unique_name("confer-events")).send().await.expect("create topic").topic_arn.expect("topic arn");
    let queue_url =
        sqs.create_queue().queue_name(unique_name("integrator")).send().await.expect("create queue").queue_url.expect("queue url");
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
    let mut subscribe = sns.subscribe().topic_arn(&topic_arn).protocol("sqs").endpoint(queue_arn).attributes("RawMessageDelivery", "true");
    if let Some(policy) = filter_policy {
        subscribe = subscribe.attributes("FilterPolicy", policy);
    }
    subscribe.send().await.expect("subscribe");
    (topic_arn, Subscription { sqs, queue_url })
}

impl Subscription {
    /// Up to ten messages with their attributes, waiting up to `wait_seconds`; each is deleted.
    pub async fn receive(&self, wait_seconds: i32) -> Vec<aws_sdk_sqs::types::Message> {
        let messages = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive")
            .messages
            .unwrap_or_default();
        for m in &messages {
            self.sqs
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
        messages
    }
}
