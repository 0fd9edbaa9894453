//! A local stub of Google's OAuth token endpoint and the Meet REST API, built from their
//! documented requests and answers, for the Google Meet adapter's tests (Google offers no
//! emulator): the JWT bearer grant (`POST /token`, form `grant_type=urn:ietf:params:oauth:
//! grant-type:jwt-bearer` and `assertion`, a JWT the service account signs with RS256: checked
//! against its public key, with `iss`, `sub`, `scope`, `aud`, `iat` and `exp`), spaces (`POST
//! /v2/spaces` → `name`, `meetingUri`, `meetingCode`, `config`) and `POST
//! /v2/spaces/{id}:endActiveConference` (400 `FAILED_PRECONDITION` when no conference runs).
//! Events as Google delivers them: Workspace Events subscriptions (`POST /v1/subscriptions` →
//! an operation), Pub/Sub pushes (`message` with base64 `data`, CloudEvents attributes `ce-type`
//! and `ce-subject`, `messageId`) carrying an OIDC token Google signs (RS256, `kid`; its keys at
//! `/oauth2/v3/certs`), recordings (`GET /v2/conferenceRecords/{c}/recordings/{r}` with
//! `driveDestination.file`) and their Drive files (`GET /drive/v3/files/{id}?alt=media`).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{json, Value};

pub const CLIENT_EMAIL: &str = "confer-meet@acme-video.iam.gserviceaccount.com";
pub const SUBJECT: &str = "support-lead@acme.example";
/// The service account the tenant's push subscription authenticates as.
pub const PUSH_ACCOUNT: &str = "confer-push@acme-video.iam.gserviceaccount.com";
pub const TOPIC: &str = "projects/acme-video/topics/confer-meet";
const GOOGLE_KID: &str = "a50f6e70ef4b548a5fd9142eecd1fb8f54dce9ee";

#[derive(Default)]
pub struct Workspace {
    pub tokens_issued: Vec<String>,
    /// Spaces by name: their config, and whether a conference is running in them.
    pub spaces: BTreeMap<String, (Value, bool)>,
    pub ended: Vec<String>,
    pub fail_next: VecDeque<u16>,
    /// Workspace Events subscriptions as asked for.
    pub subscriptions: Vec<Value>,
    /// Recordings by name: their Drive file id; Drive files by id.
    pub recordings: BTreeMap<String, String>,
    pub files: BTreeMap<String, Vec<u8>>,
    pub downloads: usize,
}

pub type Shared = Arc<Mutex<Workspace>>;

pub struct Stub {
    pub url: String,
    pub workspace: Shared,
    /// The service account's private key (PKCS#8 PEM), as its JSON key file holds it.
    pub private_key: String,
    /// Google's own signing key for push tokens (PKCS#8 PEM).
    google_key: String,
}

impl Stub {
    pub fn oauth_url(&self) -> String {
        self.url.clone()
    }
    pub fn api_url(&self) -> String {
        format!("{}/v2", self.url)
    }
    pub fn credentials(&self) -> Value {
        json!({ "provider": "meet", "client_email": CLIENT_EMAIL, "private_key": self.private_key, "subject": SUBJECT })
    }
    pub fn events_url(&self) -> String {
        format!("{}/v1", self.url)
    }
    pub fn drive_url(&self) -> String {
        format!("{}/drive/v3", self.url)
    }
    pub fn certs_url(&self) -> String {
        format!("{}/oauth2/v3/certs", self.url)
    }
    /// The credentials with events routed through the tenant's Pub/Sub to `audience`.
    pub fn credentials_with_events(&self, audience: &str) -> Value {
        let mut c = self.credentials();
        c["events"] = json!({ "pubsub_topic": TOPIC, "push_service_account": PUSH_ACCOUNT, "audience": audience });
        c
    }

    /// An OIDC token as Pub/Sub signs it for a push: Google's key, or `key` (a forgery).
    pub fn push_token(&self, audience: &str, email: &str, key: Option<&str>) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({
            "aud": audience, "azp": "110350183837652398743", "email": email, "email_verified": true,
            "exp": now + 3600, "iat": now, "iss": "https://accounts.google.com", "sub": "110350183837652398743",
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(GOOGLE_KID.into());
        let pem = key.unwrap_or(&self.google_key);
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()).unwrap()
    }

    /// Pushes one Meet event about `space` to `url` with `token`, as Pub/Sub does; the status.
    pub async fn push(&self, url: &str, token: &str, message_id: &str, event: &str, space: &str, data: Value) -> u16 {
        use base64::Engine as _;
        let body = json!({
            "message": {
                "attributes": {
                    "ce-datacontenttype": "application/json",
                    "ce-id": message_id,
                    "ce-source": format!("//workspaceevents.googleapis.com/subscriptions/meet-{}", space.replace('/', "-")),
                    "ce-specversion": "1.0",
                    "ce-subject": format!("//meet.googleapis.com/{space}"),
                    "ce-time": "2026-12-05T10:05:00.000Z",
                    "ce-type": format!("google.workspace.meet.{event}"),
                },
                "data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
                "messageId": message_id,
                "message_id": message_id,
                "publishTime": "2026-12-05T10:05:01.124Z",
            },
            "subscription": "projects/acme-video/subscriptions/confer-meet-push",
        });
        let res = reqwest::Client::new().post(url).bearer_auth(token).json(&body).send().await.unwrap();
        res.status().as_u16()
    }

