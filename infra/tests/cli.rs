//! The `confer-local` binary as a person or a script uses it: serve on a chosen port, mint a
//! token, call the API, and refuse a second server on the same data directory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_confer-local")
}

fn serve(data_dir: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("confer-local starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("the listening address is printed").to_string();
    (Server(child), base)
}

#[tokio::test]
async fn serve_token_and_call_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path());
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let openapi: serde_json::Value = http.get(format!("{base}/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(openapi["paths"]["/v1/customers"].is_object());
    let jwks: serde_json::Value = http.get(format!("{base}/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["alg"], "RS256");

    let out = Command::new(bin())
        .args(["token", "--tenant", "acme", "--role", "agent", "--sub", "agent-1", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let created =
        http.post(format!("{base}/v1/customers")).bearer_auth(&token).json(&serde_json::json!({ "name": "Ada" })).send().await.unwrap();
    assert_eq!(created.status(), 201);

    // A customer token needs a customer id.
    let bad = Command::new(bin())
        .args(["token", "--tenant", "acme", "--role", "customer", "--sub", "bob", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("customer id"));
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_first, _) = serve(dir.path());
    let second = Command::new(bin()).args(["serve", "--addr", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).output();
    let second = tokio::time::timeout(Duration::from_secs(20), async { second }).await.unwrap().unwrap();
    assert!(!second.status.success(), "two servers must not share a data directory");
}

/// Reads the log file until a line satisfies `want`, for up to 10 s (lines are written as they happen).
async fn log_line(path: &std::path::Path, want: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..100 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines() {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            if want(&value) {
                return value;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no such log line in:\n{}", std::fs::read_to_string(path).unwrap_or_default());
}

#[tokio::test]
async fn json_logs_tell_each_request_and_connection_and_never_a_token_or_a_message() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::Message;

    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let log_path = dir.path().join("confer.log");
    let mut child = Command::new(bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "info", "--data-dir"])
        .arg(&data_dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("confer-local starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _server = Server(child);
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).expect("the listening address is printed").to_string();
    let token = |role: &str, sub: &str| {
        let out = Command::new(bin())
            .args(["token", "--tenant", "acme", "--role", role, "--sub", sub, "--data-dir"])
            .arg(&data_dir)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let agent = token("agent", "agent-1");
    let http = reqwest::Client::new();

    let created =
        http.post(format!("{base}/v1/customers")).bearer_auth(&agent).json(&serde_json::json!({ "name": "Ada" })).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let request_id = created.headers()["apigw-requestid"].to_str().unwrap().to_string();
    let customer: serde_json::Value = created.json().await.unwrap();
    let request = log_line(&log_path, |l| l["message"] == "request" && l["request_id"] == request_id.as_str()).await;
    assert_eq!(request["status"], 201);
    assert_eq!(request["method"], "POST");
    assert_eq!(request["route_key"], "POST /v1/customers");
    assert_eq!(
        (request["tenant"].as_str(), request["role"].as_str(), request["principal"].as_str()),
        (Some("acme"), Some("agent"), Some("agent-1"))
    );
    assert!(request["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{request}");
    assert_eq!(request["level"], "INFO");

    // A refusal by the gateway is logged too, without a principal.
    let refused = http.get(format!("{base}/v1/customers")).bearer_auth("not-a-token").send().await.unwrap();
    let refused_id = refused.headers()["apigw-requestid"].to_str().unwrap().to_string();
    let line = log_line(&log_path, |l| l["request_id"] == refused_id.as_str()).await;
    assert_eq!((line["status"].as_u64(), line.get("principal")), (Some(401), None));

    // A chat over the socket: the connection's lines, and never the message's text.
    let session: serde_json::Value = http
        .post(format!("{base}/v1/sessions"))
        .bearer_auth(&agent)
        .json(&serde_json::json!({ "customer_id": customer["id"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws_url = format!("{}/ws?token={agent}", base.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket connects");
    let secret = "the order number is 4711-SECRET";
    let frame = serde_json::json!({ "action": "send", "session_id": session["id"], "client_message_id": "c-1", "text": secret });
    ws.send(Message::Text(frame.to_string().into())).await.unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.unwrap().unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("\"ack\""), "{ack:?}");
    ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await.unwrap();
    let opened = log_line(&log_path, |l| l["message"] == "websocket connected").await;
    assert_eq!((opened["tenant"].as_str(), opened["principal"].as_str()), (Some("acme"), Some("agent-1")));
    let connection = opened["connection_id"].as_str().unwrap().to_string();
    let closed = log_line(&log_path, |l| l["message"] == "websocket disconnected" && l["connection_id"] == connection.as_str()).await;
    assert_eq!((closed["principal"].as_str(), closed["close_code"].as_u64()), (Some("agent-1"), Some(1000)));
    assert!(closed["duration_ms"].as_i64().is_some_and(|ms| ms >= 0), "{closed}");

    let log = std::fs::read_to_string(&log_path).unwrap();
    let signature = agent.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "a token reached the log");
    assert!(!log.contains(secret), "a message's text reached the log");
}

#[tokio::test]
async fn the_web_console_is_served_at_the_root_with_a_strict_content_security_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve(dir.path());
    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    // The client built into the binary: its script is a file of the build, never inline.
    let script = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script file").to_string();
    assert!(script.starts_with("/assets/") && script.ends_with(".js"), "{script}");
    assert!(!html.contains("<script>"), "{html}");
    let js = http.get(format!("{base}{script}")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(js.headers()["cache-control"].to_str().unwrap().contains("immutable"));

    // The client's own routes are the page; a missing file is a 404; the API keeps its answers.
    let route = http.get(format!("{base}/customers/cus_x")).send().await.unwrap();
    assert_eq!((route.status().as_u16(), route.headers()["content-type"].to_str().unwrap()), (200, "text/html; charset=utf-8"));
    assert_eq!(http.get(format!("{base}/assets/gone.js")).send().await.unwrap().status(), 404);
    assert_eq!(http.head(format!("{base}/")).send().await.unwrap().status(), 200);
    let api = http.get(format!("{base}/v1/nothing")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "route_not_found");
    let post = http.post(format!("{base}/customers")).send().await.unwrap();
    assert_eq!(post.status(), 404, "only GET and HEAD reach the client");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
}
