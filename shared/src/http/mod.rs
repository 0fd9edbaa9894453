//! HTTP glue for Lambda-shaped handlers: principal from authorizer claims, bounded JSON bodies,
//! parameters, and one error → response mapping.

pub mod announcements;
pub mod groups;
pub mod handlers;
pub mod openapi;
pub mod providers;
pub mod recordings;
pub mod routes;
pub mod search;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::limits::MAX_REST_BODY_BYTES;
use crate::domain::Principal;
use crate::error::AppError;

/// The response header that carries the request id, as API Gateway HTTP APIs send it.
pub const REQUEST_ID_HEADER: &str = "apigw-requestid";

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

/// The route key API Gateway matched, e.g. `GET /v1/customers/{customerId}`.
pub fn route_key(req: &Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
        _ => None,
    }
}

/// What the one log line of a REST request says. Never a token, a body or a query string.
pub struct RequestLine<'a> {
    pub request_id: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    /// None when no route matched.
    pub route_key: Option<&'a str>,
    /// None when the request was not authenticated.
    pub principal: Option<&'a Principal>,
    pub status: u16,
    pub started: std::time::Instant,
}

/// Logs one line per REST request, the same in both runtimes (the Lambda wrapper and the local
/// gateway call it).
pub fn log_request(line: &RequestLine<'_>) {
    let latency_ms = (line.started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1_000.0;
    tracing::info!(
        request_id = line.request_id,
        method = line.method,
        path = line.path,
        route_key = line.route_key,
        tenant = line.principal.map(|p| p.tenant.as_str()),
        role = line.principal.map(|p| p.role.as_str()),
        principal = line.principal.map(|p| p.id.as_str()),
        status = line.status,
        latency_ms,
        "request"
    );
}

pub(crate) fn body_bytes(req: &Request) -> &[u8] {
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
    json_body_up_to(req, MAX_REST_BODY_BYTES)
}

/// [`json_body`] for the few calls that take more than [`MAX_REST_BODY_BYTES`] (lists of ids).
pub fn json_body_up_to<T: DeserializeOwned>(req: &Request, limit: usize) -> Result<T, AppError> {
    let bytes = body_bytes(req);
    if bytes.len() > limit {
        return Err(AppError::PayloadTooLarge { actual: bytes.len(), limit });
    }
    parse_json(bytes)
}

/// Whether the request came without a body (or only white space).
/// True when an optional body is absent: empty, or JSON `null`.
pub fn body_is_absent(req: &Request) -> bool {
    let bytes = body_bytes(req);
    let trimmed = bytes.trim_ascii();
    trimmed.is_empty() || trimmed == b"null"
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(AppError::InvalidJson("the body is empty".into()));
    };
    // Every body and frame is an object: serde would also read a struct from an array.
    if *first != b'{' && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        return Err(AppError::validation("the body must be a JSON object"));
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

/// A whole-number query parameter from `min` to `max`.
pub fn query_sequence(req: &Request, name: &str, min: u64, max: u64) -> Result<Option<u64>, AppError> {
    match query_param(req, name) {
        None => Ok(None),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(AppError::validation(format!("{name} must be a whole number from {min} to {max}"))),
        },
    }
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
    respond_with_status(req, |req| async move { Ok((status, f(req).await?)) }).await
}

/// As [`respond`], where the use case chooses the status (201 created, 200 found).
pub async fn respond_with_status<F, T>(req: Request, f: impl FnOnce(Request) -> F) -> Response<Body>
where
    F: std::future::Future<Output = Result<(u16, T), AppError>>,
    T: Serialize,
{
    let rid = request_id(&req);
    match f(req).await {
        Ok((status, value)) => json_response(status, &value),
        Err(e) => error_response(&e, rid.as_deref()),
    }
}
