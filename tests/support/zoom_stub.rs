//! A local stub of Zoom's API, built from Zoom's documented requests and answers, for the Zoom
//! adapter's tests (Zoom offers no emulator): Server-to-Server OAuth (`POST /oauth/token` with
//! `grant_type=account_credentials` and `account_id` in the query, the client id and secret as
//! Basic credentials), meetings (`POST /v2/users/{userId}/meetings` → 201, `PUT
//! /v2/meetings/{meetingId}/status` `{"action":"end"}` → 204, 404 with code 3001 for an unknown
//! meeting), bearer tokens checked on every API call, and failures injected on demand.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

pub const ACCOUNT_ID: &str = "Kx3PqR7sT9uVwXyZ";
pub const CLIENT_ID: &str = "zA1bC2dE3fG4hI5j";
pub const CLIENT_SECRET: &str = "k6L7m8N9o0P1q2R3s4T5u6V7w8X9y0Z1";
pub const SECRET_TOKEN: &str = "wH4tEvEr-th3-Z00m-s3cr3t-t0k3n";

#[derive(Default)]
pub struct Account {
    pub tokens_issued: Vec<String>,
    /// Meetings by id: the created body and whether it was ended.
    pub meetings: BTreeMap<u64, (Value, bool)>,
    /// Every request: method and path.
    pub requests: Vec<(String, String)>,
    /// Statuses the next API calls (not token requests) answer instead, with `Retry-After`: 1 on 429.
    pub fail_next: VecDeque<u16>,
    next_id: u64,
}

pub type Shared = Arc<Mutex<Account>>;

pub struct Stub {
    pub url: String,
    pub account: Shared,
}

impl Stub {
    pub fn oauth_url(&self) -> String {
        self.url.clone()
    }
    pub fn api_url(&self) -> String {
        format!("{}/v2", self.url)
    }
    /// The credentials of the stub's app, as a tenant's admin gives them.
    pub fn credentials(&self) -> Value {
        json!({ "provider": "zoom", "account_id": ACCOUNT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "webhook_secret_token": SECRET_TOKEN })
    }
}

pub async fn start() -> Stub {
    let account: Shared = Arc::default();
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/v2/users/{user}/meetings", post(create_meeting))
        .route("/v2/meetings/{id}/status", put(meeting_status))
        .with_state(account.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub serves") });
    Stub { url, account }
}

fn error(status: u16, code: u64, message: &str) -> Response {
    let mut response = (StatusCode::from_u16(status).unwrap(), Json(json!({ "code": code, "message": message }))).into_response();
    if status == 429 {
        response.headers_mut().insert("retry-after", "1".parse().unwrap());
    }
    response
}

async fn token(State(account): State<Shared>, Query(q): Query<BTreeMap<String, String>>, headers: HeaderMap) -> Response {
    let mut a = account.lock().unwrap();
    a.requests.push(("POST".into(), "/oauth/token".into()));
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if q.get("grant_type").map(String::as_str) != Some("account_credentials") {
        return (StatusCode::BAD_REQUEST, Json(json!({ "reason": "Unsupported grant type", "error": "unsupported_grant_type" })))
            .into_response();
    }
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) || q.get("account_id").map(String::as_str) != Some(ACCOUNT_ID) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "reason": "Invalid client_id or client_secret", "error": "invalid_client" })))
            .into_response();
    }
    let token = format!("eyJzdHViIjp0cnVlfQ.{}", ulid::Ulid::new());
    a.tokens_issued.push(token.clone());
    Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": 3599, "scope": "meeting:write:meeting:admin meeting:update:meeting:admin", "api_url": "https://api.zoom.us" })).into_response()
}

/// The bearer token of an API call, checked; or the failure to answer instead.
fn check(a: &mut Account, headers: &HeaderMap, method: &str, path: String) -> Result<(), Response> {
    a.requests.push((method.into(), path));
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| a.tokens_issued.iter().any(|issued| issued == t)) {
        return Err(error(401, 124, "Invalid access token."));
    }
    if let Some(status) = a.fail_next.pop_front() {
        return Err(error(status, 0, "injected by the stub"));
    }
    Ok(())
}

async fn create_meeting(State(account): State<Shared>, Path(user): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let mut a = account.lock().unwrap();
    if let Err(r) = check(&mut a, &headers, "POST", format!("/v2/users/{user}/meetings")) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else { return error(400, 300, "Invalid request body.") };
    if !matches!(body.get("type").and_then(Value::as_u64), Some(1 | 2 | 3 | 8))
        || body.get("topic").and_then(Value::as_str).is_none_or(|t| t.len() > 200)
    {
        return error(400, 300, "Invalid meeting type or topic.");
    }
    a.next_id += 1;
    let id = 85_746_392_000 + a.next_id;
    let password = "aBc123";
    let meeting = json!({
        "uuid": format!("{}==", ulid::Ulid::new()),
        "id": id,
        "host_id": "KdYKjnimT4KPd8FFgQt9FQ",
        "host_email": "host@example.com",
        "topic": body["topic"],
        "type": body["type"],
        "status": "waiting",
        "timezone": "UTC",
        "created_at": "2026-12-05T10:00:00Z",
        "start_url": format!("https://us05web.zoom.us/s/{id}?zak=stub"),
        "join_url": format!("https://us05web.zoom.us/j/{id}?pwd={password}"),
        "password": password,
        "settings": body["settings"],
    });
    a.meetings.insert(id, (meeting.clone(), false));
    (StatusCode::CREATED, Json(meeting)).into_response()
}

async fn meeting_status(State(account): State<Shared>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let mut a = account.lock().unwrap();
    if let Err(r) = check(&mut a, &headers, "PUT", format!("/v2/meetings/{id}/status")) {
        return r;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if body.get("action").and_then(Value::as_str) != Some("end") {
        return error(400, 300, "Invalid action.");
    }
    match id.parse::<u64>().ok().and_then(|id| a.meetings.get_mut(&id)) {
        Some(meeting) => {
            meeting.1 = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(404, 3001, &format!("Meeting does not exist: {id}.")),
    }
}
