//! A local stub of Zoom's API, built from Zoom's documented requests and answers, for the Zoom
//! adapter's tests (Zoom offers no emulator): Server-to-Server OAuth (`POST /oauth/token` with
//! `grant_type=account_credentials` and `account_id` in the query, the client id and secret as
//! Basic credentials), meetings (`POST /v2/users/{userId}/meetings` → 201, `PUT
//! /v2/meetings/{meetingId}/status` `{"action":"end"}` → 204, 404 with code 3001 for an unknown
//! meeting), bearer tokens checked on every API call, and failures injected on demand. Cloud
//! recordings as Zoom serves them: `recording.completed` deliveries carrying a `download_token`,
//! whose files' `download_url` answers a request bearing that token (or an app token) with a
//! 302 to the file in Zoom's storage.

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
    /// Recording files by id: their bytes and the download token that may fetch them.
    pub files: BTreeMap<String, (Vec<u8>, String)>,
    /// Statuses the next downloads answer instead.
    pub fail_downloads: VecDeque<u16>,
    /// Downloads answered with the file (redirects followed to storage).
    pub downloads: usize,
    /// API calls that stall (answered after two seconds, having done nothing), next first.
    pub stall_next: usize,
    next_id: u64,
}

/// A file of a cloud recording: its bytes, `M4A` or `MP4`, and whose voice it is (a
/// participant's own audio file, named after them) or everyone's.
pub struct RecordedFile {
    pub bytes: Vec<u8>,
    pub file_type: &'static str,
    pub participant: Option<&'static str>,
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

impl Stub {
    /// Keeps the files of a recording of `meeting_id` and answers the `recording.completed`
    /// delivery Zoom would send (its body, unsigned).
    pub fn record(&self, meeting_id: u64, files: Vec<RecordedFile>) -> String {
        let mut a = self.account.lock().unwrap();
        let download_token = format!("dl.{}", ulid::Ulid::new());
        let uuid = format!("{}==", ulid::Ulid::new());
        let (mut shared, mut own) = (Vec::new(), Vec::new());
        for (n, f) in files.into_iter().enumerate() {
            let id = format!("{}-{n}", ulid::Ulid::new());
            let start = format!("2026-12-05T10:00:{:02}Z", n);
            let entry = json!({
                "id": id,
                "meeting_id": uuid,
                "recording_start": start,
                "recording_end": "2026-12-05T10:05:00Z",
                "file_type": f.file_type,
                "file_extension": f.file_type,
                "file_size": f.bytes.len(),
                "play_url": format!("https://us05web.zoom.us/rec/play/{id}"),
                "download_url": format!("{}/rec/download/{id}", self.url),
                "status": "completed",
                "recording_type": if f.file_type == "M4A" { "audio_only" } else { "shared_screen_with_speaker_view" },
            });
            a.files.insert(id.clone(), (f.bytes, download_token.clone()));
            match f.participant {
                Some(name) => {
                    let mut entry = entry;
                    entry.as_object_mut().unwrap().remove("recording_type");
                    entry["file_name"] = json!(name);
                    own.push(entry)
                }
                None => shared.push(entry),
            }
        }
        let total: usize = a.files.values().map(|(b, _)| b.len()).sum();
        json!({
            "event": "recording.completed",
            "event_ts": 1_796_030_000_000u64,
            "download_token": download_token,
            "payload": {
                "account_id": ACCOUNT_ID,
                "object": {
                    "id": meeting_id,
                    "uuid": uuid,
                    "host_id": "KdYKjnimT4KPd8FFgQt9FQ",
                    "host_email": "host@example.com",
                    "account_id": ACCOUNT_ID,
                    "topic": "Confer call",
                    "type": 1,
                    "start_time": "2026-12-05T10:00:00Z",
                    "timezone": "UTC",
                    "duration": 5,
                    "total_size": total,
                    "recording_count": shared.len(),
                    "share_url": "https://us05web.zoom.us/rec/share/stub",
                    "recording_files": shared,
                    "participant_audio_files": own,
                    "password": "aBc123",
                }
            }
        })
        .to_string()
    }
}

pub async fn start() -> Stub {
    let account: Shared = Arc::default();
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/v2/users/{user}/meetings", post(create_meeting))
        .route("/v2/meetings/{id}/status", put(meeting_status))
        .route("/rec/download/{id}", axum::routing::get(download))
        .route("/storage/{id}", axum::routing::get(storage))
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
    let stall = {
        let mut a = account.lock().unwrap();
        let stall = a.stall_next > 0;
        a.stall_next = a.stall_next.saturating_sub(1);
        stall
    };
    if stall {
        // A connection that stalls: the caller gives up first; nothing is created.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        return error(504, 0, "stalled by the stub");
    }
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

/// A recording file's download URL: the delivery's download token (or an app token) as a
/// bearer; a 302 to Zoom's storage.
async fn download(State(account): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut a = account.lock().unwrap();
    a.requests.push(("GET".into(), format!("/rec/download/{id}")));
    if let Some(status) = a.fail_downloads.pop_front() {
        return error(status, 0, "injected by the stub");
    }
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some((_, token)) = a.files.get(&id) else { return error(404, 3301, "This recording does not exist.") };
    if !bearer.is_some_and(|b| b == token || a.tokens_issued.iter().any(|t| t == b)) {
        return error(401, 124, "Invalid access token.");
    }
    (StatusCode::FOUND, [("location", format!("/storage/{id}?sig={}", ulid::Ulid::new()))]).into_response()
}

async fn storage(State(account): State<Shared>, Path(id): Path<String>) -> Response {
    let mut a = account.lock().unwrap();
    let Some((bytes, _)) = a.files.get(&id).cloned() else { return StatusCode::NOT_FOUND.into_response() };
    a.downloads += 1;
    ([("content-type", "application/octet-stream")], bytes).into_response()
}
