//! Search end to end on confer-local: written through the API, indexed from the store's change
//! feed, found through `GET /v1/search` within the caller's scope; changed and found as changed;
//! the index surviving a restart and rebuilt when removed; every bad query refused.

use std::time::Duration;

use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, put_upload, Api, TestServer};
use serde_json::{json, Value};

/// Searches until `check` holds (the index follows the store within moments), or fails.
async fn eventually(api: &Api, query: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = api.get(&format!("/v1/search?{query}")).await.expect(200);
        if check(&found) {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "search {query} never matched: {found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ids(found: &Value) -> Vec<String> {
    let mut v: Vec<String> = found["items"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn messages_customers_and_announcements_are_found_within_scope_and_follow_changes() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let agent = s.agent("acme", "agent-ann");
    let ada = s.customer("acme", &chat.customer_id);
    let mut ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    ws.send_message(&chat.session_id, "m1", "The parcel arrived this morning but the box was crushed").await;
    ws.expect("ack").await;
    ws.send_message(&chat.session_id, "m2", "Here is a photo of the damaged box").await;
    ws.expect("ack").await;

    // Another customer of the tenant, and another tenant with the same words.
    let ben = agent.create_customer("Ben Okafor").await["id"].as_str().unwrap().to_string();
    let ben_session = agent.open_session(&ben, &[]).await["id"].as_str().unwrap().to_string();
    let mut ben_ws = s.ws(&s.token("acme", Role::Customer, &ben)).await;
    ben_ws.send_message(&ben_session, "b1", "My parcel never came").await;
    ben_ws.expect("ack").await;
    let globex = s.agent("globex", "agent-gil");
    let gus = globex.create_customer("Gus Globex").await["id"].as_str().unwrap().to_string();
    let gus_session = globex.open_session(&gus, &[]).await["id"].as_str().unwrap().to_string();
    let mut gus_ws = s.ws(&s.token("globex", Role::Customer, &gus)).await;
    gus_ws.send_message(&gus_session, "g1", "The parcel arrived crushed too").await;
    gus_ws.expect("ack").await;

    // The agent finds both of the tenant's parcels, with a snippet and a link into the session.
    let found = eventually(&agent, "q=parcel%20", |f| f["total"] == 2).await;
    let hit = found["items"].as_array().unwrap().iter().find(|h| h["session_id"] == chat.session_id.as_str()).expect("Ada's message");
    assert_eq!(hit["kind"], "message");
    assert_eq!(hit["link"]["seq"], 1);
    assert_eq!(hit["link"]["session_id"], chat.session_id.as_str());
    let marked: Vec<&str> =
        hit["snippet"].as_array().unwrap().iter().filter(|p| p["hit"] == true).map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(marked, ["parcel"]);
    assert_eq!(found["facets"]["message"], 2);
    // A phrase, a prefix, a typo; the date order.
    assert_eq!(agent.get("/v1/search?q=%22damaged%20box%22").await.expect(200)["total"], 1);
    assert_eq!(agent.get("/v1/search?q=crush").await.expect(200)["total"], 1);
    assert_eq!(agent.get("/v1/search?q=photoo%20").await.expect(200)["total"], 1);
    let by_date = agent.get("/v1/search?q=box%20&sort=date").await.expect(200);
    let seqs: Vec<u64> = by_date["items"].as_array().unwrap().iter().map(|h| h["link"]["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2, 1]);

    // Ada finds her own, never Ben's or the other tenant's, whatever she types or filters.
    let mine = eventually(&ada, "q=parcel%20", |f| f["total"] == 1).await;
    assert_eq!(mine["items"][0]["session_id"], chat.session_id.as_str());
    for q in [format!("q=parcel%20&customer_id={ben}"), format!("q=parcel%20&session_id={ben_session}"), "q=globex%20parcel".into()] {
        let other = ada.get(&format!("/v1/search?{q}")).await.expect(200);
        assert!(ids(&other).iter().all(|id| !id.contains(&ben_session)), "{q}: {other}");
        assert!(!other.to_string().contains(&gus_session), "{q}: {other}");
    }
    assert_eq!(ada.get("/v1/search?q=ben").await.expect(200)["total"], 0, "customer records are the staff's");
    // The other tenant's agent sees only their own.
    let theirs = eventually(&globex, "q=parcel%20", |f| f["total"] == 1).await;
    assert_eq!(theirs["items"][0]["session_id"], gus_session.as_str());

    // Customers are found by name; a rename is found by the new name only.
    eventually(&agent, "q=okafor&kind=customer", |f| f["total"] == 1).await;
    agent.patch(&format!("/v1/customers/{ben}"), json!({ "name": "Ben Adeyemi" })).await.expect(200);
    eventually(&agent, "q=adeyemi&kind=customer", |f| f["total"] == 1).await;
    assert_eq!(agent.get("/v1/search?q=okafor&kind=customer").await.expect(200)["total"], 0);

    // An announcement: the agent finds it; Ada finds it in her inbox, Ben (not in the audience) does not.
    agent
        .post("/v1/announcements", json!({ "title": "Winter opening hours", "body": "From December we open at ten.", "audience": { "customer_ids": [chat.customer_id] } }))
        .await
        .expect(201);
    eventually(&agent, "q=winter&kind=announcement", |f| f["total"] == 1).await;
    let inbox = eventually(&ada, "q=december", |f| f["total"] == 1).await;
    assert_eq!(inbox["items"][0]["kind"], "announcement");
    assert_eq!(s.customer("acme", &ben).get("/v1/search?q=december").await.expect(200)["total"], 0);

    // Paging.
    let first = agent.get("/v1/search?q=parcel%20&limit=1").await.expect(200);
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
    let second = agent.get(&format!("/v1/search?q=parcel%20&limit=1&cursor={cursor}")).await.expect(200);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert!(second.get("next_cursor").is_none());
    // A range that ends before it starts finds nothing.
    let empty = agent.get("/v1/search?q=parcel%20&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z").await.expect(200);
    assert_eq!(empty["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_found_by_name_and_by_the_text_of_plain_text_and_pdf_files() {
    let chat = chat_between_agent_and_customer().await;
    let s = &chat.server;
    let agent = s.agent("acme", "agent-ann");
    let ada = s.customer("acme", &chat.customer_id);
    let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/media/warranty.pdf")).unwrap();
    let ticket = ada.request_upload(&chat.session_id, "u-pdf", "claim-form.pdf", "application/pdf", pdf.len()).await.expect(201);
    assert_eq!(put_upload(&ticket, pdf).await, 200);
    let notes = b"Order 4471: the lid hinge snapped after two weeks.\n".to_vec();
    let ticket = ada.request_upload(&chat.session_id, "u-txt", "notes.txt", "text/plain", notes.len()).await.expect(201);
    assert_eq!(put_upload(&ticket, notes).await, 200);

    // The PDF by a word of its text layer, the text file by its content, both by name.
    let found = eventually(&agent, "q=kettle%20&kind=file", |f| f["total"] == 1).await;
    let hit = &found["items"][0];
    assert_eq!(hit["title"], "claim-form.pdf");
    assert_eq!(hit["link"]["session_id"], chat.session_id.as_str());
    assert!(hit["link"]["attachment_id"].is_string());
    let marked: Vec<&str> =
        hit["snippet"].as_array().unwrap().iter().filter(|p| p["hit"] == true).map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(marked, ["kettle"]);
    eventually(&agent, "q=%22hinge%20snapped%22", |f| f["total"] == 1 && f["items"][0]["title"] == "notes.txt").await;
    eventually(&agent, "q=claim-form", |f| f["facets"]["file"] == 1).await;
    // The customer finds her own files too; another tenant does not.
    eventually(&ada, "q=warranty", |f| f["total"] == 1).await;
    assert_eq!(s.agent("globex", "agent-gil").get("/v1/search?q=warranty").await.expect(200)["total"], 0);
}

#[tokio::test]
async fn bad_queries_are_refused_with_a_clear_error() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let long = "x".repeat(257);
    for query in [
        "".to_string(),
        "q=".into(),
        "q=%20%20".into(),
        format!("q={long}"),
        "q=%22open".into(),
        "q=box&colour=red".into(),
        "q=box&kind=email".into(),
        "q=box&limit=0".into(),
        "q=box&limit=51".into(),
        "q=box&limit=1000000".into(),
        "q=box&sort=size".into(),
        "q=box&from=yesterday".into(),
        "q=a%20b%20c%20d%20e%20f%20g%20h%20i%20j%20k%20l%20m%20n%20o%20p%20q".into(),
        "q=box&kind=".into(),
        "q=box&sort=".into(),
        "q=box&limit=%2B5".into(),
        format!("q=box&speaker={}", "s".repeat(201)),
        "q=box&speaker=a%01b".into(),
        "q=box&cursor=not-a-cursor".into(),
        "q=box&q=bag".into(),
    ] {
        let answer = agent.get(&format!("/v1/search?{query}")).await;
        answer.expect_error(400, "validation_failed");
    }
    s.anonymous().get("/v1/search?q=box").await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn the_index_survives_a_restart_and_is_rebuilt_when_removed() {
    let chat = chat_between_agent_and_customer().await;
    let s = chat.server;
    let mut ws = s.ws(&s.token("acme", Role::Customer, &chat.customer_id)).await;
    ws.send_message(&chat.session_id, "m1", "Remember the lighthouse keeper").await;
    ws.expect("ack").await;
    drop(ws);
    eventually(&s.agent("acme", "agent-ann"), "q=lighthouse", |f| f["total"] == 1).await;

    let s = s.restart().await;
    assert_eq!(s.agent("acme", "agent-ann").get("/v1/search?q=lighthouse").await.expect(200)["total"], 1, "kept across a restart");

    // `confer-local reindex`: rebuilt from the store before the server starts again.
    let dir = s.stop().await.expect("the data directory");
    let (items, indexed) = confer_local::search_worker::reindex(dir.path()).await.expect("reindexed");
    assert!(items > indexed as u64 && indexed >= 2, "the customer and the message of {items} items: {indexed}");
    let s = TestServer::start_in(dir.path(), Vec::new()).await;
    assert_eq!(s.agent("acme", "agent-ann").get("/v1/search?q=lighthouse").await.expect(200)["total"], 1, "found at once");

    // An index folder removed: rebuilt when the server starts.
    s.stop().await;
    std::fs::remove_dir_all(dir.path().join("search")).expect("the index folder");
    let s = TestServer::start_in(dir.path(), Vec::new()).await;
    eventually(&s.agent("acme", "agent-ann"), "q=lighthouse", |f| f["total"] == 1).await;
    s.stop().await;
    drop(dir);
}
