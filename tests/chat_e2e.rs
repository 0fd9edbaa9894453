//! Real-time chat end to end: REST and WebSocket clients against confer-local on port 0.

use std::time::Duration;

use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, TestServer, Ws};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_and_customer_chat_in_real_time_with_receipts_and_history() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;

    customer_ws.send_message(&chat.session_id, "c-1", "Hello, my parcel is late").await;
    let ack = customer_ws.expect("ack").await;
    assert_eq!(ack["client_message_id"], "c-1");
    assert_eq!(ack["duplicate"], false);
    let message_id = ack["message"]["id"].as_str().unwrap().to_string();
    assert_eq!(ack["message"]["seq"], 1, "the session's first message");

    let delivered = agent_ws.expect("message").await;
    assert_eq!(delivered["message"]["id"], message_id.as_str());
    assert_eq!(delivered["message"]["text"], "Hello, my parcel is late");
    assert_eq!(delivered["message"]["sender"], json!({ "kind": "customer", "id": chat.customer_id }));

    // The agent acknowledges delivery; the customer sees a receipt.
    assert_eq!(delivered["message"]["seq"], 1);
    agent_ws.send_json(json!({ "action": "ack", "session_id": chat.session_id, "up_to_seq": 1 })).await;
    let receipt = customer_ws.expect("receipt").await;
    assert_eq!(receipt["up_to_seq"], 1);
    assert_eq!(receipt["session_id"], chat.session_id.as_str());
    assert_eq!(receipt["participant"], json!({ "kind": "agent", "id": "agent-ann" }));
    assert_eq!(receipt["status"], "delivered");

    agent_ws.send_message(&chat.session_id, "a-1", "Sorry to hear that — let me check.").await;
    agent_ws.expect("ack").await;
    let reply = customer_ws.expect("message").await;
    assert_eq!(reply["message"]["sender"]["kind"], "agent");
    assert_eq!(reply["message"]["seq"], 2);
    // An acknowledgement beyond the latest message is refused; one at or below the watermark
    // changes nothing and sends no receipt.
    customer_ws.send_json(json!({ "action": "ack", "session_id": chat.session_id, "up_to_seq": 3 })).await;
    assert_eq!(customer_ws.expect("error").await["code"], "validation_failed");
    agent_ws.send_json(json!({ "action": "ack", "session_id": chat.session_id, "up_to_seq": 1 })).await;
    assert!(customer_ws.next_within(Duration::from_millis(200)).await.is_none(), "a repeated ack sends no receipt");

    // The recorded watermark is visible on the session.
    let session = s.agent("acme", "agent-ann").get(&format!("/v1/sessions/{}", chat.session_id)).await.expect(200);
    let agent_part = session["participants"].as_array().unwrap().iter().find(|p| p["kind"] == "agent").unwrap().clone();
    assert_eq!(agent_part["delivered_seq"], 1);
    assert_eq!(session["last_seq"], 2);

    // Both can read the history, newest first by default.
    for api in [s.agent("acme", "agent-ann"), s.customer("acme", &chat.customer_id)] {
        let page = api.messages(&chat.session_id, "").await.expect(200);
        let texts: Vec<&str> = page["items"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
        assert_eq!(texts, vec!["Sorry to hear that — let me check.", "Hello, my parcel is late"]);
    }
    assert!(customer_ws.next_within(Duration::from_millis(200)).await.is_none(), "no stray frames");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_message_is_stored_and_delivered_once() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;

    customer_ws.send_message(&chat.session_id, "same-id", "first try").await;
    let first = customer_ws.expect("ack").await;
    customer_ws.send_message(&chat.session_id, "same-id", "first try").await;
    let second = customer_ws.expect("ack").await;
    assert_eq!(second["duplicate"], true);
    assert_eq!(first["message"]["id"], second["message"]["id"]);

    agent_ws.expect("message").await;
    assert!(agent_ws.next_within(Duration::from_millis(300)).await.is_none(), "the resend was delivered again");
    let page = s.agent("acme", "agent-ann").messages(&chat.session_id, "").await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // The same client id from another sender is a different message.
    agent_ws.send_message(&chat.session_id, "same-id", "agent's own").await;
    assert_eq!(agent_ws.expect("ack").await["duplicate"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_of_a_participant_receives_the_message() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let agent_token = s.token("acme", Role::Agent, "agent-ann");
    let mut agent_laptop = s.ws(&agent_token).await;
    let mut agent_phone = s.ws(&agent_token).await;
    let mut customer_tab1 = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    let mut customer_tab2 = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;

    customer_tab1.send_message(&chat.session_id, "m1", "from tab 1").await;
    customer_tab1.expect("ack").await;
    for ws in [&mut agent_laptop, &mut agent_phone, &mut customer_tab2] {
        assert_eq!(ws.expect("message").await["message"]["text"], "from tab 1");
    }
    // The sending socket gets the ack, not a copy.
    assert!(customer_tab1.next_within(Duration::from_millis(200)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_may_come_as_a_subprotocol() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let token = s.token("acme", Role::Customer, &chat.customer_id);
    let mut ws = Ws::connect_with_protocols(&s.ws_url, &format!("confer.v1, bearer.{token}")).await.expect("connects");
    assert_eq!(ws.protocol.as_deref(), Some("confer.v1"));
    ws.send_json(json!({ "action": "ping" })).await;
    ws.expect("pong").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_connection_is_cleaned_up_and_no_longer_receives() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let stack = s.running.as_ref().unwrap().stack.clone();
    let agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    assert_eq!(stack.connections.len(), 2);
    agent_ws.close().await;

    // $disconnect ran (after the socket's writer finished): the record is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (stack.connections.len() != 1 || stack.connection_records.len() != 1) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stack.connections.len(), 1);
    assert_eq!(stack.connection_records.len(), 1, "the closed connection's record is gone");

    // Sending still works; the message waits in history for the agent.
    customer_ws.send_message(&chat.session_id, "m1", "anyone there?").await;
    customer_ws.expect("ack").await;
    let page = s.agent("acme", "agent-ann").messages(&chat.session_id, "").await.expect(200);
    assert_eq!(page["items"][0]["text"], "anyone there?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_connection_record_is_removed_when_its_socket_is_gone() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let stack = s.running.as_ref().unwrap().stack.clone();
    // A record whose socket no longer exists (a crashed client, before $disconnect ran).
    let agent =
        confer::domain::Principal { tenant: confer::domain::TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-ann".into() };
    confer::app::connections::connect(&stack.app, &agent, "ghost-connection").await.unwrap();
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;

    customer_ws.send_message(&chat.session_id, "m1", "hello").await;
    customer_ws.expect("ack").await;
    let ghost = stack.app.connections_table.get(&confer::keys::connection("ghost-connection")).await.unwrap();
    assert_eq!(ghost, None, "the gone connection's record was deleted");
    assert_eq!(stack.connection_records.len(), 1, "only the customer's own connection is left");
    // The sender's own connection is untouched.
    customer_ws.send_message(&chat.session_id, "m2", "still here").await;
    customer_ws.expect("ack").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_restart() {
    let chat = chat_between_agent_and_customer().await;
    let (session_id, customer_id) = (chat.session_id.clone(), chat.customer_id.clone());
    let s = chat.server;
    let mut ws = s.ws(&s.token("acme", Role::Customer, &customer_id)).await;
    let mut acked = Vec::new();
    for i in 0..50 {
        ws.send_message(&session_id, &format!("c{i}"), &format!("message {i}")).await;
        acked.push(ws.expect("ack").await["message"]["id"].as_str().unwrap().to_string());
    }
    drop(ws);
    let s = s.restart().await;
    let api = s.customer("acme", &customer_id);
    let page = api.messages(&session_id, "?direction=forward&limit=100").await.expect(200);
    let ids: Vec<String> = page["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, acked);
    // The signing key survived too: old tokens still work, and chat resumes.
    let mut ws = s.ws(&s.token("acme", Role::Customer, &customer_id)).await;
    ws.send_message(&session_id, "c0", "message 0").await;
    assert_eq!(ws.expect("ack").await["duplicate"], true, "idempotency records survive a restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_both_ways_with_cursors_and_anchors() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let mut ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ws.send_message(&chat.session_id, &format!("m{i}"), &format!("text {i}")).await;
        ids.push(ws.expect("ack").await["message"]["id"].as_str().unwrap().to_string());
    }
    let api = s.customer("acme", &chat.customer_id);
    let collect =
        |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect() };

    // Forward, 3 at a time.
    let mut seen = Vec::new();
    let mut query = "?direction=forward&limit=3".to_string();
    loop {
        let page = api.messages(&chat.session_id, &query).await.expect(200);
        seen.extend(collect(&page));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?direction=forward&limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Backward, 3 at a time.
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_string();
    loop {
        let page = api.messages(&chat.session_id, &query).await.expect(200);
        seen.extend(collect(&page));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=3&cursor={c}"),
            None => break,
        }
    }
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(seen, reversed);

    // Catch-up after a reconnect: everything after a sequence number; and older than one.
    let after = api.messages(&chat.session_id, "?after_seq=5").await.expect(200);
    assert_eq!(collect(&after), ids[5..].to_vec());
    let seqs: Vec<u64> = after["items"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![6, 7]);
    let from_start = api.messages(&chat.session_id, "?after_seq=0").await.expect(200);
    assert_eq!(collect(&from_start), ids);
    assert!(api.messages(&chat.session_id, "?after_seq=7").await.expect(200)["items"].as_array().unwrap().is_empty());
    let before = api.messages(&chat.session_id, "?before_seq=5&limit=2").await.expect(200);
    assert_eq!(collect(&before), vec![ids[3].clone(), ids[2].clone()]);
    assert!(api.messages(&chat.session_id, "?after_seq=7").await.expect(200)["items"].as_array().unwrap().is_empty());

    // Bad paging input is refused.
    api.messages(&chat.session_id, "?limit=0").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?limit=101").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?cursor=not-a-cursor").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?direction=sideways").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?after_seq=1&before_seq=3").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?after_seq=-1").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?after_seq=two").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?after_seq=1000000000000").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?before_seq=0").await.expect_error(400, "validation_failed");
    api.messages(&chat.session_id, "?after_seq=2&direction=backward").await.expect_error(400, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_sessions_lifecycle() {
    let server = TestServer::start().await;
    let agent = server.agent("acme", "agent-ann");
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(agent.create_customer(&format!("Customer {i}")).await["id"].as_str().unwrap().to_string());
    }
    // List with a cursor.
    let first = agent.get("/v1/customers?limit=2").await.expect(200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let mut all: Vec<String> = first["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = agent.get(&format!("/v1/customers?limit=2&cursor={c}")).await.expect(200);
        all.extend(page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(all, created);

    // Update: set, clear, keep.
    let id = &created[0];
    let updated = agent
        .patch(&format!("/v1/customers/{id}"), json!({ "email": "c0@example.com", "attributes": { "plan": "gold" } }))
        .await
        .expect(200);
    assert_eq!(updated["email"], "c0@example.com");
    assert_eq!(updated["name"], "Customer 0");
    let cleared = agent.patch(&format!("/v1/customers/{id}"), json!({ "email": null })).await.expect(200);
    assert!(cleared.get("email").is_none());
    assert_eq!(cleared["attributes"]["plan"], "gold");
    agent.patch("/v1/customers/cus_01HZZZZZZZZZZZZZZZZZZZZZZZ", json!({ "name": "x" })).await.expect_error(404, "not_found");

    // A customer reads their own profile and sessions, nothing else.
    let me = server.customer("acme", id);
    assert_eq!(me.get(&format!("/v1/customers/{id}")).await.expect(200)["id"], id.as_str());
    me.get(&format!("/v1/customers/{}", created[1])).await.expect_error(404, "not_found");
    me.get("/v1/customers").await.expect_error(403, "forbidden");
    me.post("/v1/customers", json!({ "name": "Mallory" })).await.expect_error(403, "forbidden");

    // Sessions: newest first under the customer; closing is idempotent and stops sending.
    let s1 = agent.open_session(id, &["agent-bob"]).await;
    let s2 = agent.open_session(id, &[]).await;
    assert_eq!(s1["participants"].as_array().unwrap().len(), 3);
    let listed = me.get(&format!("/v1/customers/{id}/sessions")).await.expect(200);
    let order: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(order, vec![s2["id"].as_str().unwrap(), s1["id"].as_str().unwrap()]);

    let sid = s1["id"].as_str().unwrap();
    me.post(&format!("/v1/sessions/{sid}/close"), json!({})).await.expect_error(403, "forbidden");
    server.agent("acme", "agent-zed").post(&format!("/v1/sessions/{sid}/close"), json!({})).await.expect_error(403, "not_a_participant");
    let closed = agent.post(&format!("/v1/sessions/{sid}/close"), json!({})).await.expect(200);
    assert_eq!(closed["status"], "closed");
    let again = server.agent("acme", "agent-bob").post(&format!("/v1/sessions/{sid}/close"), json!({})).await.expect(200);
    assert_eq!(again["closed_at"], closed["closed_at"]);
    let listed = me.get(&format!("/v1/customers/{id}/sessions")).await.expect(200);
    assert_eq!(listed["items"][1]["status"], "closed");

    let mut ws = server.ws(&server.token("acme", Role::Customer, id)).await;
    ws.send_message(sid, "late", "is anyone there?").await;
    let err = ws.expect("error").await;
    assert_eq!((err["code"].as_str(), err["client_message_id"].as_str()), (Some("session_closed"), Some("late")));
    // The old session stays readable.
    me.get(&format!("/v1/sessions/{sid}")).await.expect(200);

    // Sessions need a customer of this tenant.
    agent.post("/v1/sessions", json!({ "customer_id": "cus_01HZZZZZZZZZZZZZZZZZZZZZZZ" })).await.expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_into_a_session_closed_since_returns_the_stored_message() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let mut ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    ws.send_message(&chat.session_id, "c-1", "before the close").await;
    let first = ws.expect("ack").await;
    s.agent("acme", "agent-ann").post(&format!("/v1/sessions/{}/close", chat.session_id), json!({})).await.expect(200);

    // The client never saw its ack (say) and resends: it gets the stored message back.
    ws.send_message(&chat.session_id, "c-1", "before the close").await;
    let resent = ws.expect("ack").await;
    assert_eq!(resent["duplicate"], true);
    assert_eq!(resent["message"], first["message"]);
    // A new message is refused.
    ws.send_message(&chat.session_id, "c-2", "after the close").await;
    let err = ws.expect("error").await;
    assert_eq!((err["code"].as_str(), err["client_message_id"].as_str()), (Some("session_closed"), Some("c-2")));
    let page = s.agent("acme", "agent-ann").messages(&chat.session_id, "").await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_have_one_shape_with_three_fraction_digits() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let mut ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    for i in 0..20 {
        ws.send_message(&chat.session_id, &format!("t{i}"), "tick").await;
        ws.expect("ack").await;
    }
    let agent = s.agent("acme", "agent-ann");
    let page = agent.messages(&chat.session_id, "?direction=forward&limit=100").await.expect(200);
    let session = agent.get(&format!("/v1/sessions/{}", chat.session_id)).await.expect(200);
    let customer = agent.get(&format!("/v1/customers/{}", chat.customer_id)).await.expect(200);
    let mut stamps: Vec<String> = page["items"].as_array().unwrap().iter().map(|m| m["created_at"].as_str().unwrap().to_string()).collect();
    stamps.push(session["created_at"].as_str().unwrap().to_string());
    stamps.push(customer["created_at"].as_str().unwrap().to_string());
    for stamp in &stamps {
        let b = stamp.as_bytes();
        let shaped =
            b.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[20..23].iter().all(u8::is_ascii_digit) && b[23] == b'Z';
        assert!(shaped, "{stamp} is not YYYY-MM-DDTHH:MM:SS.mmmZ");
    }
    let messages = &stamps[..20];
    assert!(messages.windows(2).all(|w| w[0] <= w[1]), "message stamps sort as strings in send order: {messages:?}");
}
