//! Customer groups end to end against confer-local: create, rename, fill in bulk, list both
//! ways with cursors, remove, delete (admins only), with every refusal the API documents and
//! nothing of one tenant visible to another.

use std::collections::BTreeSet;

use confer_tests::harness::{Api, RawBody, TestServer};
use serde_json::{json, Value};

async fn delete(api: &Api, path: &str, body: Option<Value>) -> confer_tests::harness::Answer {
    api.send(reqwest::Method::DELETE, path, body.map(RawBody::Json)).await
}

async fn customers(agent: &Api, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(agent.create_customer(&format!("Customer {i}")).await["id"].as_str().unwrap().to_string());
    }
    ids
}

/// Every page of a list, following cursors.
async fn all_pages(api: &Api, path: &str, limit: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = api.get(&url).await.expect(200);
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn agents_build_groups_in_bulk_and_only_admins_delete_them() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let admin = s.admin("acme", "root");
    let ids = customers(&agent, 7).await;

    let group = agent.post("/v1/groups", json!({ "name": "  Business plan  ", "description": "Everyone on business" })).await.expect(201);
    let gid = group["id"].as_str().unwrap().to_string();
    assert!(gid.starts_with("grp_"), "{group}");
    assert_eq!(group["name"], "Business plan");
    let other = agent.post("/v1/groups", json!({ "name": "Early adopters" })).await.expect(201);
    let oid = other["id"].as_str().unwrap().to_string();
    let listed: Vec<String> = all_pages(&agent, "/v1/groups", 1).await.iter().map(|g| g["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, [gid.clone(), oid.clone()], "oldest first, one page at a time");

    // Bulk add: repeats count once; adding again changes nothing and keeps the first date.
    let members = format!("/v1/groups/{gid}/members");
    let mut body: Vec<&str> = ids[..5].iter().map(String::as_str).collect();
    body.push(&ids[0]);
    let added = agent.post(&members, json!({ "customer_ids": body })).await.expect(200);
    assert_eq!((added["requested"].as_u64(), added["changed"].as_u64()), (Some(5), Some(5)), "{added}");
    let first = all_pages(&agent, &members, 2).await;
    assert_eq!(first.len(), 5);
    let again = agent.post(&members, json!({ "customer_ids": [ids[0], ids[5]] })).await.expect(200);
    assert_eq!((again["requested"].as_u64(), again["changed"].as_u64()), (Some(2), Some(1)), "{again}");
    let listed = all_pages(&agent, &members, 2).await;
    let set: BTreeSet<&str> = listed.iter().map(|m| m["customer_id"].as_str().unwrap()).collect();
    assert_eq!(set, ids[..6].iter().map(String::as_str).collect::<BTreeSet<_>>());
    let kept = listed.iter().find(|m| m["customer_id"] == ids[0].as_str()).unwrap();
    let was = first.iter().find(|m| m["customer_id"] == ids[0].as_str()).unwrap();
    assert_eq!(kept["added_at"], was["added_at"], "a repeated add keeps the first date");
    agent.post(&format!("/v1/groups/{oid}/members"), json!({ "customer_ids": [ids[0]] })).await.expect(200);

    // A customer's groups, with the names as they are now.
    agent.patch(&format!("/v1/groups/{gid}"), json!({ "name": "Business" })).await.expect(200);
    let theirs = all_pages(&agent, &format!("/v1/customers/{}/groups", ids[0]), 1).await;
    let names: BTreeSet<&str> = theirs.iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["Business", "Early adopters"]));
    assert!(all_pages(&agent, &format!("/v1/customers/{}/groups", ids[6]), 10).await.is_empty());

    // Removal counts only those who were members.
    let removed = agent.post(&format!("{members}/remove"), json!({ "customer_ids": [ids[1], ids[6]] })).await.expect(200);
    assert_eq!((removed["requested"].as_u64(), removed["changed"].as_u64()), (Some(2), Some(1)), "{removed}");
    assert_eq!(all_pages(&agent, &members, 100).await.len(), 5);

    // Description cleared; an empty change refused.
    let cleared = agent.patch(&format!("/v1/groups/{gid}"), json!({ "description": null })).await.expect(200);
    assert!(cleared.get("description").is_none(), "{cleared}");
    let same = agent.patch(&format!("/v1/groups/{gid}"), json!({})).await.expect(200);
    assert_eq!(same, cleared, "an empty change changes nothing");

    // Only admins delete; the memberships go with the group.
    delete(&agent, &format!("/v1/groups/{gid}"), None).await.expect_error(403, "forbidden");
    assert_eq!(delete(&admin, &format!("/v1/groups/{gid}"), None).await.expect(200)["deleted"], true);
    agent.get(&format!("/v1/groups/{gid}")).await.expect_error(404, "not_found");
    agent.get(&members).await.expect_error(404, "not_found");
    delete(&admin, &format!("/v1/groups/{gid}"), None).await.expect_error(404, "not_found");
    let left: Vec<Value> = all_pages(&agent, &format!("/v1/customers/{}/groups", ids[0]), 10).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["group_id"], oid.as_str());

    // Every change was published.
    let events = admin.get("/v1/events?limit=100").await.expect(200);
    let changes: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == "group.updated")
        .map(|e| e["event"]["data"]["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        ["created", "created", "members_added", "members_added", "members_added", "updated", "members_removed", "updated", "deleted"]
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_stores_nothing() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let ids = customers(&agent, 2).await;
    let gid = agent.post("/v1/groups", json!({ "name": "VIP" })).await.expect(201)["id"].as_str().unwrap().to_string();
    let members = format!("/v1/groups/{gid}/members");

    for body in [
        json!({ "name": "" }),
        json!({ "name": "   " }),
        json!({ "name": "x".repeat(201) }),
        json!({ "name": "ok", "description": "d".repeat(1001) }),
        json!({ "name": "ok", "colour": "red" }),
    ] {
        agent.post("/v1/groups", body.clone()).await.expect_error(400, "validation_failed");
    }
    agent.post(&members, json!({ "customer_ids": [] })).await.expect_error(400, "validation_failed");
    agent.post(&members, json!({ "customer_ids": ["cus_nope"] })).await.expect_error(400, "validation_failed");
    // An id of no customer: all or nothing.
    let ghost = "cus_01M8E24NKB3T5X7Z9C1E4G6J8M";
    let refused = agent.post(&members, json!({ "customer_ids": [ids[0], ghost] })).await;
    refused.expect_error(409, "unknown_customers");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains(ghost), "{}", refused.body);
    assert!(agent.get(&members).await.expect(200)["items"].as_array().unwrap().is_empty(), "nothing was added");
    // 10,001 ids: refused by count; a body over 512 KiB: refused by size.
    let many: Vec<String> = (0..10_001).map(|_| ghost.to_string()).collect();
    agent.post(&members, json!({ "customer_ids": many })).await.expect_error(400, "validation_failed");
    let huge = format!("{{\"customer_ids\": [\"{}\"]}}", "a".repeat(600 * 1024));
    agent.send(reqwest::Method::POST, &members, Some(RawBody::Text(huge))).await.expect_error(413, "payload_too_large");
    agent.get("/v1/groups/grp_nope").await.expect_error(400, "validation_failed");
    agent.get("/v1/groups/grp_01M8Q2T4V6X8Z0B2D4F6H8K0M2").await.expect_error(404, "not_found");
    agent.get("/v1/customers/cus_01M8E24NKB3T5X7Z9C1E4G6J8M/groups").await.expect_error(404, "not_found");

    // 10,000 ids in one call are taken.
    let ten_thousand = {
        let mut v: Vec<String> = Vec::new();
        // Real customers would take long to create here: the same two, repeated, are 10,000 ids.
        for i in 0..10_000 {
            v.push(ids[i % 2].clone());
        }
        v
    };
    let added = agent.post(&members, json!({ "customer_ids": ten_thousand })).await.expect(200);
    assert_eq!((added["requested"].as_u64(), added["changed"].as_u64()), (Some(2), Some(2)));
}

