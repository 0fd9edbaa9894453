//! A local stub of Google's OAuth token endpoint and the Meet REST API, built from their
//! documented requests and answers, for the Google Meet adapter's tests (Google offers no
//! emulator): the JWT bearer grant (`POST /token`, form `grant_type=urn:ietf:params:oauth:
//! grant-type:jwt-bearer` and `assertion`, a JWT the service account signs with RS256: checked
//! against its public key, with `iss`, `sub`, `scope`, `aud`, `iat` and `exp`), spaces (`POST
//! /v2/spaces` → `name`, `meetingUri`, `meetingCode`, `config`) and `POST
//! /v2/spaces/{id}:endActiveConference` (400 `FAILED_PRECONDITION` when no conference runs).

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

#[derive(Default)]
pub struct Workspace {
    pub tokens_issued: Vec<String>,
    /// Spaces by name: their config, and whether a conference is running in them.
    pub spaces: BTreeMap<String, (Value, bool)>,
    pub ended: Vec<String>,
    pub fail_next: VecDeque<u16>,
}

pub type Shared = Arc<Mutex<Workspace>>;

pub struct Stub {
    pub url: String,
    pub workspace: Shared,
    /// The service account's private key (PKCS#8 PEM), as its JSON key file holds it.
    pub private_key: String,
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
}

struct Keys {
    public_pem: String,
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
    let workspace: Shared = Arc::default();
    let keys = Arc::new(Keys { public_pem, workspace: workspace.clone(), token_url: Mutex::new(String::new()) });
    let app = Router::new()
        .route("/token", post(token))
        .route("/v2/spaces", post(create_space))
        .route("/v2/spaces/{action}", post(space_action))
        .with_state(keys.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    *keys.token_url.lock().unwrap() = format!("{url}/token");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub serves") });
    Stub { url, workspace, private_key }
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
