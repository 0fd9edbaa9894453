//! Local events: the durable log read with a cursor, and signed webhooks retried until the
//! subscriber is back, across a restart, without loss or repeats.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use confer::adapters::local::event_log::verify_signature;
use confer_tests::harness::TestServer;
use serde_json::Value;

/// One delivery as the subscriber saw it: headers and body.
type Delivery = (HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Subscriber {
    up: Arc<AtomicBool>,
    received: Arc<Mutex<Vec<Delivery>>>,
    refused: Arc<Mutex<usize>>,
}

async fn receive(State(s): State<Subscriber>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    if !s.up.load(Ordering::SeqCst) {
        *s.refused.lock().unwrap() += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    s.received.lock().unwrap().push((headers, body.to_vec()));
    StatusCode::NO_CONTENT
}

async fn start_subscriber() -> (Subscriber, String) {
    let s = Subscriber::default();
    s.up.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new().route("/hook", post(receive)).with_state(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (s, url)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn events_of(s: &Subscriber) -> Vec<Value> {
    s.received.lock().unwrap().iter().map(|(_, b)| serde_json::from_slice(b).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_resume_after_restart_without_repeats() {
    let (subscriber, url) = start_subscriber().await;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(dir.path(), vec![url.clone()]).await;
    let agent = server.agent("acme", "agent-ann");

    let first = agent.create_customer("Ada").await;
    wait_for("customer.created", || subscriber.received.lock().unwrap().len() == 1).await;
    let secret = std::fs::read_to_string(dir.path().join("webhook-secret")).unwrap();
    {
        let received = subscriber.received.lock().unwrap();
        let (headers, body) = &received[0];
        let signature = headers.get("confer-signature").unwrap().to_str().unwrap();
        assert!(verify_signature(secret.trim(), signature, body), "signature verifies with the data directory's secret");
        assert!(!verify_signature("wrong-secret", signature, body));
        let event: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(event["type"], "customer.created");
        assert_eq!(event["tenant"], "acme");
        assert_eq!(event["source"], "confer");
        assert_eq!(event["schemaversion"], "1");
        assert_eq!(event["data"]["customer"]["id"], first["id"]);
        assert_eq!(headers.get("confer-event-id").unwrap().to_str().unwrap(), event["id"].as_str().unwrap());
    }

    // The subscriber goes down: events wait in the log and are retried.
    subscriber.up.store(false, Ordering::SeqCst);
    let mut expected = vec![first["id"].clone()];
    for name in ["Grace", "Edsger", "Barbara"] {
        expected.push(agent.create_customer(name).await["id"].clone());
    }
    wait_for("retries", || *subscriber.refused.lock().unwrap() >= 2).await;
    assert_eq!(subscriber.received.lock().unwrap().len(), 1);
    subscriber.up.store(true, Ordering::SeqCst);
    wait_for("backlog delivered", || subscriber.received.lock().unwrap().len() == 4).await;

    // Restart: delivery resumes from the stored position.
    server.running.unwrap().stop().await;
    let server = TestServer::start_in(dir.path(), vec![url]).await;
    expected.push(server.agent("acme", "agent-ann").create_customer("Alan").await["id"].clone());
    wait_for("event after restart", || subscriber.received.lock().unwrap().len() >= 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ids: Vec<Value> = events_of(&subscriber).iter().map(|e| e["data"]["customer"]["id"].clone()).collect();
    assert_eq!(ids, expected, "every event once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_is_read_with_a_cursor_per_tenant_by_admins() {
    let server = TestServer::start().await;
    let agent = server.agent("acme", "agent-ann");
    let customer = agent.create_customer("Ada").await;
    let session = agent.open_session(customer["id"].as_str().unwrap(), &[]).await;
    server.agent("globex", "agent-x").create_customer("Other").await;

    let admin = server.admin("acme", "boss");
    let page = admin.get("/v1/events?limit=1").await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["event"]["type"], "customer.created");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = admin.get(&format!("/v1/events?after={cursor}")).await.expect(200);
    let types: Vec<&str> = rest["items"].as_array().unwrap().iter().map(|e| e["event"]["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["session.created"]);
    assert_eq!(rest["items"][0]["event"]["data"]["session"]["id"], session["id"]);
    let all = admin.get("/v1/events").await.expect(200);
    assert!(all["items"].as_array().unwrap().iter().all(|e| e["event"]["tenant"] == "acme"), "no other tenant's events");

    agent.get("/v1/events").await.expect_error(403, "forbidden");
    admin.get("/v1/events?after=minus-one").await.expect_error(400, "validation_failed");
}
