//! Tenant isolation and bad input: every refusal has a status and a stable code, and nothing
//! stored changes.

use std::time::Duration;

use confer::domain::{Principal, Role, TenantId};
use confer::identity::LocalIssuer;
use confer_tests::harness::{TestServer, Ws};
use serde_json::{json, Value};

struct World {
    server: TestServer,
    customer_id: String,
    session_id: String,
}

async fn acme_with_a_session() -> World {
    let server = TestServer::start().await;
    let agent = server.agent("acme", "agent-ann");
    let customer_id = agent.create_customer("Ada").await["id"].as_str().unwrap().to_string();
    let session_id = agent.open_session(&customer_id, &[]).await["id"].as_str().unwrap().to_string();
    let mut ws = server.ws(&server.token("acme", Role::Agent, "agent-ann")).await;
    ws.send_message(&session_id, "m1", "secret order details").await;
    ws.expect("ack").await;
    World { server, customer_id, session_id }
}

async fn snapshot(w: &World) -> (Value, Value, Value) {
    let agent = w.server.agent("acme", "agent-ann");
    (
        agent.get("/v1/customers").await.expect(200),
        agent.get(&format!("/v1/sessions/{}", w.session_id)).await.expect(200),
        agent.messages(&w.session_id, "").await.expect(200),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_can_neither_see_nor_join() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let s = &w.server;
    for intruder in [s.agent("globex", "agent-ann"), s.admin("globex", "root"), s.customer("globex", &w.customer_id)] {
        intruder.get(&format!("/v1/sessions/{}", w.session_id)).await.expect_error(404, "not_found");
        intruder.messages(&w.session_id, "").await.expect_error(404, "not_found");
        intruder
            .get(&format!("/v1/customers/{}/sessions", w.customer_id))
            .await
            .expect(200)
            .get("items")
            .map(|i| assert_eq!(i, &json!([])))
            .unwrap_or(());
        intruder.get(&format!("/v1/customers/{}", w.customer_id)).await.expect_error(404, "not_found");
        intruder.patch(&format!("/v1/customers/{}", w.customer_id), json!({ "name": "Hijacked" })).await;
        intruder.post(&format!("/v1/sessions/{}/close", w.session_id), json!({})).await;
    }
    // Same subject, same customer id, other tenant: a different principal entirely.
    let globex = s.agent("globex", "agent-ann");
    assert_eq!(globex.get("/v1/customers").await.expect(200)["items"], json!([]));
    globex.post("/v1/sessions", json!({ "customer_id": w.customer_id })).await.expect_error(404, "not_found");

    // Over the socket: sending into or acknowledging in acme's session fails.
    let mut ws = s.ws(&s.token("globex", Role::Agent, "agent-ann")).await;
    ws.send_message(&w.session_id, "x1", "let me in").await;
    let err = ws.expect("error").await;
    assert_eq!((err["code"].as_str(), err["client_message_id"].as_str()), (Some("not_found"), Some("x1")));
    let seq = before.2["items"][0]["seq"].as_u64().unwrap();
    ws.send_json(json!({ "action": "ack", "session_id": w.session_id, "up_to_seq": seq })).await;
    assert_eq!(ws.expect("error").await["code"], "not_found", "another tenant's session does not exist for this caller");

    // acme's live participants never see globex traffic, and acme's data is unchanged.
    let mut acme_ws = s.ws(&s.token("acme", Role::Customer, &w.customer_id)).await;
    ws.send_message(&w.session_id, "x2", "still trying").await;
    ws.expect("error").await;
    assert!(acme_ws.next_within(Duration::from_millis(200)).await.is_none());
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_sees_only_their_own_sessions() {
    let w = acme_with_a_session().await;
    let s = &w.server;
    let other = s.agent("acme", "agent-ann").create_customer("Grace").await["id"].as_str().unwrap().to_string();
    let nosy = s.customer("acme", &other);
    nosy.get(&format!("/v1/sessions/{}", w.session_id)).await.expect_error(404, "not_found");
    nosy.messages(&w.session_id, "").await.expect_error(404, "not_found");
    nosy.get(&format!("/v1/customers/{}/sessions", w.customer_id)).await.expect_error(404, "not_found");
    let mut ws = s.ws(&s.token("acme", Role::Customer, &other)).await;
    ws.send_message(&w.session_id, "n1", "hi").await;
    assert_eq!(ws.expect("error").await["code"], "not_found");

    // An agent of the tenant who is not a participant may read but not talk.
    let mut zed = s.ws(&s.token("acme", Role::Agent, "agent-zed")).await;
    zed.send_message(&w.session_id, "z1", "hi").await;
    let err = zed.expect("error").await;
    assert_eq!((err["code"].as_str(), err["client_message_id"].as_str()), (Some("not_a_participant"), Some("z1")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_on_rest_and_websocket() {
    let w = acme_with_a_session().await;
    let s = &w.server;
    let ann = Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-ann".into() };
    let issuer = LocalIssuer::load_or_create(&s.data_dir).unwrap();
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = LocalIssuer::load_or_create(foreign_dir.path()).unwrap().mint(&ann, Duration::from_secs(600)).unwrap();
    let wrong_audience = issuer.mint_with(&ann, Duration::from_secs(600), "another-app").unwrap();
    let mut claims: serde_json::Map<String, Value> = ann.to_claims().into_iter().map(|(k, v)| (k, v.into())).collect();
    claims.insert("iss".into(), "confer-local".into());
    claims.insert("aud".into(), "confer".into());
    claims.insert("exp".into(), (confer::domain::now_epoch_seconds() - 120).into());
    let expired = issuer.sign(&claims).unwrap();
    claims.insert("exp".into(), (confer::domain::now_epoch_seconds() + 600).into());
    claims.insert("custom:role".into(), "superuser".into());
    let bad_role = issuer.sign(&claims).unwrap();

    s.anonymous().get("/v1/customers").await.expect_error(401, "unauthorized");
    for token in [foreign.as_str(), wrong_audience.as_str(), expired.as_str(), bad_role.as_str(), "garbage"] {
        s.client(token).get("/v1/customers").await.expect_error(401, "unauthorized");
        let refused = Ws::connect(&format!("{}?token={token}", s.ws_url)).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("handshake with a bad token was not refused: {:?}", other.map(|_| ())),
        }
    }
    match Ws::connect(&s.ws_url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("handshake without a token was not refused: {:?}", other.map(|_| ())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rest_input_gets_stable_codes_and_changes_nothing() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let agent = w.server.agent("acme", "agent-ann");
    agent.post_raw("/v1/customers", "{\"name\": ").await.expect_error(400, "invalid_json");
    agent.post_raw("/v1/customers", "").await.expect_error(400, "invalid_json");
    agent.post("/v1/customers", json!({ "name": 42 })).await.expect_error(400, "validation_failed");
    agent.post("/v1/customers", json!({ "name": "" })).await.expect_error(400, "validation_failed");
    agent.post("/v1/customers", json!({ "name": "A", "email": "nope" })).await.expect_error(400, "validation_failed");
    // The tenant comes from the token; a body that names one is refused, not obeyed.
    agent.post("/v1/customers", json!({ "name": "A", "tenant": "globex" })).await.expect_error(400, "validation_failed");
    let huge = json!({ "name": "A", "attributes": { "blob": "x".repeat(70 * 1024) } });
    agent.post("/v1/customers", huge).await.expect_error(413, "payload_too_large");
    agent.patch(&format!("/v1/customers/{}", w.customer_id), json!({})).await.expect_error(400, "validation_failed");
    agent.post("/v1/sessions", json!({ "customer_id": "cus_#T#globex" })).await.expect_error(400, "validation_failed");
    agent
        .post("/v1/sessions", json!({ "customer_id": w.customer_id, "agent_ids": ["bad#agent"] }))
        .await
        .expect_error(400, "validation_failed");
    agent.get("/v1/sessions/ses_not-an-id").await.expect_error(404, "not_found");
    agent.get("/v1/nowhere").await.expect_error(404, "route_not_found");
    let put = agent.send(reqwest::Method::DELETE, "/v1/customers", None).await;
    assert_eq!((put.status, put.code()), (405, "route_not_found"));
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_websocket_frames_get_error_frames_and_change_nothing() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let s = &w.server;
    let mut ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;

    ws.send_text("{not json").await;
    assert_eq!(ws.expect("error").await["code"], "invalid_json");
    ws.send_json(json!({ "action": "dance" })).await;
    assert_eq!(ws.expect("error").await["code"], "unknown_action");
    ws.send_json(json!({ "text": "no action" })).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send_json(json!({ "action": "send", "session_id": w.session_id, "client_message_id": "m9" })).await;
    let missing_text = ws.expect("error").await;
    assert_eq!((missing_text["code"].as_str(), missing_text["client_message_id"].as_str()), (Some("validation_failed"), Some("m9")));
    ws.send_message(&w.session_id, "m10", &"x".repeat(4_001)).await;
    let too_long = ws.expect("error").await;
    assert_eq!((too_long["code"].as_str(), too_long["client_message_id"].as_str()), (Some("validation_failed"), Some("m10")));
    ws.send_message(&w.session_id, "m11", "   ").await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send_message(&w.session_id, "bad id!", "hello").await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send_message("ses_nope", "m12", "hello").await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send_json(json!({ "action": "ack", "session_id": w.session_id, "up_to_seq": 99 })).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed", "beyond the latest message");
    ws.send_json(json!({ "action": "ack", "session_id": w.session_id, "up_to_seq": 0 })).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed");
    ws.send_json(json!({ "action": "ack", "session_id": w.session_id, "message_id": "msg_01HZZZZZZZZZZZZZZZZZZZZZZZ" })).await;
    assert_eq!(ws.expect("error").await["code"], "validation_failed", "acknowledgements name a sequence number");
    assert_eq!(snapshot(&w).await, before);

    // A frame over API Gateway's 128 KB message limit closes the socket with 1009, as AWS does.
    ws.send_text(
        json!({ "action": "send", "session_id": w.session_id, "client_message_id": "big", "text": "y".repeat(130 * 1024) }).to_string(),
    )
    .await;
    assert_eq!(ws.closed_with().await, Some(1009));
    assert_eq!(snapshot(&w).await, before);
}
