//! HTTP glue for Lambda-shaped handlers: principal from authorizer claims, bounded JSON bodies,
//! parameters, and one error → response mapping.

pub mod handlers;
pub mod openapi;
pub mod routes;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::limits::MAX_REST_BODY_BYTES;
use crate::domain::Principal;
use crate::error::AppError;

/// The caller, from the claims API Gateway's JWT authorizer verified (locally: the same
/// verifier, run by the gateway emulation). Never from the body.
pub fn principal(req: &Request) -> Result<Principal, AppError> {
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|j| &j.claims),
        _ => None,
    };
    Principal::from_claims(claims.ok_or(AppError::Unauthorized)?)
}

pub fn request_id(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(s) => s.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Parses a JSON body of at most [`MAX_REST_BODY_BYTES`]; syntax errors are `invalid_json`,
/// wrong shapes (missing or unknown fields, wrong types) are `validation_failed`.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_REST_BODY_BYTES {
        return Err(AppError::PayloadTooLarge { actual: bytes.len(), limit: MAX_REST_BODY_BYTES });
    }
    parse_json(bytes)
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::InvalidJson("the body is empty".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => AppError::Validation(e.to_string()),
        _ => AppError::InvalidJson(e.to_string()),
    })
}

pub fn path_param(req: &Request, name: &str) -> Result<String, AppError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_string)
        .ok_or_else(|| AppError::validation(format!("missing path parameter {name}")))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

pub fn json_response<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body))
        .expect("static response parts are valid")
}

pub fn error_response(e: &AppError, request_id: Option<&str>) -> Response<Body> {
    let status = e.status_code().as_u16();
    if status >= 500 {
        tracing::error!(code = e.code(), error = %e, "request failed");
    } else {
        tracing::debug!(code = e.code(), error = %e, "request rejected");
    }
    json_response(status, &e.body(request_id))
}

/// Runs a fallible handler body and turns its error into the documented error response.
pub async fn respond<F, T>(req: Request, status: u16, f: impl FnOnce(Request) -> F) -> Response<Body>
where
    F: std::future::Future<Output = Result<T, AppError>>,
    T: Serialize,
{
    let rid = request_id(&req);
    match f(req).await {
        Ok(value) => json_response(status, &value),
        Err(e) => error_response(&e, rid.as_deref()),
    }
}
