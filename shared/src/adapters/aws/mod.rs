//! AWS backends: DynamoDB, API Gateway Management API, SNS. SDK types never leave this module.

pub mod apigateway;
pub mod dynamodb;
pub mod sns;

use std::sync::Arc;

use crate::app::App;
use crate::error::AppError;
use crate::identity::{TokenVerifier, VerifierConfig};

/// Environment of every function (set by template.yaml).
pub const ENV_TABLE: &str = "CONFER_TABLE";
pub const ENV_CONNECTIONS_TABLE: &str = "CONFER_CONNECTIONS_TABLE";
pub const ENV_EVENTS_TOPIC_ARN: &str = "CONFER_EVENTS_TOPIC_ARN";
/// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: the @connections endpoint.
pub const ENV_WS_ENDPOINT: &str = "CONFER_WS_ENDPOINT";
pub const ENV_JWT_ISSUER: &str = "CONFER_JWT_ISSUER";
pub const ENV_JWT_AUDIENCE: &str = "CONFER_JWT_AUDIENCE";
/// Optional; defaults to `<issuer>/.well-known/jwks.json` (Cognito's location).
pub const ENV_JWKS_URL: &str = "CONFER_JWKS_URL";

fn env(name: &str) -> Result<String, AppError> {
    std::env::var(name).map_err(|_| AppError::internal(format!("environment variable {name} is not set")))
}

/// Builds the cloud [`App`] from the environment: SDK clients built once, connections warmed.
pub async fn app_from_env() -> Result<App, AppError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = dynamodb::DynamoTable::new(&config, env(ENV_TABLE)?);
    let connections_table = table.sibling(env(ENV_CONNECTIONS_TABLE)?);
    let gateway = apigateway::ApiGatewayConnections::new(&config, env(ENV_WS_ENDPOINT)?);
    let events = sns::SnsPublisher::new(&config, env(ENV_EVENTS_TOPIC_ARN)?);
    // Open TLS connections during init, so the first event does not pay for them (both tables
    // share one client, so one call warms DynamoDB).
    futures::join!(table.warm(), events.warm());
    Ok(App {
        table: Arc::new(table),
        connections_table: Arc::new(connections_table),
        gateway: Arc::new(gateway),
        events: Arc::new(events),
        event_log: None,
        outbox: None,
    })
}

pub fn verifier_from_env() -> Result<TokenVerifier, AppError> {
    let issuer = env(ENV_JWT_ISSUER)?;
    let audience = env(ENV_JWT_AUDIENCE)?;
    let jwks = std::env::var(ENV_JWKS_URL).unwrap_or_else(|_| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
    Ok(TokenVerifier::with_remote_jwks(VerifierConfig { issuer, audience }, jwks))
}