    /// Meet has written a recording of `space` to the organizer's Drive: its name.
    pub fn add_recording(&self, space: &str, content: Vec<u8>) -> String {
        let mut w = self.workspace.lock().unwrap();
        let file = format!("1{}", ulid::Ulid::new());
        let name =
            format!("conferenceRecords/{}-{}/recordings/{}", space.trim_start_matches("spaces/"), w.recordings.len(), ulid::Ulid::new());
        w.recordings.insert(name.clone(), file.clone());
        w.files.insert(file, content);
        name
    }
}

struct Keys {
    public_pem: String,
    /// Google's signing key as a JWK set.
    jwks: Value,
    workspace: Shared,
    token_url: Mutex<String>,
}

/// An RSA key pair made by openssl (as Google makes a service account's key).
fn key_pair(dir: &FsPath) -> (String, String) {
    let private = dir.join("key.pem");
    let public = dir.join("key.pub.pem");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl makes the service account's key");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", private.to_str().unwrap()]);
    run(&["pkey", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    (std::fs::read_to_string(private).unwrap(), std::fs::read_to_string(public).unwrap())
}

pub async fn start() -> Stub {
    let dir = tempfile::tempdir().unwrap();
    let (private_key, public_pem) = key_pair(dir.path());
    let google = tempfile::tempdir().unwrap();
    let (google_key, google_public) = key_pair(google.path());
    let jwks = json!({ "keys": [jwk(&google.path().join("key.pub.pem"), &google_public)] });
    let workspace: Shared = Arc::default();
    let keys = Arc::new(Keys { public_pem, jwks, workspace: workspace.clone(), token_url: Mutex::new(String::new()) });
    let app = Router::new()
        .route("/token", post(token))
        .route("/v2/spaces", post(create_space))
        .route("/v2/spaces/{action}", post(space_action))
        .route("/v1/subscriptions", post(subscribe))
        .route("/v2/conferenceRecords/{record}/recordings/{recording}", axum::routing::get(get_recording))
        .route("/drive/v3/files/{id}", axum::routing::get(drive_file))
        .route("/oauth2/v3/certs", axum::routing::get(certs))
        .with_state(keys.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    *keys.token_url.lock().unwrap() = format!("{url}/token");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub serves") });
    Stub { url, workspace, private_key, google_key }
}

fn google_error(status: u16, state: &str, message: &str) -> Response {
    let mut response =
        (StatusCode::from_u16(status).unwrap(), Json(json!({ "error": { "code": status, "message": message, "status": state } })))
            .into_response();
    if status == 429 {
        response.headers_mut().insert("retry-after", "1".parse().unwrap());
    }
    response
}

async fn token(State(keys): State<Arc<Keys>>, Form(form): Form<BTreeMap<String, String>>) -> Response {
    let refuse = |why: &str| (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant", "error_description": why }))).into_response();
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "unsupported_grant_type", "error_description": "Invalid grant_type" })))
            .into_response();
    }
    let Some(assertion) = form.get("assertion") else { return refuse("No assertion") };
    let Ok(key) = jsonwebtoken::DecodingKey::from_rsa_pem(keys.public_pem.as_bytes()) else { return refuse("no key") };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[keys.token_url.lock().unwrap().clone()]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
    let claims = match jsonwebtoken::decode::<Value>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => return refuse(&format!("Invalid JWT Signature: {e}")),
    };
    if claims["sub"] != SUBJECT {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested." }))).into_response();
    }
    if !claims["scope"].as_str().unwrap_or_default().split(' ').any(|s| s == "https://www.googleapis.com/auth/meetings.space.created") {
        return refuse("Invalid scope");
    }
    let token = format!("ya29.stub-{}", ulid::Ulid::new());
    keys.workspace.lock().unwrap().tokens_issued.push(token.clone());
    Json(json!({ "access_token": token, "expires_in": 3599, "token_type": "Bearer" })).into_response()
}

fn check(w: &mut Workspace, headers: &HeaderMap) -> Result<(), Response> {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| w.tokens_issued.iter().any(|i| i == t)) {
        return Err(google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."));
    }
    if let Some(status) = w.fail_next.pop_front() {
        return Err(google_error(status, if status == 429 { "RESOURCE_EXHAUSTED" } else { "UNAVAILABLE" }, "injected by the stub"));
    }
    Ok(())
}

