//! Calls on confer-local (docs/calls.md): one active call per session, join information,
//! `call` frames, WebRTC signalling relayed only between the call's participants, quality
//! changes, the history entries, the events, and every refusal.

use std::time::Duration;

use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, Ws};
use serde_json::{json, Value};

/// The next frame of `kind`, skipping others.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let frame = ws.next_within(Duration::from_secs(5)).await.unwrap_or_else(|| panic!("no {kind} frame"));
        if frame["type"] == kind {
            return frame;
        }
    }
}

/// The next `call` frame telling `event`, skipping other frames.
async fn next_call(ws: &mut Ws, event: &str) -> Value {
    loop {
        let frame = next_of(ws, "call").await;
        if frame["event"] == event {
            return frame;
        }
    }
}

/// Whether a frame of `kind` arrives within `wait`.
async fn any_of(ws: &mut Ws, kind: &str, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    while let Some(frame) = ws.next_within(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
        if frame["type"] == kind {
            return Some(frame);
        }
    }
    None
}

fn events_of(events: &Value, kind: &str) -> Vec<Value> {
    events["items"].as_array().unwrap().iter().filter(|e| e["event"]["type"] == kind).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_started_joined_signalled_and_ended_and_the_history_keeps_it() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let agent = s.agent("acme", "agent-ann");
    let customer = s.customer("acme", &c.customer_id);
    let call_path = format!("/v1/sessions/{}/call", c.session_id);
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;

    customer.get(&call_path).await.expect_error(404, "not_found");
    let started = agent.post(&call_path, json!({ "quality": "720p" })).await.expect(201);
    let call = &started["call"];
    assert!(call["id"].as_str().unwrap().starts_with("cal_"));
    assert_eq!(
        (call["provider"].as_str(), call["state"].as_str(), call["quality"].as_str()),
        (Some("webrtc"), Some("active"), Some("720p"))
    );
    assert_eq!(call["max_quality"], "4k", "locally every preset is allowed");
    assert_eq!(started["join"], json!({ "provider": "webrtc", "ice_servers": [], "peers": [] }));

    // The customer is told, and a second start answers the running call.
    let frame = next_of(&mut customer_ws, "call").await;
    assert_eq!((frame["event"].as_str(), frame["call"]["id"].as_str()), (Some("started"), call["id"].as_str()));
    assert_eq!(frame["participant"], json!({ "kind": "agent", "id": "agent-ann" }));
    let again = customer.post(&call_path, json!({})).await.expect(200);
    assert_eq!(again["call"]["id"], call["id"]);
    assert_eq!(again["join"]["peers"], json!([{ "kind": "agent", "id": "agent-ann" }]), "the newcomer offers to whoever is in the call");
    // (The starter's own connections hear of the start too.)
    let joined = next_call(&mut agent_ws, "joined").await;
    assert_eq!((joined["event"].as_str(), joined["participant"]["id"].as_str()), (Some("joined"), Some(c.customer_id.as_str())));
    assert_eq!(customer.get(&call_path).await.expect(200)["participants"].as_array().unwrap().len(), 2);

    // Signalling goes to the named participant only, from the sender, as sent.
    let sdp = "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
    customer_ws
        .send_json(json!({ "action": "signal", "session_id": c.session_id, "to": { "kind": "agent", "id": "agent-ann" }, "kind": "offer", "data": { "type": "offer", "sdp": sdp } }))
        .await;
    let offer = next_of(&mut agent_ws, "signal").await;
    assert_eq!(offer["from"], json!({ "kind": "customer", "id": c.customer_id }));
    assert_eq!(
        (offer["kind"].as_str(), offer["data"]["sdp"].as_str(), offer["call_id"].as_str()),
        (Some("offer"), Some(sdp), call["id"].as_str())
    );
    agent_ws
        .send_json(
            json!({ "action": "signal", "session_id": c.session_id, "to": { "kind": "customer", "id": c.customer_id }, "kind": "candidate",
            "data": { "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host", "sdpMid": "0", "sdpMLineIndex": 0 } }),
        )
        .await;
    let candidate = next_of(&mut customer_ws, "signal").await;
    assert_eq!(candidate["kind"], "candidate");
    assert!(any_of(&mut agent_ws, "signal", Duration::from_millis(300)).await.is_none(), "nothing echoes back to the sender");

    // Quality changes reach everyone.
    let changed = customer.patch(&call_path, json!({ "quality": "1080p" })).await.expect(200);
    assert_eq!(changed["quality"], "1080p");
    assert_eq!(next_call(&mut agent_ws, "quality").await["call"]["quality"], "1080p");
    customer.patch(&call_path, json!({ "quality": "8k" })).await.expect_error(400, "validation_failed");

    // The customer leaves; the agent ends it. The history has both entries, in order.
    let left = customer.post(&format!("{call_path}/leave"), json!({})).await.expect(200);
    assert_eq!(left["state"], "active", "one participant is still in it");
    assert_eq!(next_call(&mut agent_ws, "left").await["participant"]["id"], c.customer_id.as_str());
    let ended = agent.post(&format!("{call_path}/end"), json!({})).await.expect(200);
    assert_eq!(ended["state"], "ended");
    assert!(ended["duration_seconds"].as_u64().is_some());
    assert!(ended["participants"].as_array().unwrap().iter().all(|x| x["left_at"].is_string()));
    assert_eq!(next_call(&mut customer_ws, "ended").await["call"]["state"], "ended");
    agent.get(&call_path).await.expect_error(404, "not_found");
    agent.post(&format!("{call_path}/end"), json!({})).await.expect_error(409, "no_active_call");
    agent.post(&format!("{call_path}/join"), json!({})).await.expect_error(409, "no_active_call");
    agent.patch(&call_path, json!({ "quality": "720p" })).await.expect_error(409, "no_active_call");

    let history = agent.messages(&c.session_id, "").await.expect(200);
    let mut calls: Vec<&Value> = history["items"].as_array().unwrap().iter().filter(|m| m["kind"] == "call").collect();
    calls.sort_by_key(|m| m["seq"].as_u64());
    assert_eq!(calls.len(), 2, "started and ended: {history}");
    assert_eq!((calls[0]["call"]["event"].as_str(), calls[1]["call"]["event"].as_str()), (Some("started"), Some("ended")));
    assert_eq!(calls[1]["call"]["participants"].as_array().unwrap().len(), 2, "who took part");
    assert!(calls[1]["seq"].as_u64() > calls[0]["seq"].as_u64());

    let events = s.admin("acme", "root").get("/v1/events?limit=100").await.expect(200);
    assert_eq!(events_of(&events, "meeting.started").len(), 1);
    assert_eq!(events_of(&events, "meeting.ended").len(), 1);
    assert_eq!(events_of(&events, "meeting.attendee_joined").len(), 1, "the customer joined (the starter is in from the start)");
    assert_eq!(events_of(&events, "meeting.attendee_left").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_to_leave_ends_the_call_and_closing_the_session_ends_its_call() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let agent = s.agent("acme", "agent-ann");
    let call_path = format!("/v1/sessions/{}/call", c.session_id);
    agent.post(&call_path, Value::Null).await.expect(201);
    let left = agent.post(&format!("{call_path}/leave"), json!({})).await.expect(200);
    assert_eq!(left["state"], "ended", "nobody is left in it");

    let started = agent.post(&call_path, json!({ "quality": "480p" })).await.expect(201);
    assert_eq!(started["call"]["quality"], "480p");
    agent.post(&format!("/v1/sessions/{}/close", c.session_id), json!({})).await.expect(200);
    agent.get(&call_path).await.expect_error(404, "not_found");
    let history = agent.messages(&c.session_id, "").await.expect(200);
    // History pages come newest first.
    let last = history["items"].as_array().unwrap().first().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["call"]["event"].as_str()), (Some("call"), Some("ended")), "the call's end is the last entry");
    agent.post(&call_path, json!({})).await.expect_error(409, "session_closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_refuse_outsiders_bad_presets_and_bad_signalling() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let call_path = format!("/v1/sessions/{}/call", c.session_id);
    let agent = s.agent("acme", "agent-ann");

    // Outsiders: another tenant, a customer of another session, an agent not in it.
    s.agent("globex", "agent-ann").post(&call_path, json!({})).await.expect_error(404, "not_found");
    let other = agent.create_customer("Grace Hopper").await["id"].as_str().unwrap().to_string();
    s.customer("acme", &other).post(&call_path, json!({})).await.expect_error(404, "not_found");
    s.agent("acme", "agent-bob").post(&call_path, json!({})).await.expect_error(403, "not_a_participant");
    agent.post(&call_path, json!({ "quality": "8k" })).await.expect_error(400, "validation_failed");
    agent.post(&call_path, json!({ "quality": "720p", "tenant": "globex" })).await.expect_error(400, "validation_failed");
    agent.post("/v1/sessions/not-a-session/call", json!({})).await.expect_error(400, "validation_failed");

    agent.post(&call_path, json!({})).await.expect(201);
    s.agent("globex", "agent-ann").get(&call_path).await.expect_error(404, "not_found");
    s.customer("acme", &other).post(&format!("{call_path}/join"), json!({})).await.expect_error(404, "not_found");
    s.agent("acme", "agent-bob").post(&format!("{call_path}/end"), json!({})).await.expect_error(403, "not_a_participant");

    // Signalling: only between participants in the call, well formed, within its limits.
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let to_customer = json!({ "kind": "customer", "id": c.customer_id });
    let signal = |to: Value, kind: &str, data: Value| json!({ "action": "signal", "session_id": c.session_id, "to": to, "kind": kind, "data": data });
    // The customer has not joined: nothing may be sent to them yet.
    agent_ws.send_json(signal(to_customer.clone(), "offer", json!({ "sdp": "v=0" }))).await;
    assert_eq!(next_of(&mut agent_ws, "error").await["code"], "not_a_participant");
    s.customer("acme", &c.customer_id).post(&format!("{call_path}/join"), json!({})).await.expect(200);
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;
    let cases = [
        (signal(to_customer.clone(), "offer", json!({})), "validation_failed"),
        (signal(to_customer.clone(), "offer", json!({ "sdp": "x".repeat(33 * 1024) })), "validation_failed"),
        (signal(to_customer.clone(), "offer", json!({ "sdp": "v=0", "type": "answer" })), "validation_failed"),
        (signal(to_customer.clone(), "candidate", json!({ "candidate": "c", "extra": 1 })), "validation_failed"),
        (signal(to_customer.clone(), "hangup", json!({ "reason": "x" })), "validation_failed"),
        (signal(to_customer.clone(), "shout", json!({})), "validation_failed"),
        (signal(json!({ "kind": "agent", "id": "agent-bob" }), "hangup", json!({})), "not_a_participant"),
        (signal(json!({ "kind": "customer", "id": other }), "hangup", json!({})), "not_a_participant"),
        (signal(json!({ "kind": "agent", "id": "agent-ann" }), "hangup", json!({})), "not_a_participant"),
    ];
    for (frame, code) in cases {
        agent_ws.send_json(frame.clone()).await;
        let error = next_of(&mut agent_ws, "error").await;
        assert_eq!(error["code"], code, "{frame}");
    }
    agent_ws
        .send_text(format!(
            r#"{{"action":"signal","session_id":"{}","to":{to_customer},"kind":"offer","data":{{"sdp":"{}"}}}}"#,
            c.session_id,
            "y".repeat(70 * 1024)
        ))
        .await;
    assert_eq!(next_of(&mut agent_ws, "error").await["code"], "validation_failed", "a frame over 64 KiB");
    assert!(any_of(&mut customer_ws, "signal", Duration::from_millis(300)).await.is_none(), "nothing refused was relayed");
    agent_ws.send_json(signal(to_customer, "hangup", json!({}))).await;
    assert_eq!(next_of(&mut customer_ws, "signal").await["kind"], "hangup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_whose_last_connection_closes_leaves_the_peer_to_peer_call() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let call_path = format!("/v1/sessions/{}/call", c.session_id);
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;
    s.agent("acme", "agent-ann").post(&call_path, json!({})).await.expect(201);
    s.customer("acme", &c.customer_id).post(&format!("{call_path}/join"), json!({})).await.expect(200);
    customer_ws.close().await;
    let left = next_call(&mut agent_ws, "left").await;
    assert_eq!(left["participant"]["id"], c.customer_id.as_str());
    assert_eq!(left["call"]["state"], "active", "the agent is still in it");
}
