//! AWS backends: DynamoDB, API Gateway Management API, SNS, S3, Cognito, Chime SDK meetings and
//! media pipelines, Transcribe, Translate, SQS, EventBridge Scheduler. SDK
//! types never leave this module.

pub mod apigateway;
pub mod chime;
pub mod cognito;
pub mod dynamodb;
pub mod media_pipelines;
pub mod opensearch;
pub mod s3;
pub mod scheduler;
pub mod secrets_manager;
pub mod sns;
pub mod sqs;
pub mod transcribe;
pub mod translate;

use std::sync::Arc;

use crate::app::App;
use crate::capabilities::Capability;
use crate::error::AppError;
use crate::identity::{TokenVerifier, VerifierConfig};

pub use crate::capabilities::{
    ENV_ATTACHMENTS_BUCKET, ENV_CHIME_MEDIA_REGION, ENV_CONNECTIONS_TABLE, ENV_EVENTS_TOPIC_ARN, ENV_FANOUT_QUEUE_ARN,
    ENV_FANOUT_QUEUE_URL, ENV_IMPORTS_QUEUE_URL, ENV_RECORDINGS_BUCKET, ENV_SCHEDULER_ROLE_ARN, ENV_SCHEDULE_GROUP, ENV_SEARCH_ENDPOINT,
    ENV_SEARCH_INDEX, ENV_SECRETS_PREFIX, ENV_TABLE, ENV_USER_POOL_CLIENT_ID, ENV_USER_POOL_ID, ENV_WS_ENDPOINT,
};
pub const ENV_JWT_ISSUER: &str = "CONFER_JWT_ISSUER";
pub const ENV_JWT_AUDIENCE: &str = "CONFER_JWT_AUDIENCE";
/// Optional; defaults to `<issuer>/.well-known/jwks.json` (Cognito's location).
pub const ENV_JWKS_URL: &str = "CONFER_JWKS_URL";

fn env(name: &str) -> Result<String, AppError> {
    std::env::var(name).map_err(|_| AppError::internal(format!("environment variable {name} is not set")))
}

