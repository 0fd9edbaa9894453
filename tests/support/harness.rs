//! Starts confer-local on port 0 with a fresh data directory per test, and typed clients for
//! its REST and WebSocket APIs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use confer::domain::{Principal, Role, TenantId};
use confer::identity::LocalIssuer;
use confer_local::stack::{self, Running, ServeConfig};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub ws_url: String,
    pub data_dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().to_path_buf();
        let mut server = Self::start_in(&data_dir, Vec::new()).await;
        server._dir = Some(dir);
        server
    }

    /// A server whose configuration `change` adjusts first (e.g. without a speech engine).
    pub async fn start_with(change: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().to_path_buf();
        let mut server = Self::start_configured(&data_dir, Vec::new(), change).await;
        server._dir = Some(dir);
        server
    }

    pub async fn start_in(data_dir: &Path, webhooks: Vec<String>) -> Self {
        Self::start_configured(data_dir, webhooks, |_| {}).await
    }

    async fn start_configured(data_dir: &Path, webhooks: Vec<String>, change: impl FnOnce(&mut ServeConfig)) -> Self {
        let mut config = ServeConfig::new("127.0.0.1:0".parse().unwrap(), data_dir);
        change(&mut config);
        config.webhooks = webhooks;
        config.webhook_max_backoff = Duration::from_millis(400);
        let running = stack::start(config).await.expect("confer-local starts");
        let addr = running.addr;
        let server = TestServer {
            running: Some(running),
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/ws"),
            data_dir: data_dir.to_path_buf(),
            _dir: None,
            http: reqwest::Client::new(),
        };
        let health = server.http.get(format!("{}/healthz", server.base)).send().await.expect("healthz answers");
        assert_eq!(health.status(), 200);
        server
    }

    /// Stops the server and starts a new one on the same data directory (a new port).
    pub async fn restart(mut self) -> Self {
        let dir = self._dir.take();
        self.running.take().expect("running").stop().await;
        let mut next = Self::start_in(&self.data_dir, Vec::new()).await;
        next._dir = dir;
        next
    }

    /// Stops the server as an operator does; the answer keeps its temporary data directory alive.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        self.running.take().expect("running").stop().await;
        self._dir.take()
    }

    pub fn token(&self, tenant: &str, role: Role, sub: &str) -> String {
        let issuer = LocalIssuer::load_or_create(&self.data_dir).expect("issuer");
        let p = Principal { tenant: TenantId::parse(tenant).unwrap(), role, id: sub.to_string() };
        issuer.mint(&p, Duration::from_secs(600)).expect("token")
    }

    pub fn client(&self, token: impl Into<String>) -> Api {
        Api { base: self.base.clone(), token: Some(token.into()), http: self.http.clone() }
    }

    pub fn agent(&self, tenant: &str, sub: &str) -> Api {
        self.client(self.token(tenant, Role::Agent, sub))
    }

    pub fn admin(&self, tenant: &str, sub: &str) -> Api {
        self.client(self.token(tenant, Role::Admin, sub))
    }

    pub fn customer(&self, tenant: &str, customer_id: &str) -> Api {
        self.client(self.token(tenant, Role::Customer, customer_id))
    }

    pub fn anonymous(&self) -> Api {
        Api { base: self.base.clone(), token: None, http: self.http.clone() }
    }

    pub async fn ws(&self, token: &str) -> Ws {
        Ws::connect(&format!("{}?token={token}", self.ws_url)).await.expect("websocket connects")
    }
}

/// A server with a customer of acme, Ada Lovelace, and a session agent-ann opened for her.
pub struct Chat {
    pub server: TestServer,
    pub customer_id: String,
    pub session_id: String,
}

pub async fn chat_between_agent_and_customer() -> Chat {
    let server = TestServer::start().await;
    let agent = server.agent("acme", "agent-ann");
    let customer_id = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session_id = agent.open_session(&customer_id, &[]).await["id"].as_str().unwrap().to_string();
    Chat { server, customer_id, session_id }
}

/// A REST client authenticated as one principal.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    /// The `apigw-requestid` response header.
    pub fn request_id(&self) -> &str {
        self.header("apigw-requestid")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self.body
    }
    /// The documented error envelope: this status and code, a message, and the request id of the
    /// `apigw-requestid` header.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "unexpected answer: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "error without message: {}", self.body);
        let request_id = self.body["error"]["request_id"].as_str().unwrap_or_default();
        assert!(!request_id.is_empty(), "error without request_id: {}", self.body);
        assert_eq!(request_id, self.request_id(), "request_id is the apigw-requestid header");
    }
}

