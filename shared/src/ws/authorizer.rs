//! The Lambda REQUEST authorizer on `$connect`: verifies the token (query `token`, or a
//! `bearer.<jwt>` subprotocol) with the shared verifier and passes the principal on as context.

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use serde::Serialize;

use super::protocol::BEARER_PROTOCOL_PREFIX;
use super::{CTX_ROLE, CTX_SUBJECT, CTX_TENANT};
use crate::error::AppError;
use crate::identity::TokenVerifier;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    pub context: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: String,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub action: String,
    pub effect: String,
    pub resource: String,
}

/// The token a client presented on the WebSocket handshake.
pub fn token_of(event: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Option<String> {
    if let Some(t) = event.query_string_parameters.first("token").filter(|t| !t.is_empty()) {
        return Some(t.to_string());
    }
    let protocols = event.headers.get("sec-websocket-protocol")?.to_str().ok()?;
    protocols.split(',').map(str::trim).find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX)).map(str::to_string)
}

/// Allows the connection with the principal as context, or fails with `Unauthorized`
/// (API Gateway then answers the handshake with 401).
pub async fn authorize(
    verifier: &TokenVerifier,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<AuthorizerResponse, AppError> {
    let token = token_of(&event).ok_or(AppError::Unauthorized)?;
    let verified = verifier.verify(&token).await?;
    let p = verified.principal;
    let mut context = serde_json::Map::new();
    context.insert(CTX_TENANT.into(), p.tenant.to_string().into());
    context.insert(CTX_ROLE.into(), p.role.as_str().into());
    context.insert(CTX_SUBJECT.into(), p.id.clone().into());
    Ok(AuthorizerResponse {
        principal_id: format!("{}:{}", p.tenant, p.id),
        policy_document: PolicyDocument {
            version: "2012-10-17".into(),
            statement: vec![Statement {
                action: "execute-api:Invoke".into(),
                effect: "Allow".into(),
                resource: event.method_arn.clone().unwrap_or_else(|| "*".into()),
            }],
        },
        context,
    })
}