#[tokio::test]
async fn groups_are_for_the_business_of_the_token_only() {
    let s = TestServer::start().await;
    let agent = s.agent("acme", "agent-ann");
    let ids = customers(&agent, 1).await;
    let gid = agent.post("/v1/groups", json!({ "name": "VIP" })).await.expect(201)["id"].as_str().unwrap().to_string();
    agent.post(&format!("/v1/groups/{gid}/members"), json!({ "customer_ids": [ids[0]] })).await.expect(200);

    // Another tenant: the group, its members and acme's customers do not exist there.
    let globex = s.agent("globex", "agent-gus");
    let globex_admin = s.admin("globex", "root");
    globex.get(&format!("/v1/groups/{gid}")).await.expect_error(404, "not_found");
    globex.get(&format!("/v1/groups/{gid}/members")).await.expect_error(404, "not_found");
    globex.patch(&format!("/v1/groups/{gid}"), json!({ "name": "Mine" })).await.expect_error(404, "not_found");
    globex.post(&format!("/v1/groups/{gid}/members"), json!({ "customer_ids": [ids[0]] })).await.expect_error(404, "not_found");
    globex.post(&format!("/v1/groups/{gid}/members/remove"), json!({ "customer_ids": [ids[0]] })).await.expect_error(404, "not_found");
    delete(&globex_admin, &format!("/v1/groups/{gid}"), None).await.expect_error(404, "not_found");
    globex.get(&format!("/v1/customers/{}/groups", ids[0])).await.expect_error(404, "not_found");
    assert!(globex.get("/v1/groups").await.expect(200)["items"].as_array().unwrap().is_empty());
    // A globex group cannot take acme's customer.
    let theirs = globex.post("/v1/groups", json!({ "name": "Theirs" })).await.expect(201)["id"].as_str().unwrap().to_string();
    globex.post(&format!("/v1/groups/{theirs}/members"), json!({ "customer_ids": [ids[0]] })).await.expect_error(409, "unknown_customers");

    // Customers see no groups, not even their own.
    let customer = s.customer("acme", &ids[0]);
    customer.get("/v1/groups").await.expect_error(403, "forbidden");
    customer.get(&format!("/v1/groups/{gid}")).await.expect_error(403, "forbidden");
    customer.get(&format!("/v1/customers/{}/groups", ids[0])).await.expect_error(403, "forbidden");
    customer.post("/v1/groups", json!({ "name": "Mine" })).await.expect_error(403, "forbidden");
    assert_eq!(agent.get(&format!("/v1/groups/{gid}/members")).await.expect(200)["items"].as_array().unwrap().len(), 1);
}
