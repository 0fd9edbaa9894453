//! Access to the moto server started by `infra/scripts/with-moto.sh`.

use std::time::Duration;

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
