//! Microsoft Teams and Google Meet as a call's video app on confer-local, against local stub
//! servers of Microsoft Graph / the Microsoft identity platform and of Google's OAuth endpoint /
//! the Meet REST API, built from their documented requests and answers (neither offers an
//! emulator): a tenant's admin connects the app, an agent starts the session's call in it, the
//! link goes into the history for both sides, and refusals, throttling and outages are reported
//! by name with nothing created.

use confer_tests::harness::{Api, TestServer};
use confer_tests::{meet_stub, teams_stub};
use serde_json::{json, Value};

async fn put(api: &Api, path: &str, body: Value) -> confer_tests::harness::Answer {
    api.send(reqwest::Method::PUT, path, Some(confer_tests::harness::RawBody::Json(body))).await
}

async fn session(s: &TestServer) -> (String, String) {
    let agent = s.agent("acme", "agent-ann");
    let customer = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session = agent.open_session(&customer, &[]).await["id"].as_str().unwrap().to_string();
    (customer, session)
}

#[tokio::test]
async fn teams_graph_stub_server_meeting_is_created_with_application_credentials_and_linked_in_the_history() {
    let stub = teams_stub::start().await;
    let (login, graph) = (stub.login_url(), stub.graph_url());
    let s = TestServer::start_with(move |c| {
        c.media.apps.teams_login = login;
        c.media.apps.teams_graph = graph;
    })
    .await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    let call = format!("/v1/sessions/{session}/call");
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["teams"], "default": "teams" } })).await.expect(200);

    // Without credentials: the error names Teams.
    let missing = agent.post(&call, json!({})).await;
    missing.expect_error(409, "provider_not_connected");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("Microsoft Teams"), "{}", missing.body);

    // A wrong secret: the identity platform refuses; nothing is created.
    let mut wrong = stub.credentials();
    wrong["client_secret"] = json!("not-the-secret");
    put(&admin, "/v1/tenant/video-providers/teams", wrong).await.expect(200);
    let refused = agent.post(&call, json!({})).await;
    refused.expect_error(502, "provider_refused");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("Microsoft Teams refused the tenant's app credentials"));
    // An organizer no application access policy grants: Graph's 403, explained.
    let mut unpolicied = stub.credentials();
    unpolicied["organizer_user_id"] = json!("00000000-0000-0000-0000-000000000000");
    put(&admin, "/v1/tenant/video-providers/teams", unpolicied).await.expect(200);
    let forbidden = agent.post(&call, json!({})).await;
    forbidden.expect_error(502, "provider_refused");
    assert!(forbidden.body["error"]["message"].as_str().unwrap().contains("application access policy"), "{}", forbidden.body);
    // Throttled on every try: 503; nothing half-created.
    put(&admin, "/v1/tenant/video-providers/teams", stub.credentials()).await.expect(200);
    stub.directory.lock().unwrap().fail_next.extend([429, 429, 429]);
    agent.post(&call, json!({})).await.expect_error(503, "provider_unavailable");
    agent.get(&call).await.expect_error(404, "not_found");
    assert!(stub.directory.lock().unwrap().meetings.is_empty());

    // One outage, then an answer: retried; the meeting is created once, open to the customer.
    stub.directory.lock().unwrap().fail_next.extend([503]);
    let started = agent.post(&call, json!({})).await.expect(201);
    assert_eq!(started["call"]["provider"], "teams");
    let link = started["call"]["join_url"].as_str().unwrap().to_string();
    assert!(link.starts_with("https://teams.microsoft.com/l/meetup-join/"), "{link}");
    assert_eq!(started["join"], json!({ "provider": "teams", "join_url": link }));
    {
        let d = stub.directory.lock().unwrap();
        assert_eq!(d.meetings.len(), 1);
        let body = d.meetings.values().next().unwrap();
        assert_eq!(body["subject"], "Confer call");
        assert_eq!(body["lobbyBypassSettings"]["scope"], "everyone", "the customer is outside the organisation");
    }
    let history = s.customer("acme", &customer).messages(&session, "").await.expect(200);
    let entry = history["items"].as_array().unwrap().iter().find(|m| m["kind"] == "call").unwrap().clone();
    assert_eq!((entry["call"]["provider"].as_str(), entry["call"]["join_url"].as_str()), (Some("teams"), Some(link.as_str())));
    let joined = s.customer("acme", &customer).post(&format!("{call}/join"), json!({})).await.expect(200);
    assert_eq!(joined["join"], json!({ "provider": "teams", "join_url": link }));
    agent.post(&format!("{call}/end"), json!({})).await.expect(200);
    assert_eq!(stub.directory.lock().unwrap().tokens_issued.len(), 1, "one token, kept until it expires");
}