/// Builds the cloud [`App`] from the environment with the adapters of `needs` only: SDK clients
/// built once, their connections warmed. Ports outside `needs` answer a clear error.
pub async fn app_for(needs: &[Capability]) -> Result<App, AppError> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let has = |c: Capability| needs.contains(&c);
    let mut app = App::without_backends();
    // Both tables share one client, so one call warms DynamoDB.
    let mut dynamo: Option<dynamodb::DynamoTable> = None;
    if has(Capability::Table) {
        let table = dynamodb::DynamoTable::new(&config, env(ENV_TABLE)?);
        app.table = Arc::new(table.clone());
        dynamo = Some(table);
    }
    if has(Capability::Live) {
        let name = env(ENV_CONNECTIONS_TABLE)?;
        let connections = match &dynamo {
            Some(t) => t.sibling(name),
            None => dynamodb::DynamoTable::new(&config, name),
        };
        app.connections_table = Arc::new(connections.clone());
        app.gateway = Arc::new(apigateway::ApiGatewayConnections::new(&config, env(ENV_WS_ENDPOINT)?));
        dynamo.get_or_insert(connections);
    }
    if has(Capability::Events) {
        // Events go into the table's outbox, in the transaction of their change where there is one.
        let table: Arc<dyn crate::ports::Table> = match &dynamo {
            Some(t) => Arc::new(t.clone()),
            None => Arc::new(dynamodb::DynamoTable::new(&config, env(ENV_TABLE)?)),
        };
        let outbox = Arc::new(crate::app::outbox::TableOutbox::new(table));
        app.events = outbox.clone();
        app.outbox = Some(outbox);
    }
    let mut sns = None;
    if has(Capability::Publish) {
        let topic = Arc::new(sns::SnsPublisher::new(&config, env(ENV_EVENTS_TOPIC_ARN)?));
        app.integrations = topic.clone();
        sns = Some(topic);
    }
    if has(Capability::Search) {
        let index = std::env::var(ENV_SEARCH_INDEX).unwrap_or_else(|_| opensearch::DEFAULT_INDEX.to_string());
        let search =
            opensearch::OpenSearch::new(&config, &env(ENV_SEARCH_ENDPOINT)?, &index).map_err(|e| AppError::internal(e.to_string()))?;
        app.search = Arc::new(search);
    }
    if has(Capability::Blobs) {
        app.blobs = Arc::new(s3::S3Blobs::new(&config, env(ENV_ATTACHMENTS_BUCKET)?));
    }
    if has(Capability::Identity) {
        let identity = Arc::new(cognito::CognitoIdentity::new(&config, env(ENV_USER_POOL_ID)?, env(ENV_USER_POOL_CLIENT_ID)?));
        app.tokens = identity.clone();
        app.agents = identity;
    }
    if has(Capability::Video) {
        app.video = Arc::new(chime::ChimeVideo::new(&config, env(ENV_CHIME_MEDIA_REGION)?));
    }
    if has(Capability::Recordings) {
        app.recordings = Arc::new(s3::S3Blobs::new(&config, env(ENV_RECORDINGS_BUCKET)?));
    }
    if has(Capability::Pipelines) {
        app.recorder = Arc::new(media_pipelines::ChimeRecorder::new(&config, env(ENV_RECORDINGS_BUCKET)?));
    }
    if has(Capability::Transcription) {
        app.transcription = Arc::new(transcribe::AmazonTranscribe::new(&config));
    }
    if has(Capability::Translation) {
        app.translator = Arc::new(translate::AmazonTranslate::new(&config));
    }
    if has(Capability::Queue) {
        app.queue = Arc::new(sqs::SqsQueue::new(&config, env(ENV_FANOUT_QUEUE_URL)?));
    }
    if has(Capability::Secrets) {
        app.secrets = Arc::new(secrets_manager::SecretsManagerSecrets::new(&config, env(ENV_SECRETS_PREFIX)?));
    }
    if has(Capability::Imports) {
        app.imports = Arc::new(sqs::SqsQueue::new(&config, env(ENV_IMPORTS_QUEUE_URL)?));
    }
    if has(Capability::Schedules) {
        app.scheduler = Arc::new(scheduler::EventBridgeScheduler::new(
            &config,
            env(ENV_SCHEDULE_GROUP)?,
            env(ENV_FANOUT_QUEUE_ARN)?,
            env(ENV_SCHEDULER_ROLE_ARN)?,
        ));
    }
    // Open TLS connections during init, so the first event does not pay for them.
    let warm_table = async {
        if let Some(t) = &dynamo {
            t.warm().await
        }
    };
    let warm_events = async {
        if let Some(s) = &sns {
            s.warm().await
        }
    };
    futures::join!(warm_table, warm_events);
    Ok(app)
}

/// Rebuilds the search index from the table: every key scanned, handed to the indexer 500 at a
/// time (items it holds nothing of are passed over). Answers the keys read and the items indexed.
pub async fn reindex(app: &App, table: &dynamodb::DynamoTable) -> Result<(u64, usize), AppError> {
    let (mut read, mut indexed, mut after) = (0u64, 0usize, None);
    loop {
        let (keys, next) = table.scan_keys(after).await?;
        read += keys.len() as u64;
        for part in keys.chunks(500) {
            indexed += crate::app::search::index_keys(app, part.to_vec()).await?;
        }
        match next {
            Some(k) => after = Some(k),
            None => return Ok((read, indexed)),
        }
    }
}

/// [`reindex`] with the indexer's configuration from the environment (`CONFER_TABLE`,
/// `CONFER_SEARCH_ENDPOINT`, `CONFER_SEARCH_INDEX`) and the caller's AWS credentials.
pub async fn reindex_from_env() -> Result<(u64, usize), AppError> {
    let app = app_for(crate::capabilities::needs::INDEXER).await?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    reindex(&app, &dynamodb::DynamoTable::new(&config, env(ENV_TABLE)?)).await
}

pub fn verifier_from_env() -> Result<TokenVerifier, AppError> {
    let issuer = env(ENV_JWT_ISSUER)?;
    // One or more app clients, comma-separated (the web client's and the integration client's).
    let audience = env(ENV_JWT_AUDIENCE)?;
    let jwks = std::env::var(ENV_JWKS_URL).unwrap_or_else(|_| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
    Ok(TokenVerifier::with_remote_jwks(VerifierConfig { issuer, audience }, jwks))
}
