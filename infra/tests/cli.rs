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