#[tokio::test]
async fn meet_stub_server_space_is_created_by_the_service_account_and_its_conference_ended_with_the_call() {
    let stub = meet_stub::start().await;
    let (oauth, api) = (stub.oauth_url(), stub.api_url());
    let s = TestServer::start_with(move |c| {
        c.media.apps.meet_oauth = oauth;
        c.media.apps.meet_api = api;
    })
    .await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    let call = format!("/v1/sessions/{session}/call");

    // Something that is no key at all is refused when it is given; a PEM that cannot sign, when
    // a call starts, naming the key.
    let mut broken = stub.credentials();
    broken["private_key"] = json!("{\"type\": \"service_account\"}");
    put(&admin, "/v1/tenant/video-providers/meet", broken.clone()).await.expect_error(400, "validation_failed");
    broken["private_key"] = json!("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    put(&admin, "/v1/tenant/video-providers/meet", broken).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["meet"] } })).await.expect(200);
    let unusable = agent.post(&call, json!({ "provider": "meet" })).await;
    unusable.expect_error(502, "provider_refused");
    assert!(unusable.body["error"]["message"].as_str().unwrap().contains("private key cannot sign"), "{}", unusable.body);
    // A user the service account may not act for: Google refuses; the message names Meet.
    let mut other_user = stub.credentials();
    other_user["subject"] = json!("someone-else@acme.example");
    put(&admin, "/v1/tenant/video-providers/meet", other_user).await.expect(200);
    let refused = agent.post(&call, json!({ "provider": "meet" })).await;
    refused.expect_error(502, "provider_refused");
    assert!(
        refused.body["error"]["message"].as_str().unwrap().contains("Google Meet refused the tenant's service account"),
        "{}",
        refused.body
    );
    agent.get(&call).await.expect_error(404, "not_found");

    put(&admin, "/v1/tenant/video-providers/meet", stub.credentials()).await.expect(200);
    stub.workspace.lock().unwrap().fail_next.extend([500]);
    let started = agent.post(&call, json!({ "provider": "meet" })).await.expect(201);
    assert_eq!(started["call"]["provider"], "meet");
    let link = started["call"]["join_url"].as_str().unwrap().to_string();
    assert_eq!(link, "https://meet.google.com/abc-mnop-xyz");
    let (space, config) = {
        let w = stub.workspace.lock().unwrap();
        assert_eq!(w.spaces.len(), 1);
        let (name, (config, _)) = w.spaces.iter().next().unwrap();
        (name.clone(), config.clone())
    };
    assert_eq!(config["config"]["accessType"], "OPEN", "the customer joins with the link, without knocking");
    let joined = s.customer("acme", &customer).post(&format!("{call}/join"), json!({})).await.expect(200);
    assert_eq!(joined["join"], json!({ "provider": "meet", "join_url": link }));

    // Ending the call ends the space's conference; a second end finds none running and is fine.
    agent.post(&format!("{call}/end"), json!({})).await.expect(200);
    assert_eq!(stub.workspace.lock().unwrap().ended, vec![space]);
    let history = agent.messages(&session, "").await.expect(200);
    assert!(history["items"].as_array().unwrap().iter().any(|m| m["call"]["event"] == "ended" && m["call"]["provider"] == "meet"));
}