impl Api {
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<RawBody>) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        match body {
            Some(RawBody::Json(v)) => req = req.header("content-type", "application/json").body(v.to_string()),
            Some(RawBody::Text(s)) => req = req.header("content-type", "application/json").body(s),
            None => {}
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(RawBody::Json(body))).await
    }
    pub async fn post_raw(&self, path: &str, body: impl Into<String>) -> Answer {
        self.send(reqwest::Method::POST, path, Some(RawBody::Text(body.into()))).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(RawBody::Json(body))).await
    }

    pub async fn create_customer(&self, name: &str) -> Value {
        self.post("/v1/customers", json!({ "name": name })).await.expect(201)
    }

    pub async fn open_session(&self, customer_id: &str, agent_ids: &[&str]) -> Value {
        self.post("/v1/sessions", json!({ "customer_id": customer_id, "agent_ids": agent_ids })).await.expect(201)
    }

    pub async fn messages(&self, session_id: &str, query: &str) -> Answer {
        self.get(&format!("/v1/sessions/{session_id}/messages{query}")).await
    }

    /// `POST /v1/sessions/{id}/attachments`.
    pub async fn request_upload(
        &self,
        session_id: &str,
        client_upload_id: &str,
        file_name: &str,
        content_type: &str,
        size: usize,
    ) -> Answer {
        let body = json!({ "client_upload_id": client_upload_id, "file_name": file_name, "content_type": content_type, "size": size });
        self.post(&format!("/v1/sessions/{session_id}/attachments"), body).await
    }

    /// Polls an attachment until it is no longer pending (the storage trigger runs in the background).
    pub async fn settled_attachment(&self, session_id: &str, attachment_id: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let a = self.get(&format!("/v1/sessions/{session_id}/attachments/{attachment_id}")).await.expect(200);
            if a["status"] != "pending" || std::time::Instant::now() > deadline {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// PUTs bytes to an upload ticket's signed URL with the headers it names; returns the status.
pub async fn put_upload(ticket: &Value, bytes: Vec<u8>) -> u16 {
    let upload = &ticket["upload"];
    let mut req = reqwest::Client::new().put(upload["url"].as_str().expect("upload url")).body(bytes);
    for (k, v) in upload["headers"].as_object().expect("upload headers") {
        req = req.header(k.as_str(), v.as_str().expect("header value"));
    }
    req.send().await.expect("upload sent").status().as_u16()
}

pub enum RawBody {
    Json(Value),
    Text(String),
}

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client speaking Confer's protocol.
pub struct Ws {
    stream: Stream,
    pub protocol: Option<String>,
    /// Whether `presence` and `session` frames are returned; by default they are skipped, so a
    /// test of messages reads its frames in order without the room's comings and goings.
    ambient: bool,
}

/// Frames about the room rather than its messages.
const AMBIENT: &[&str] = &["presence", "session"];

impl Ws {
    pub async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let (stream, response) = tokio_tungstenite::connect_async(url).await?;
        let protocol = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(Ws { stream, protocol, ambient: false })
    }

    /// Connects offering subprotocols (a browser's way to present the token).
    pub async fn connect_with_protocols(url: &str, protocols: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", protocols.parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await?;
        let protocol = response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(Ws { stream, protocol, ambient: false })
    }

    /// Also returns `presence` and `session` frames.
    pub fn with_ambient_frames(mut self) -> Self {
        self.ambient = true;
        self
    }

    pub async fn send_json(&mut self, v: Value) {
        self.stream.send(Message::Text(v.to_string().into())).await.expect("frame sent");
    }

    pub async fn send_text(&mut self, s: impl Into<String>) {
        self.stream.send(Message::Text(s.into().into())).await.expect("frame sent");
    }

    pub async fn send_message(&mut self, session_id: &str, client_message_id: &str, text: &str) {
        self.send_json(json!({ "action": "send", "session_id": session_id, "client_message_id": client_message_id, "text": text })).await;
    }

    /// The next JSON frame, or None if nothing arrives within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) => return None,
                Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Text(t)))) => {
                    let frame: Value = serde_json::from_str(t.as_str()).expect("frames are JSON");
                    if !self.ambient && frame["type"].as_str().is_some_and(|t| AMBIENT.contains(&t)) {
                        continue;
                    }
                    return Some(frame);
                }
                Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(5)).await.expect("a frame within 5 s")
    }

    /// Next frame of the given type, failing on anything else.
    pub async fn expect(&mut self, frame_type: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], frame_type, "unexpected frame: {frame}");
        frame
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
