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

/// A sentence in an MPEG-4 file, as Teams keeps a meeting's recording.
fn spoken_mp4(dir: &std::path::Path, text: &str) -> Vec<u8> {
    let run = |cmd: &mut std::process::Command| {
        let out =
            cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (espeak-ng and ffmpeg are installed by infra/scripts/speech-tools.sh)"));
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let wav = dir.join("meeting.wav");
    run(std::process::Command::new("espeak-ng").args(["-v", "en-us", "-s", "150", "-w"]).arg(&wav).arg(text));
    let mp4 = dir.join("meeting.mp4");
    run(std::process::Command::new("ffmpeg").args(["-loglevel", "error", "-i"]).arg(&wav).args(["-c:a", "aac", "-f", "mp4"]).arg(&mp4));
    std::fs::read(mp4).unwrap()
}

fn words(text: &str) -> std::collections::BTreeSet<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
}

#[tokio::test]
async fn teams_graph_stub_server_recording_notification_is_validated_checked_and_imported_into_a_transcript() {
    assert!(
        std::env::var_os("CONFER_SPEECH_PYTHON").is_some(),
        "CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh (infra/scripts/speech-tools.sh installs the engine)"
    );
    let stub = teams_stub::start().await;
    // Confer's public address: Graph sends its notifications there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (login, graph) = (stub.login_url(), stub.graph_url());
    let s = TestServer::start_with(move |c| {
        c.addr = format!("127.0.0.1:{port}").parse().unwrap();
        c.media.apps.teams_login = login;
        c.media.apps.teams_graph = graph;
        c.media.apps.public_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    let call = format!("/v1/sessions/{session}/call");
    put(&admin, "/v1/tenant/video-providers/teams", stub.credentials()).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["teams"], "default": "teams" } })).await.expect(200);

    // An app Graph will not notify of recordings: the meeting is not left behind.
    stub.directory.lock().unwrap().refuse_subscriptions = true;
    let refused = agent.post(&call, json!({})).await;
    refused.expect_error(502, "provider_refused");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("OnlineMeetingRecording.Read.All"), "{}", refused.body);
    {
        let d = stub.directory.lock().unwrap();
        assert!(d.meetings.is_empty() && d.deleted.len() == 1, "the meeting was deleted again");
    }
    agent.get(&call).await.expect_error(404, "not_found");

    // The call starts; Graph validated Confer's webhook before subscribing to the recordings.
    stub.directory.lock().unwrap().refuse_subscriptions = false;
    agent.post(&call, json!({})).await.expect(201);
    let meeting_id = stub.directory.lock().unwrap().meetings.keys().next().unwrap().clone();
    let subscription = stub.subscription("communications/callRecords");
    assert_eq!(subscription["notificationUrl"], format!("{}/v1/webhooks/teams/acme", s.base));
    assert_eq!(subscription["resource"], "communications/callRecords", "asked for when the app was connected");
    let recordings = stub.subscription(&format!("communications/onlineMeetings/{meeting_id}/recordings"));
    assert_eq!(recordings["notificationUrl"], subscription["notificationUrl"]);

    // The meeting ends in Teams: its call record ends the call in Confer and says who took part,
    // once, however often Graph notifies.
    let (record, status) = stub.call_ended(&meeting_id, &["Ann from Acme", "Ada Lovelace"]).await;
    assert_eq!(status, 202);
    agent.get(&call).await.expect_error(404, "not_found");
    let history = agent.messages(&session, "").await.expect(200);
    assert!(history["items"].as_array().unwrap().iter().any(|m| m["call"]["event"] == "ended" && m["call"]["provider"] == "teams"));
    let attended = |all: &Value| -> Vec<String> {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["event"])
            .filter(|e| e["type"] == "meeting.attendee_joined" && e["data"]["provider"] == "teams")
            .map(|e| e["data"]["attendee"]["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut names = attended(&admin.get("/v1/events?limit=100").await.expect(200));
    names.sort();
    assert_eq!(names, ["Ada Lovelace", "Ann from Acme"]);
    let again = json!({ "value": [{ "changeType": "created", "resource": format!("communications/callRecords/{record}"),
        "clientState": stub.subscription("communications/callRecords")["clientState"] }] });
    let res = reqwest::Client::new().post(format!("{}/v1/webhooks/teams/acme", s.base)).json(&again).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(attended(&admin.get("/v1/events?limit=100").await.expect(200)).len(), 2, "the record is applied once");
    // Graph asks for the call records' subscription to be renewed: it is.
    assert_eq!(stub.lifecycle("communications/callRecords", "reauthorizationRequired").await, 202);
    assert_eq!(stub.directory.lock().unwrap().renewed, vec![subscription["id"].as_str().unwrap().to_string()]);

    // A notification with another clientState (forged, or another tenant's) imports nothing.
    let forged = json!({ "value": [{ "changeType": "created", "clientState": "guessed",
        "resource": format!("communications/onlineMeetings('{meeting_id}')/recordings('VjEjIzforged')") }] });
    let res = reqwest::Client::new().post(format!("{}/v1/webhooks/teams/acme", s.base)).json(&forged).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // Checks of the endpoint that are not Graph's: refused with the reason (an empty or `null`
    // body is Graph's).
    let web = reqwest::Client::new();
    for (path, token, body, status) in [
        ("/v1/webhooks/teams/Acme!", "Validation: hello", "", 404),
        ("/v1/webhooks/teams/acme", "line\nbreak", "", 400),
        ("/v1/webhooks/teams/acme", &"x".repeat(1025), "", 400),
        ("/v1/webhooks/teams/acme", "Validation: hello", "[1, 2]", 400),
        ("/v1/webhooks/teams/acme", "Validation: hello", "null", 200),
    ] {
        let res = web.post(format!("{}{path}", s.base)).query(&[("validationToken", token)]).body(body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path} {token:?} {body:?}");
    }
    let echoed = web.post(format!("{}/v1/webhooks/teams/acme", s.base)).query(&[("validationToken", "0")]).send().await.unwrap();
    assert_eq!((echoed.status().as_u16(), echoed.text().await.unwrap()), (200, "0".to_string()), "echoed as it came");

    // The recording is ready: Graph notifies, Confer queues it, fetches it and transcribes it.
    let said = "my parcel arrived damaged and the box was crushed";
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(stub.record(&meeting_id, spoken_mp4(dir.path(), said)).await, 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let recording = loop {
        let list = agent.get(&format!("/v1/customers/{customer}/recordings")).await.expect(200);
        if let Some(r) = list["items"].as_array().unwrap().iter().find(|r| {
            let t = r["transcript"]["status"].as_str().unwrap_or_default();
            r["status"] == "failed" || (r["status"] == "available" && t != "pending" && t != "processing")
        }) {
            break r.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no recording settled: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!((recording["provider"].as_str(), recording["transcript"]["status"].as_str()), (Some("teams"), Some("ready")), "{recording}");
    let id = recording["id"].as_str().unwrap();
    let transcript = agent.get(&format!("/v1/recordings/{id}/transcript")).await.expect(200);
    let heard: String =
        transcript["turns"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap().to_string()).collect::<Vec<_>>().join(" ");
    assert!(words(&heard).intersection(&words(said)).count() >= 2, "said {said:?}, heard {heard:?}");
    assert_eq!(stub.directory.lock().unwrap().downloads, 1);
}

#[tokio::test]
async fn meet_stub_server_events_are_verified_applied_once_and_a_recording_arrives_as_a_transcript() {
    assert!(
        std::env::var_os("CONFER_SPEECH_PYTHON").is_some(),
        "CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh (infra/scripts/speech-tools.sh installs the engine)"
    );
    let stub = meet_stub::start().await;
    let (oauth, api, events, drive, certs) = (stub.oauth_url(), stub.api_url(), stub.events_url(), stub.drive_url(), stub.certs_url());
    let s = TestServer::start_with(move |c| {
        c.media.apps.meet_oauth = oauth;
        c.media.apps.meet_api = api;
        c.media.apps.meet_events = events;
        c.media.apps.meet_drive = drive;
        c.media.apps.google_certs = certs;
    })
    .await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    let call = format!("/v1/sessions/{session}/call");
    // The push subscription's audience: what the tenant configured in Pub/Sub.
    let audience = "https://confer.example.com/v1/webhooks/meet/acme";
    put(&admin, "/v1/tenant/video-providers/meet", stub.credentials_with_events(audience)).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["meet"], "default": "meet" } })).await.expect(200);
    agent.post(&call, json!({})).await.expect(201);
    let space = stub.workspace.lock().unwrap().spaces.keys().next().unwrap().clone();
    {
        let w = stub.workspace.lock().unwrap();
        assert_eq!(w.subscriptions.len(), 1, "the space's events go to the tenant's topic");
        assert_eq!(w.subscriptions[0]["targetResource"], format!("//meet.googleapis.com/{space}"));
        assert_eq!(w.subscriptions[0]["notificationEndpoint"]["pubsubTopic"], meet_stub::TOPIC);
    }
    let hook = format!("{}/v1/webhooks/meet/acme", s.base);
    let good = stub.push_token(audience, meet_stub::PUSH_ACCOUNT, None);
    let joined = json!({ "participantSession": { "name": "conferenceRecords/c1/participants/p1/participantSessions/s1" } });

    // Not Google's signature, not the subscription's audience or account, or none: refused.
    let forged = stub.push_token(audience, meet_stub::PUSH_ACCOUNT, Some(&stub.private_key));
    assert_eq!(stub.push(&hook, &forged, "m-1", "participant.v2.joined", &space, joined.clone()).await, 401);
    let elsewhere = stub.push_token("https://elsewhere.example/hook", meet_stub::PUSH_ACCOUNT, None);
    assert_eq!(stub.push(&hook, &elsewhere, "m-1", "participant.v2.joined", &space, joined.clone()).await, 401);
    let stranger = stub.push_token(audience, "someone@else.iam.gserviceaccount.com", None);
    assert_eq!(stub.push(&hook, &stranger, "m-1", "participant.v2.joined", &space, joined.clone()).await, 401);
    assert_eq!(
        stub.push(&format!("{}/v1/webhooks/meet/globex", s.base), &good, "m-1", "participant.v2.joined", &space, joined.clone()).await,
        404
    );

    // Applied once, however often Pub/Sub delivers it.
    assert_eq!(stub.push(&hook, &good, "m-1", "participant.v2.joined", &space, joined.clone()).await, 200);
    assert_eq!(stub.push(&hook, &good, "m-1", "participant.v2.joined", &space, joined).await, 200);
    let all = admin.get("/v1/events?limit=100").await.expect(200);
    let attended: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event"])
        .filter(|e| e["type"] == "meeting.attendee_joined" && e["data"]["provider"] == "meet")
        .collect();
    assert_eq!(attended.len(), 1, "{all}");

    // The conference ends in Meet: the call ends in Confer.
    let ended = json!({ "conferenceRecord": { "name": "conferenceRecords/c1" } });
    assert_eq!(stub.push(&hook, &good, "m-2", "conference.v2.ended", &space, ended).await, 200);
    agent.get(&call).await.expect_error(404, "not_found");

    // Meet writes the recording to Drive: Confer finds the file, fetches it and transcribes it.
    let said = "my parcel arrived damaged and the box was crushed";
    let dir = tempfile::tempdir().unwrap();
    let name = stub.add_recording(&space, spoken_mp4(dir.path(), said));
    assert_eq!(stub.push(&hook, &good, "m-3", "recording.v2.fileGenerated", &space, json!({ "recording": { "name": name } })).await, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let recording = loop {
        let list = agent.get(&format!("/v1/customers/{customer}/recordings")).await.expect(200);
        if let Some(r) = list["items"].as_array().unwrap().iter().find(|r| {
            let t = r["transcript"]["status"].as_str().unwrap_or_default();
            r["status"] == "failed" || (r["status"] == "available" && t != "pending" && t != "processing")
        }) {
            break r.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no recording settled: {list}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!((recording["provider"].as_str(), recording["transcript"]["status"].as_str()), (Some("meet"), Some("ready")), "{recording}");
    let transcript = agent.get(&format!("/v1/recordings/{}/transcript", recording["id"].as_str().unwrap())).await.expect(200);
    let heard: String =
        transcript["turns"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap().to_string()).collect::<Vec<_>>().join(" ");
    assert!(words(&heard).intersection(&words(said)).count() >= 2, "said {said:?}, heard {heard:?}");
    assert_eq!(stub.workspace.lock().unwrap().downloads, 1);
}
