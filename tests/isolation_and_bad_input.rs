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

/// What is stored (presence, which follows connections, is left out).
async fn snapshot(w: &World) -> (Value, Value, Value) {
    let agent = w.server.agent("acme", "agent-ann");
    let mut session = agent.get(&format!("/v1/sessions/{}", w.session_id)).await.expect(200);
    for participant in session["participants"].as_array_mut().expect("participants") {
        participant.as_object_mut().expect("object").remove("online");
    }
    (agent.get("/v1/customers").await.expect(200), session, agent.messages(&w.session_id, "").await.expect(200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_can_neither_see_nor_join() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let s = &w.server;
    let intruders =
        [(s.agent("globex", "agent-ann"), true), (s.admin("globex", "root"), true), (s.customer("globex", &w.customer_id), false)];
    for (intruder, staff) in intruders {
        intruder.get(&format!("/v1/sessions/{}", w.session_id)).await.expect_error(404, "not_found");
        intruder.messages(&w.session_id, "").await.expect_error(404, "not_found");
        intruder.messages(&w.session_id, "?after_seq=0").await.expect_error(404, "not_found");
        intruder.get(&format!("/v1/customers/{}/sessions", w.customer_id)).await.expect_error(404, "not_found");
        intruder.get(&format!("/v1/customers/{}", w.customer_id)).await.expect_error(404, "not_found");
        let hijack = intruder.patch(&format!("/v1/customers/{}", w.customer_id), json!({ "name": "Hijacked" })).await;
        let close = intruder.post(&format!("/v1/sessions/{}/close", w.session_id), json!({})).await;
        // Staff of another tenant find nothing; customers may not do either anywhere.
        let (status, code) = if staff { (404, "not_found") } else { (403, "forbidden") };
        hijack.expect_error(status, code);
        close.expect_error(status, code);
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
    agent
        .post("/v1/sessions", json!({ "customer_id": w.customer_id, "agent_ids": vec!["a"; 10] }))
        .await
        .expect_error(400, "validation_failed");
    agent.patch(&format!("/v1/customers/{}", w.customer_id), json!({ "name": null })).await.expect_error(400, "validation_failed");
    agent.get("/v1/nowhere").await.expect_error(404, "route_not_found");
    agent.get("/v1/customers/").await.expect_error(404, "route_not_found");
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_path_ids_are_bad_requests_not_missing_resources() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let s = &w.server;
    let (customer, session) = (w.customer_id.as_str(), w.session_id.as_str());
    let lower_case_session = format!("ses_{}", session["ses_".len()..].to_ascii_lowercase());
    let overflowing_customer = format!("cus_8{}", &customer["cus_".len() + 1..]);
    for caller in [s.agent("acme", "agent-ann"), s.admin("acme", "root"), s.customer("acme", customer), s.agent("globex", "agent-ann")] {
        for bad in ["not-an-id", "ses_not-an-id", session, "cus_!!", &lower_case_session, &overflowing_customer] {
            caller.get(&format!("/v1/customers/{bad}")).await.expect_error(400, "validation_failed");
            caller.get(&format!("/v1/customers/{bad}/sessions")).await.expect_error(400, "validation_failed");
        }
        for bad in ["not-an-id", "cus_!!", customer, &lower_case_session, &format!("{session}x")] {
            caller.get(&format!("/v1/sessions/{bad}")).await.expect_error(400, "validation_failed");
            caller.messages(bad, "").await.expect_error(400, "validation_failed");
        }
    }
    // The path id is checked before the role and the body.
    s.customer("acme", customer).patch("/v1/customers/cus_!!", json!({ "name": "B" })).await.expect_error(400, "validation_failed");
    let agent = s.agent("acme", "agent-ann");
    agent.patch("/v1/customers/cus_!!", json!({ "name": "B" })).await.expect_error(400, "validation_failed");
    agent.patch(&format!("/v1/customers/{session}"), json!({ "name": "B" })).await.expect_error(400, "validation_failed");
    agent.post("/v1/sessions/not-an-id/close", json!({})).await.expect_error(400, "validation_failed");
    agent.post(&format!("/v1/sessions/{customer}/close"), json!({})).await.expect_error(400, "validation_failed");
    assert_eq!(snapshot(&w).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_of_a_missing_or_foreign_customer_are_not_found() {
    let w = acme_with_a_session().await;
    let s = &w.server;
    let nobody = "cus_01HZZZZZZZZZZZZZZZZZZZZZZZ";
    for caller in [s.agent("acme", "agent-ann"), s.admin("acme", "root")] {
        caller.get(&format!("/v1/customers/{nobody}/sessions")).await.expect_error(404, "not_found");
        let own = caller.get(&format!("/v1/customers/{}/sessions", w.customer_id)).await.expect(200);
        assert_eq!(own["items"][0]["id"], w.session_id.as_str());
    }
    // A customer with no session yet has an empty list, not a missing one.
    let grace = s.agent("acme", "agent-ann").create_customer("Grace").await["id"].as_str().unwrap().to_string();
    assert_eq!(s.customer("acme", &grace).get(&format!("/v1/customers/{grace}/sessions")).await.expect(200)["items"], json!([]));
    // Another tenant's customer, however the request is phrased.
    let globex = s.agent("globex", "agent-ann");
    globex.get(&format!("/v1/customers/{}/sessions?limit=1", w.customer_id)).await.expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_answer_carries_its_request_id() {
    let w = acme_with_a_session().await;
    let s = &w.server;
    let agent = s.agent("acme", "agent-ann");

    // Successes carry the header too, and every request gets its own id.
    let (a, b) = (agent.get("/v1/customers").await, agent.get("/v1/customers").await);
    assert!(!a.request_id().is_empty());
    assert_ne!(a.request_id(), b.request_id());
    assert!(!agent.get("/healthz").await.request_id().is_empty());

    // Refusals by the gateway itself: token verification, routing, body size.
    s.anonymous().get("/v1/customers").await.expect_error(401, "unauthorized");
    s.client("garbage").get(&format!("/v1/sessions/{}", w.session_id)).await.expect_error(401, "unauthorized");
    s.anonymous().get("/v1/nowhere").await.expect_error(404, "route_not_found");
    let huge = "x".repeat(10 * 1024 * 1024 + 1);
    agent.post_raw("/v1/customers", huge).await.expect_error(413, "payload_too_large");
    // Refusals by the handlers.
    agent.post_raw("/v1/customers", "{").await.expect_error(400, "invalid_json");
    agent.post_raw("/v1/customers", format!("{{\"name\":\"{}\"}}", "x".repeat(65 * 1024))).await.expect_error(413, "payload_too_large");
    s.customer("acme", &w.customer_id).get("/v1/customers").await.expect_error(403, "forbidden");
    agent.get("/v1/events").await.expect_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_a_path_does_not_have_answer_405_with_allow() {
    let w = acme_with_a_session().await;
    let before = snapshot(&w).await;
    let s = &w.server;
    let customer = format!("/v1/customers/{}", w.customer_id);
    let session = format!("/v1/sessions/{}", w.session_id);
    let cases = [
        ("/v1/customers", "POST, GET"),
        (customer.as_str(), "GET, PATCH"),
        (&format!("{customer}/sessions"), "GET"),
        ("/v1/sessions", "POST, GET"),
        (session.as_str(), "GET"),
        (&format!("{session}/close"), "POST"),
        (&format!("{session}/messages"), "GET"),
        ("/v1/events", "GET"),
    ];
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PURGE"];
    for (path, allow) in &cases {
        for method in methods.iter().filter(|m| !allow.split(", ").any(|a| a == **m)) {
            // With a valid token, with none, and with a bad one: the method is refused first.
            for caller in [s.agent("acme", "agent-ann"), s.anonymous(), s.client("garbage")] {
                let answer = caller.send(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), path, None).await;
                answer.expect_error(405, "method_not_allowed");
                assert_eq!(answer.header("allow"), *allow, "{method} {path}");
            }
        }
        // HEAD answers have no body; the status and Allow header still tell.
        let head = s.agent("acme", "agent-ann").send(reqwest::Method::HEAD, path, None).await;
        assert_eq!((head.status, head.header("allow")), (405, *allow), "HEAD {path}");
        assert!(!head.request_id().is_empty());
    }
    // The gateway's own paths too.
    for path in ["/healthz", "/openapi.json", "/.well-known/jwks.json"] {
        let answer = s.anonymous().send(reqwest::Method::DELETE, path, None).await;
        answer.expect_error(405, "method_not_allowed");
        assert_eq!(answer.header("allow"), "GET, HEAD", "DELETE {path}");
    }
    let answer = s.anonymous().send(reqwest::Method::POST, "/ws", None).await;
    assert_eq!((answer.status, answer.code(), answer.header("allow")), (405, "method_not_allowed", "GET, HEAD"));
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
