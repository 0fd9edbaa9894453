//! What a console and a customer chat need beyond messages, end to end on confer-local: read
//! receipts and unread counts, typing, presence, the caller's session list kept live by `session`
//! frames, customer search, invitation links, and agents signing in with a password.

use std::time::Duration;

use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, TestServer, Ws};
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

/// Frames of `kind` arriving within `wait`.
async fn none_of(ws: &mut Ws, kind: &str, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while let Some(frame) = ws.next_within(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
        if frame["type"] == kind {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_receipts_move_unread_counts_and_the_session_list_follows_live() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let agent = s.agent("acme", "agent-ann");
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await.with_ambient_frames();
    for i in 0..3 {
        customer_ws.send_message(&c.session_id, &format!("c{i}"), &format!("question {i}")).await;
        customer_ws.expect("ack").await;
    }
    let mine = agent.get("/v1/sessions?status=open").await.expect(200);
    let item = &mine["items"][0];
    assert_eq!((item["id"].as_str(), item["customer_name"].as_str()), (Some(c.session_id.as_str()), Some("Ada Lovelace")));
    assert_eq!((item["last_seq"].as_u64(), item["read_seq"].as_u64(), item["unread"].as_u64()), (Some(3), Some(0), Some(3)));

    agent_ws.send_json(json!({ "action": "read", "session_id": c.session_id, "up_to_seq": 2 })).await;
    let receipt = next_of(&mut customer_ws, "receipt").await;
    assert_eq!((receipt["status"].as_str(), receipt["up_to_seq"].as_u64()), (Some("read"), Some(2)));
    assert_eq!(receipt["participant"], json!({ "kind": "agent", "id": "agent-ann" }));
    let mine = agent.get("/v1/sessions").await.expect(200);
    assert_eq!(mine["items"][0]["unread"], 1);
    let session = agent.get(&format!("/v1/sessions/{}", c.session_id)).await.expect(200);
    let ann = session["participants"].as_array().unwrap().iter().find(|p| p["kind"] == "agent").unwrap().clone();
    assert_eq!((ann["read_seq"].as_u64(), ann["online"].as_bool()), (Some(2), Some(true)));
    // A read watermark never moves back, and never past the latest message.
    agent_ws.send_json(json!({ "action": "read", "session_id": c.session_id, "up_to_seq": 1 })).await;
    assert!(none_of(&mut customer_ws, "receipt", Duration::from_millis(300)).await);
    agent_ws.send_json(json!({ "action": "read", "session_id": c.session_id, "up_to_seq": 9 })).await;
    assert_eq!(next_of(&mut agent_ws, "error").await["code"], "validation_failed");

    // A new session and a closed one reach the lists of everyone in them as they happen.
    let second = agent.open_session(&c.customer_id, &["agent-bob"]).await;
    let opened = next_of(&mut customer_ws, "session").await;
    assert_eq!((opened["session"]["id"].as_str(), opened["session"]["status"].as_str()), (second["id"].as_str(), Some("open")));
    agent.post(&format!("/v1/sessions/{}/close", c.session_id), json!({})).await.expect(200);
    let closed = next_of(&mut customer_ws, "session").await;
    assert_eq!((closed["session"]["id"].as_str(), closed["session"]["status"].as_str()), (Some(c.session_id.as_str()), Some("closed")));
    let open = agent.get("/v1/sessions?status=open").await.expect(200);
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let bob = s.agent("acme", "agent-bob").get("/v1/sessions").await.expect(200);
    assert_eq!(bob["items"][0]["id"], second["id"], "an agent added to a session finds it in their list");
    let customer_list = s.customer("acme", &c.customer_id).get("/v1/sessions").await.expect(200);
    assert_eq!(customer_list["items"].as_array().unwrap().len(), 2, "a customer lists their own sessions");
    agent.get("/v1/sessions?status=pending").await.expect_error(400, "validation_failed");
    assert_eq!(s.agent("globex", "agent-ann").get("/v1/sessions").await.expect(200)["items"], json!([]), "another tenant's ann has none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_is_relayed_at_most_every_two_seconds_and_presence_follows_connections() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await.with_ambient_frames();
    let agent_token = s.token("acme", Role::Agent, "agent-ann");
    let mut laptop = s.ws(&agent_token).await;
    let online = next_of(&mut customer_ws, "presence").await;
    assert_eq!((online["participant"]["id"].as_str(), online["online"].as_bool()), (Some("agent-ann"), Some(true)));
    assert_eq!(online["session_id"], c.session_id.as_str());
    let phone = s.ws(&agent_token).await;
    assert!(none_of(&mut customer_ws, "presence", Duration::from_millis(300)).await, "a second device changes nothing");

    laptop.send_json(json!({ "action": "typing", "session_id": c.session_id })).await;
    let typing = next_of(&mut customer_ws, "typing").await;
    assert_eq!(typing["participant"], json!({ "kind": "agent", "id": "agent-ann" }));
    laptop.send_json(json!({ "action": "typing", "session_id": c.session_id })).await;
    assert!(none_of(&mut customer_ws, "typing", Duration::from_millis(500)).await, "a second typing within 2 s is dropped");
    // Typing is never stored.
    assert_eq!(s.agent("acme", "agent-ann").messages(&c.session_id, "").await.expect(200)["items"], json!([]));
    // Another tenant cannot type into the session.
    let mut stranger = s.ws(&s.token("globex", Role::Agent, "agent-ann")).await;
    stranger.send_json(json!({ "action": "typing", "session_id": c.session_id })).await;
    assert_eq!(next_of(&mut stranger, "error").await["code"], "not_found");

    laptop.close().await;
    assert!(none_of(&mut customer_ws, "presence", Duration::from_millis(300)).await, "still online on the phone");
    phone.close().await;
    let offline = next_of(&mut customer_ws, "presence").await;
    assert_eq!((offline["participant"]["id"].as_str(), offline["online"].as_bool()), (Some("agent-ann"), Some(false)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_link_lets_a_customer_in_once() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let agent = s.agent("acme", "agent-ann");
    let invitation = agent.post(&format!("/v1/customers/{}/invitations", c.customer_id), json!({})).await.expect(201);
    let secret = invitation["secret"].as_str().unwrap().to_string();
    assert_eq!(invitation["join_path"], format!("/#/join/{secret}"));
    let anonymous = s.anonymous();
    let issued = anonymous.post("/v1/invitations/exchange", json!({ "secret": secret })).await.expect(200);
    assert_eq!((issued["role"].as_str(), issued["id"].as_str()), (Some("customer"), Some(c.customer_id.as_str())));
    let customer = s.client(issued["token"].as_str().unwrap());
    assert_eq!(customer.get("/v1/me").await.expect(200), json!({ "tenant": "acme", "role": "customer", "id": c.customer_id }));
    customer.get(&format!("/v1/sessions/{}", c.session_id)).await.expect(200);
    let mut ws = s.ws(issued["token"].as_str().unwrap()).await;
    ws.send_message(&c.session_id, "hello", "I came through the link").await;
    ws.expect("ack").await;

    // Single use; a tampered or unknown secret is refused the same way.
    anonymous.post("/v1/invitations/exchange", json!({ "secret": secret })).await.expect_error(404, "invitation_invalid");
    let last = if secret.ends_with('x') { "y" } else { "x" };
    let tampered = format!("{}{last}", &secret[..secret.len() - 1]);
    anonymous.post("/v1/invitations/exchange", json!({ "secret": tampered })).await.expect_error(404, "invitation_invalid");
    let elsewhere = format!("globex{}", &secret[secret.find('.').unwrap()..]);
    anonymous.post("/v1/invitations/exchange", json!({ "secret": elsewhere })).await.expect_error(404, "invitation_invalid");
    anonymous.post("/v1/invitations/exchange", json!({ "secret": "globex.nothing" })).await.expect_error(400, "validation_failed");
    anonymous.post("/v1/invitations/exchange", json!({})).await.expect_error(400, "validation_failed");
    // Only staff of the customer's tenant invite; lifetimes are bounded.
    s.customer("acme", &c.customer_id)
        .post(&format!("/v1/customers/{}/invitations", c.customer_id), json!({}))
        .await
        .expect_error(403, "forbidden");
    s.agent("globex", "agent-ann")
        .post(&format!("/v1/customers/{}/invitations", c.customer_id), json!({}))
        .await
        .expect_error(404, "not_found");
    agent
        .post(&format!("/v1/customers/{}/invitations", c.customer_id), json!({ "valid_for_seconds": 10 }))
        .await
        .expect_error(400, "validation_failed");
    agent
        .post(&format!("/v1/customers/{}/invitations", c.customer_id), json!({ "valid_for_seconds": 700000 }))
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_backend_obtains_a_token_for_a_customer_it_authenticated_itself() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let path = format!("/v1/customers/{}/tokens", c.customer_id);
    let issued = s.agent("acme", "site-backend").post(&path, json!({})).await.expect(201);
    assert_eq!(
        (issued["tenant"].as_str(), issued["role"].as_str(), issued["id"].as_str()),
        (Some("acme"), Some("customer"), Some(c.customer_id.as_str()))
    );
    assert!(issued["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let token = issued["token"].as_str().unwrap();
    let customer = s.client(token);
    assert_eq!(customer.get("/v1/me").await.expect(200)["id"], c.customer_id.as_str());
    customer.get(&format!("/v1/sessions/{}", c.session_id)).await.expect(200);
    let mut ws = s.ws(token).await;
    ws.send_message(&c.session_id, "from-site", "Hello from your website").await;
    ws.expect("ack").await;

    // Only staff of the customer's own tenant; a customer cannot mint, not even for themself.
    s.agent("globex", "site-backend").post(&path, json!({})).await.expect_error(404, "not_found");
    s.customer("acme", &c.customer_id).post(&path, json!({})).await.expect_error(403, "forbidden");
    s.anonymous().post(&path, json!({})).await.expect_error(401, "unauthorized");
    s.agent("acme", "site-backend")
        .post("/v1/customers/cus_01M8E24NKB3T5X7Z9C1E4G6J8M/tokens", json!({}))
        .await
        .expect_error(404, "not_found");
    s.agent("acme", "site-backend").post("/v1/customers/not-an-id/tokens", json!({})).await.expect_error(400, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_sign_in_with_a_password_and_customers_are_found_by_name_or_email() {
    let s = TestServer::start().await;
    confer::adapters::local::agents::LocalAgents::in_dir(&s.data_dir).put("acme", "ann", Role::Admin, "correct horse battery").unwrap();
    let anonymous = s.anonymous();
    let signed = anonymous
        .post("/v1/local/sign-in", json!({ "tenant": "acme", "username": "ann", "password": "correct horse battery" }))
        .await
        .expect(200);
    assert_eq!((signed["role"].as_str(), signed["id"].as_str()), (Some("admin"), Some("ann")));
    anonymous
        .post("/v1/local/sign-in", json!({ "tenant": "acme", "username": "ann", "password": "wrong horse battery" }))
        .await
        .expect_error(401, "unauthorized");
    anonymous
        .post("/v1/local/sign-in", json!({ "tenant": "globex", "username": "ann", "password": "correct horse battery" }))
        .await
        .expect_error(401, "unauthorized");

    let ann = s.client(signed["token"].as_str().unwrap());
    for (name, email) in
        [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@navy.example"), ("Alan Turing", "alan@bletchley.example")]
    {
        ann.post("/v1/customers", json!({ "name": name, "email": email })).await.expect(201);
    }
    let names =
        |v: &Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect() };
    assert_eq!(names(&ann.get("/v1/customers?q=hopper").await.expect(200)), ["Grace Hopper"]);
    assert_eq!(names(&ann.get("/v1/customers?q=EXAMPLE&limit=2").await.expect(200)).len(), 2);
    assert_eq!(names(&ann.get("/v1/customers?q=bletchley").await.expect(200)), ["Alan Turing"]);
    assert!(names(&ann.get("/v1/customers?q=nobody").await.expect(200)).is_empty());
    ann.get("/v1/customers?q=%20%20").await.expect_error(400, "validation_failed");
    assert!(names(&s.agent("globex", "x").get("/v1/customers?q=ada").await.expect(200)).is_empty(), "another tenant finds nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_invite_change_and_disable_their_own_agents_only() {
    let s = TestServer::start().await;
    confer::adapters::local::agents::LocalAgents::in_dir(&s.data_dir).put("acme", "ann", Role::Admin, "correct horse battery").unwrap();
    let anonymous = s.anonymous();
    let sign_in = |tenant: &'static str, user: String, password: String| {
        let anonymous = anonymous.clone();
        async move { anonymous.post("/v1/local/sign-in", json!({ "tenant": tenant, "username": user, "password": password })).await }
    };
    let ann = s.client(sign_in("acme", "ann".into(), "correct horse battery".into()).await.expect(200)["token"].as_str().unwrap());

    let bob = ann.post("/v1/agents", json!({ "username": "bob", "role": "agent" })).await.expect(201);
    let password = bob["one_time_password"].as_str().unwrap().to_string();
    ann.post("/v1/agents", json!({ "username": "bob", "role": "admin" })).await.expect_error(409, "conflict");
    ann.post("/v1/agents", json!({ "username": "eve", "role": "customer" })).await.expect_error(400, "validation_failed");
    ann.patch("/v1/agents/bob", json!({ "role": "customer" })).await.expect_error(400, "validation_failed");
    let bob_token = sign_in("acme", "bob".into(), password.clone()).await.expect(200)["token"].as_str().unwrap().to_string();
    let bob_api = s.client(bob_token.clone());
    bob_api.get("/v1/agents").await.expect_error(403, "forbidden");
    bob_api.post("/v1/agents", json!({ "username": "mallory", "role": "admin" })).await.expect_error(403, "forbidden");
    let listed = ann.get("/v1/agents").await.expect(200);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "bob"]);

    // Another tenant's admin sees none of them and can change none.
    let globex = s.admin("globex", "gus");
    assert_eq!(globex.get("/v1/agents").await.expect(200), json!([]));
    globex.patch("/v1/agents/bob", json!({ "disabled": true })).await.expect_error(404, "not_found");

    assert_eq!(ann.patch("/v1/agents/bob", json!({ "role": "admin" })).await.expect(200)["role"], "admin");
    ann.patch("/v1/agents/ann", json!({ "disabled": true })).await.expect_error(409, "conflict");
    // Disabling closes the agent's open socket and stops their sign-in.
    let mut bob_ws = s.ws(&bob_token).await;
    bob_ws.send_json(json!({ "action": "ping" })).await;
    bob_ws.expect("pong").await;
    assert_eq!(ann.patch("/v1/agents/bob", json!({ "disabled": true })).await.expect(200)["disabled"], true);
    assert!(bob_ws.closed_with().await.is_some(), "the disabled agent's socket is closed");
    sign_in("acme", "bob".into(), password).await.expect_error(401, "unauthorized");
}
