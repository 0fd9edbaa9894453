//! Announcements end to end against confer-local: groups with overlapping members reached once
//! each, live pushes and inboxes, counts, read receipts, media through the upload flow, schedules
//! that survive a restart, cancellation, a redelivered chunk, another tenant, and every refusal.

use std::time::{Duration, Instant};

use confer::ports::queue::{QueueMessage, WorkQueue};
use confer_tests::harness::{put_upload, Api, TestServer};
use serde_json::{json, Value};

async fn customers(agent: &Api, names: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for n in names {
        ids.push(agent.create_customer(n).await["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn group(agent: &Api, name: &str, members: &[&String]) -> String {
    let g = agent.post("/v1/groups", json!({ "name": name })).await.expect(201);
    let id = g["id"].as_str().unwrap().to_string();
    agent.post(&format!("/v1/groups/{id}/members"), json!({ "customer_ids": members })).await.expect(200);
    id
}

/// Waits until the announcement reaches `status` (the queue works in the background).
async fn settled(agent: &Api, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = agent.get(&format!("/v1/announcements/{id}")).await.expect(200);
        if a["status"] == status {
            return a;
        }
        assert!(Instant::now() < deadline, "announcement stuck: {a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn inbox_ids(inbox: &Value) -> Vec<String> {
    inbox["items"].as_array().unwrap().iter().map(|e| e["announcement_id"].as_str().unwrap().to_string()).collect()
}

async fn events_of(admin: &Api, kind: &str) -> Vec<Value> {
    let events = admin.get("/v1/events?limit=100").await.expect(200);
    events["items"].as_array().unwrap().iter().filter(|e| e["event"]["type"] == kind).map(|e| e["event"].clone()).collect()
}

#[tokio::test]
async fn two_overlapping_groups_reach_each_customer_once_live_or_in_the_inbox() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let admin = s.admin("acme", "root");
    let ids = customers(&agent, &["Ada", "Grace", "Linus", "Barbara", "Edsger"]).await;
    // Ada and Grace in both groups; Edsger named directly as well as in a group.
    let g1 = group(&agent, "Business", &[&ids[0], &ids[1], &ids[2]]).await;
    let g2 = group(&agent, "Early adopters", &[&ids[0], &ids[1], &ids[4]]).await;

    let audience = json!({ "customer_ids": [ids[4], ids[3]], "group_ids": [g1, g2] });
    let preview = agent.post("/v1/announcement-audience", audience.clone()).await.expect(200);
    assert_eq!(preview["recipients"], 5, "{preview}");
    assert_eq!(preview["groups"][0]["members"], 3);

    // Ada is online; the others are not.
    let mut ada = s.ws(&s.token("acme", confer::domain::Role::Customer, &ids[0])).await;
    let created = agent
        .post(
            "/v1/announcements",
            json!({ "title": "New opening hours", "body": "From Monday we open at 8.\nSee you soon.", "audience": audience }),
        )
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "scheduled");
    let frame = ada.expect("announcement").await;
    assert_eq!(frame["announcement"]["announcement_id"], id.as_str());
    assert_eq!(frame["announcement"]["title"], "New opening hours");

    let sent = settled(&agent, &id, "sent").await;
    assert_eq!(
        (sent["targeted"].as_u64(), sent["delivered"].as_u64(), sent["delivered_live"].as_u64()),
        (Some(5), Some(5), Some(1)),
        "{sent}"
    );
    assert_eq!((sent["chunks"].as_u64(), sent["chunks_done"].as_u64(), sent["read"].as_u64()), (Some(1), Some(1), Some(0)));

    // Each customer has it exactly once, unread; an offline customer finds it later.
    for c in &ids {
        let inbox = s.customer("acme", c).get("/v1/inbox").await.expect(200);
        assert_eq!(inbox_ids(&inbox), [id.clone()], "{inbox}");
        assert_eq!(inbox["unread"], 1);
    }
    let grace = s.customer("acme", &ids[1]);
    let opened = grace.get(&format!("/v1/inbox/{id}")).await.expect(200);
    assert_eq!(opened["body"], "From Monday we open at 8.\nSee you soon.");
    assert!(opened.get("media_url").is_none());
    let read = grace.post(&format!("/v1/inbox/{id}/read"), json!({})).await.expect(200);
    assert!(read["read_at"].is_string());
    grace.post(&format!("/v1/inbox/{id}/read"), json!({})).await.expect(200);
    assert_eq!(grace.get("/v1/inbox").await.expect(200)["unread"], 0);
    assert_eq!(agent.get(&format!("/v1/announcements/{id}")).await.expect(200)["read"], 1, "read twice, counted once");

    // A customer who joins a group afterwards does not get what was sent before.
    let late = customers(&agent, &["Late"]).await;
    agent.post(&format!("/v1/groups/{g1}/members"), json!({ "customer_ids": [late[0]] })).await.expect(200);
    assert!(inbox_ids(&s.customer("acme", &late[0]).get("/v1/inbox").await.expect(200)).is_empty());

    // Events: published once, delivered per chunk with counts, read once.
    let published = events_of(&admin, "announcement.published").await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["data"]["targeted"], 5);
    let delivered = events_of(&admin, "announcement.delivered").await;
    assert_eq!((delivered.len(), delivered[0]["data"]["delivered"].as_u64()), (1, Some(5)));
    let reads = events_of(&admin, "announcement.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["data"]["customer_id"], ids[1].as_str());

    // Newest first, with cursors.
    let second = agent
        .post("/v1/announcements", json!({ "title": "Second", "body": "Again", "audience": { "customer_ids": [ids[0]] } }))
        .await
        .expect(201);
    settled(&agent, second["id"].as_str().unwrap(), "sent").await;
    let ada_api = s.customer("acme", &ids[0]);
    let page = ada_api.get("/v1/inbox?limit=1").await.expect(200);
    assert_eq!(inbox_ids(&page), [second["id"].as_str().unwrap().to_string()]);
    assert_eq!(page["unread"], 2);
    let next = ada_api.get(&format!("/v1/inbox?limit=1&cursor={}", page["next_cursor"].as_str().unwrap())).await.expect(200);
    assert_eq!(inbox_ids(&next), [id.clone()]);
    let listed = agent.get("/v1/announcements").await.expect(200);
    assert_eq!(listed["items"][0]["id"], second["id"]);
}

#[tokio::test]
async fn a_redelivered_chunk_changes_nothing() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let ids = customers(&agent, &["Ada", "Grace"]).await;
    let created = agent
        .post("/v1/announcements", json!({ "title": "Once", "body": "Only once", "audience": { "customer_ids": ids } }))
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    let before = settled(&agent, &id, "sent").await;
    let ada = s.customer("acme", &ids[0]);
    ada.post(&format!("/v1/inbox/{id}/read"), json!({})).await.expect(200);

    // The queue hands over the same chunk and the same publish message again.
    let stack = s.running.as_ref().unwrap().stack.clone();
    let mut sorted = ids.clone();
    sorted.sort();
    let chunk = json!({ "type": "chunk", "tenant": "acme", "announcement_id": id, "chunk": 0, "customer_ids": sorted });
    let publish = json!({ "type": "publish", "tenant": "acme", "announcement_id": id });
    stack
        .queue
        .send(vec![
            QueueMessage::new(format!("{id}-chunk-0"), chunk.to_string()),
            QueueMessage::new(format!("{id}-publish"), publish.to_string()),
        ])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.queue.depth().await.unwrap().0 > 0 {
        assert!(Instant::now() < deadline, "the queue did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = agent.get(&format!("/v1/announcements/{id}")).await.expect(200);
    for count in ["targeted", "delivered", "delivered_live", "chunks_done"] {
        assert_eq!(after[count], before[count], "{count}: {after}");
    }
    assert_eq!(after["read"], 1);
    let inbox = ada.get("/v1/inbox").await.expect(200);
    assert_eq!(inbox_ids(&inbox), [id.clone()]);
    assert_eq!(inbox["unread"], 0, "a redelivery does not make a read announcement unread");
    assert_eq!(stack.queue.depth().await.unwrap(), (0, 0), "nothing dead-lettered");
}

#[tokio::test]
async fn a_scheduled_announcement_is_sent_after_a_restart_and_a_cancelled_one_never() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let ids = customers(&agent, &["Ada"]).await;
    let at = |secs: i64| confer::domain::format_rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(secs));
    let scheduled = agent
        .post("/v1/announcements", json!({ "title": "Later", "body": "Scheduled", "audience": { "customer_ids": ids }, "send_at": at(3) }))
        .await
        .expect(201);
    let cancelled = agent
        .post("/v1/announcements", json!({ "title": "Never", "body": "Cancelled", "audience": { "customer_ids": ids }, "send_at": at(3) }))
        .await
        .expect(201);
    let (sid, cid) = (scheduled["id"].as_str().unwrap().to_string(), cancelled["id"].as_str().unwrap().to_string());
    let c = agent.post(&format!("/v1/announcements/{cid}/cancel"), json!({})).await.expect(200);
    assert_eq!(c["status"], "cancelled");
    agent.post(&format!("/v1/announcements/{cid}/cancel"), json!({})).await.expect(200);
    assert!(inbox_ids(&s.customer("acme", &ids[0]).get("/v1/inbox").await.expect(200)).is_empty(), "not before its time");

    // confer-local stops before the time comes and starts again after it.
    let s = s.restart().await;
    let agent = s.agent("acme", "agent-ann");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = settled(&agent, &sid, "sent").await;
    assert_eq!(sent["delivered"], 1);
    assert_eq!(inbox_ids(&s.customer("acme", &ids[0]).get("/v1/inbox").await.expect(200)), [sid.clone()]);
    assert_eq!(agent.get(&format!("/v1/announcements/{cid}")).await.expect(200)["status"], "cancelled");
    agent.post(&format!("/v1/announcements/{sid}/cancel"), json!({})).await.expect_error(409, "conflict");
}

#[tokio::test]
async fn an_announcement_with_a_video_plays_from_the_inbox() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let ids = customers(&agent, &["Ada"]).await;
    let video = std::fs::read(format!("{}/fixtures/media/video.mp4", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let ticket = agent
        .post(
            "/v1/announcement-media",
            json!({ "client_upload_id": "v1", "file_name": "update.mp4", "content_type": "video/mp4", "size": video.len() }),
        )
        .await
        .expect(201);
    let mid = ticket["media"]["id"].as_str().unwrap().to_string();
    assert_eq!(ticket["media"]["kind"], "video");
    // Not sendable before it is verified.
    agent
        .post("/v1/announcements", json!({ "title": "Video", "body": "Watch", "media_id": mid, "audience": { "customer_ids": ids } }))
        .await
        .expect_error(409, "conflict");
    assert_eq!(put_upload(&ticket, video.clone()).await, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    let media = loop {
        let m = agent.get(&format!("/v1/announcement-media/{mid}")).await.expect(200);
        if m["status"] != "pending" {
            break m;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(media["status"], "ready", "{media}");
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64(), media["content_type"].as_str()),
        (Some(160), Some(120), Some("video/mp4"))
    );

    let created = agent
        .post("/v1/announcements", json!({ "title": "Video", "body": "Watch", "media_id": mid, "audience": { "customer_ids": ids } }))
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    settled(&agent, &id, "sent").await;
    let ada = s.customer("acme", &ids[0]);
    let inbox = ada.get("/v1/inbox").await.expect(200);
    assert_eq!(inbox["items"][0]["media"]["kind"], "video");
    let opened = ada.get(&format!("/v1/inbox/{id}")).await.expect(200);
    let url = opened["media_url"].as_str().expect("a media URL");
    let got = reqwest::get(url).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "video/mp4");
    assert_eq!(got.bytes().await.unwrap().len(), video.len());

    // A refused file cannot be sent.
    let fake = b"this is not a video".to_vec();
    let ticket = agent
        .post(
            "/v1/announcement-media",
            json!({ "client_upload_id": "v2", "file_name": "x.mp4", "content_type": "video/mp4", "size": fake.len() }),
        )
        .await
        .expect(201);
    let bad = ticket["media"]["id"].as_str().unwrap().to_string();
    assert_eq!(put_upload(&ticket, fake).await, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while agent.get(&format!("/v1/announcement-media/{bad}")).await.expect(200)["status"] == "pending" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = agent.get(&format!("/v1/announcement-media/{bad}")).await.expect(200);
    assert_eq!((refused["status"].as_str(), refused["rejection"]["code"].as_str()), (Some("rejected"), Some("type_mismatch")));
    agent
        .post("/v1/announcements", json!({ "title": "Bad", "body": "x", "media_id": bad, "audience": { "customer_ids": ids } }))
        .await
        .expect_error(400, "validation_failed");
    // Types an announcement cannot carry are refused at the request.
    agent
        .post(
            "/v1/announcement-media",
            json!({ "client_upload_id": "v3", "file_name": "x.pdf", "content_type": "application/pdf", "size": 10 }),
        )
        .await
        .expect_error(400, "validation_failed");
}

#[tokio::test]
async fn bad_input_and_other_tenants_store_nothing() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let other = s.agent("globex", "agent-g");
    let ids = customers(&agent, &["Ada"]).await;
    let theirs = customers(&other, &["Hank"]).await;
    let their_group = group(&other, "Globex VIP", &[&theirs[0]]).await;
    let mine = group(&agent, "Mine", &[&ids[0]]).await;
    let unknown_group = confer::domain::GroupId::generate().to_string();
    let past = confer::domain::format_rfc3339(time::OffsetDateTime::now_utc() - time::Duration::hours(1));
    let refusals = [
        (json!({ "title": "t", "body": "b", "audience": {} }), 400, "validation_failed"),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": [], "group_ids": [] } }), 400, "validation_failed"),
        (json!({ "title": "t", "body": "b", "audience": { "group_ids": [unknown_group] } }), 409, "unknown_groups"),
        (json!({ "title": "t", "body": "b", "audience": { "group_ids": [their_group] } }), 409, "unknown_groups"),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": [theirs[0]] } }), 409, "unknown_customers"),
        (json!({ "title": "t", "body": "x".repeat(10_001), "audience": { "customer_ids": ids } }), 400, "validation_failed"),
        (json!({ "title": " ", "body": "b", "audience": { "customer_ids": ids } }), 400, "validation_failed"),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": ids }, "send_at": past }), 400, "validation_failed"),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": ids }, "send_at": "soon" }), 400, "validation_failed"),
        (
            json!({ "title": "t", "body": "b", "audience": { "customer_ids": ids }, "media_id": "amd_01JZZZZZZZZZZZZZZZZZZZZZZZ" }),
            404,
            "not_found",
        ),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": ["cus_nope"] } }), 400, "validation_failed"),
        (json!({ "title": "t", "body": "b", "audience": { "customer_ids": ids }, "extra": 1 }), 400, "validation_failed"),
    ];
    for (body, status, code) in refusals {
        agent.post("/v1/announcements", body.clone()).await.expect_error(status, code);
    }
    assert!(agent.get("/v1/announcements").await.expect(200)["items"].as_array().unwrap().is_empty(), "nothing was stored");

    let created = agent
        .post("/v1/announcements", json!({ "title": "Acme only", "body": "b", "audience": { "group_ids": [mine] } }))
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_string();
    settled(&agent, &id, "sent").await;
    // Another tenant sees nothing of it, by any way in.
    other.get(&format!("/v1/announcements/{id}")).await.expect_error(404, "not_found");
    other.post(&format!("/v1/announcements/{id}/cancel"), json!({})).await.expect_error(404, "not_found");
    assert!(other.get("/v1/announcements").await.expect(200)["items"].as_array().unwrap().is_empty());
    let hank = s.customer("globex", &theirs[0]);
    assert!(inbox_ids(&hank.get("/v1/inbox").await.expect(200)).is_empty());
    hank.get(&format!("/v1/inbox/{id}")).await.expect_error(404, "not_found");
    hank.post(&format!("/v1/inbox/{id}/read"), json!({})).await.expect_error(404, "not_found");
    // A customer of the same tenant outside the audience neither.
    let outsider = customers(&agent, &["Outsider"]).await;
    s.customer("acme", &outsider[0]).get(&format!("/v1/inbox/{id}")).await.expect_error(404, "not_found");
    // Roles: customers do not write announcements; agents have no inbox.
    let ada = s.customer("acme", &ids[0]);
    ada.post("/v1/announcements", json!({ "title": "t", "body": "b", "audience": { "customer_ids": ids } }))
        .await
        .expect_error(403, "forbidden");
    ada.get("/v1/announcements").await.expect_error(403, "forbidden");
    agent.get("/v1/inbox").await.expect_error(403, "forbidden");
    ada.get("/v1/inbox/ann_nope").await.expect_error(400, "validation_failed");
}
