//! Pushing frames through API Gateway's @connections API (the Management API of a WebSocket stage).

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, SdkError};
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;

use crate::ports::{ConnectionGateway, PostError};

pub struct ApiGatewayConnections {
    client: Client,
}

impl ApiGatewayConnections {
    /// `endpoint` is the stage's https URL, e.g. `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    pub fn new(config: &aws_config::SdkConfig, endpoint: String) -> Self {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(config).endpoint_url(endpoint).build();
        ApiGatewayConnections { client: Client::from_conf(conf) }
    }
}

fn backend<E, R>(e: &SdkError<E, R>) -> PostError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    PostError::Backend(DisplayErrorContext(e).to_string())
}

#[async_trait]
impl ConnectionGateway for ApiGatewayConnections {
    async fn post(&self, connection_id: &str, payload: &[u8]) -> Result<(), PostError> {
        let sent = self.client.post_to_connection().connection_id(connection_id).data(Blob::new(payload)).send().await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.as_service_error() {
                Some(PostToConnectionError::GoneException(_)) => PostError::Gone,
                Some(PostToConnectionError::PayloadTooLargeException(_)) => PostError::TooLarge,
                _ => backend(&e),
            }),
        }
    }

    async fn disconnect(&self, connection_id: &str) -> Result<(), PostError> {
        match self.client.delete_connection().connection_id(connection_id).send().await {
            Ok(_) => Ok(()),
            // Already closed: the goal is reached.
            Err(e) if matches!(e.as_service_error(), Some(DeleteConnectionError::GoneException(_))) => Ok(()),
            Err(e) => Err(backend(&e)),
        }
    }
}