async fn create_space(State(keys): State<Arc<Keys>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut w = keys.workspace.lock().unwrap();
    if let Err(r) = check(&mut w, &headers) {
        return r;
    }
    let access = body.pointer("/config/accessType").and_then(Value::as_str).unwrap_or("TRUSTED");
    if !matches!(access, "OPEN" | "TRUSTED" | "RESTRICTED") {
        return google_error(400, "INVALID_ARGUMENT", "Invalid value at 'space.config.access_type'");
    }
    let id: String = ulid::Ulid::new().to_string().chars().take(12).collect();
    let code = "abc-mnop-xyz".to_string();
    let name = format!("spaces/{id}");
    let space = json!({
        "name": name,
        "meetingUri": format!("https://meet.google.com/{code}"),
        "meetingCode": code,
        "config": { "accessType": access, "entryPointAccess": body.pointer("/config/entryPointAccess").cloned().unwrap_or(json!("ALL")) },
    });
    // A conference runs once someone joins: the stub says one does.
    w.spaces.insert(name, (body, true));
    Json(space).into_response()
}

async fn space_action(State(keys): State<Arc<Keys>>, Path(action): Path<String>, headers: HeaderMap) -> Response {
    let mut w = keys.workspace.lock().unwrap();
    if let Err(r) = check(&mut w, &headers) {
        return r;
    }
    let Some((id, "endActiveConference")) = action.split_once(':') else { return google_error(404, "NOT_FOUND", "Method not found.") };
    let name = format!("spaces/{id}");
    match w.spaces.get_mut(&name) {
        None => google_error(404, "NOT_FOUND", "Requested entity was not found."),
        Some((_, false)) => google_error(400, "FAILED_PRECONDITION", "No active conference in the space."),
        Some((_, running)) => {
            *running = false;
            w.ended.push(name);
            Json(json!({})).into_response()
        }
    }
}

/// A public key as a JWK (`n` and `e` base64url), as Google publishes its keys.
fn jwk(path: &FsPath, _pem: &str) -> Value {
    use base64::Engine as _;
    let out = std::process::Command::new("openssl").args(["rsa", "-pubin", "-noout", "-modulus", "-in"]).arg(path).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    json!({ "kty": "RSA", "alg": "RS256", "use": "sig", "kid": GOOGLE_KID, "n": b64(&n), "e": b64(&[1, 0, 1]) })
}

async fn certs(State(keys): State<Arc<Keys>>) -> Response {
    Json(keys.jwks.clone()).into_response()
}

async fn subscribe(State(keys): State<Arc<Keys>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut w = keys.workspace.lock().unwrap();
    if let Err(r) = check(&mut w, &headers) {
        return r;
    }
    let target = body["targetResource"].as_str().unwrap_or_default();
    if !target.starts_with("//meet.googleapis.com/spaces/")
        || body.pointer("/notificationEndpoint/pubsubTopic").and_then(Value::as_str).is_none()
    {
        return google_error(400, "INVALID_ARGUMENT", "targetResource and notificationEndpoint.pubsubTopic are required");
    }
    if !body["eventTypes"]
        .as_array()
        .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t.as_str().is_some_and(|t| t.starts_with("google.workspace.meet."))))
    {
        return google_error(400, "INVALID_ARGUMENT", "Invalid event types");
    }
    let id = format!("meet-spaces-{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut subscription = body.clone();
    subscription["name"] = json!(format!("subscriptions/{id}"));
    subscription["state"] = json!("ACTIVE");
    w.subscriptions.push(subscription.clone());
    Json(json!({ "name": format!("operations/{id}"), "done": true, "response": subscription })).into_response()
}

async fn get_recording(State(keys): State<Arc<Keys>>, Path((record, recording)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let mut w = keys.workspace.lock().unwrap();
    if let Err(r) = check(&mut w, &headers) {
        return r;
    }
    let name = format!("conferenceRecords/{record}/recordings/{recording}");
    match w.recordings.get(&name) {
        Some(file) => Json(json!({
            "name": name, "state": "FILE_GENERATED", "startTime": "2026-12-05T10:00:00Z", "endTime": "2026-12-05T10:05:00Z",
            "driveDestination": { "file": file, "exportUri": format!("https://drive.google.com/file/d/{file}/view?usp=drive_web") },
        }))
        .into_response(),
        None => google_error(404, "NOT_FOUND", "Requested entity was not found."),
    }
}

async fn drive_file(
    State(keys): State<Arc<Keys>>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let mut w = keys.workspace.lock().unwrap();
    if let Err(r) = check(&mut w, &headers) {
        return r;
    }
    if q.get("alt").map(String::as_str) != Some("media") {
        return google_error(400, "INVALID_ARGUMENT", "Only alt=media is served here");
    }
    match w.files.get(&id).cloned() {
        Some(bytes) => {
            w.downloads += 1;
            ([("content-type", "video/mp4")], bytes).into_response()
        }
        None => google_error(404, "NOT_FOUND", &format!("File not found: {id}.")),
    }
}
