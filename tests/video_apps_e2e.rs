//! The customer's own video apps on confer-local: a tenant's admin connects Zoom (against a local
//! stub of Zoom's API built from its documented requests and answers: Zoom has no emulator) and
//! Jitsi, enables them, and an agent starts a session's call in them; the meeting's link goes
//! into the history for both sides; Zoom's webhooks are verified, validated, applied once and
//! tolerated out of order; refusals and outages create nothing.

use std::time::Duration;

use confer_tests::harness::{Api, TestServer};
use confer_tests::zoom_stub::{self, SECRET_TOKEN};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

async fn server_with_zoom_stub() -> (TestServer, zoom_stub::Stub) {
    let stub = zoom_stub::start().await;
    let (oauth, api) = (stub.oauth_url(), stub.api_url());
    let server = TestServer::start_with(move |c| {
        c.media.apps.zoom_oauth = oauth;
        c.media.apps.zoom_api = api;
        // A stalled answer is given up sooner than in production (15 s).
        c.media.apps.api_timeout = Duration::from_millis(500);
    })
    .await;
    (server, stub)
}

async fn put(api: &Api, path: &str, body: Value) -> confer_tests::harness::Answer {
    api.send(reqwest::Method::PUT, path, Some(confer_tests::harness::RawBody::Json(body))).await
}

/// A session between agent-ann and a new customer of acme.
async fn session(s: &TestServer) -> (String, String) {
    let agent = s.agent("acme", "agent-ann");
    let customer = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session = agent.open_session(&customer, &[]).await["id"].as_str().unwrap().to_string();
    (customer, session)
}

fn signed(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn deliver(s: &TestServer, tenant: &str, body: &str, signature: Option<String>, timestamp: i64) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/webhooks/zoom/{tenant}", s.base))
        .header("content-type", "application/json")
        .header("x-zm-request-timestamp", timestamp.to_string())
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("x-zm-signature", sig);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn events_of(s: &TestServer, event_type: &str) -> Vec<Value> {
    let all = s.admin("acme", "adm").get("/v1/events?limit=100").await.expect(200);
    all["items"].as_array().unwrap().iter().map(|e| e["event"].clone()).filter(|e| e["type"] == event_type).collect()
}

#[tokio::test]
async fn zoom_stub_server_meeting_is_created_linked_in_the_history_joined_and_ended_with_the_call() {
    let (s, stub) = server_with_zoom_stub().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;

    // Not connected, not enabled: the error names what is missing, and nothing is created.
    agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "zoom" })).await.expect_error(409, "provider_not_connected");
    put(&admin, "/v1/tenant/video-providers/zoom", stub.credentials()).await.expect(200);
    let refused = agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "zoom" })).await;
    refused.expect_error(409, "provider_not_connected");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("not enabled"));
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["zoom", "jitsi"], "default": "zoom" } })).await.expect(200);
    assert!(stub.account.lock().unwrap().meetings.is_empty());

    // The tenant's default: Zoom. The starter's join, and the link in the history for both sides.
    let started = agent.post(&format!("/v1/sessions/{session}/call"), json!({})).await.expect(201);
    assert_eq!(started["call"]["provider"], "zoom");
    let link = started["call"]["join_url"].as_str().expect("the meeting's link").to_string();
    assert!(link.starts_with("https://us05web.zoom.us/j/85746392"), "{link}");
    assert_eq!(started["join"], json!({ "provider": "zoom", "join_url": link }));
    let history = s.customer("acme", &customer).messages(&session, "").await.expect(200);
    let entry = history["items"].as_array().unwrap().iter().find(|m| m["kind"] == "call").expect("the call in the history").clone();
    assert_eq!((entry["call"]["provider"].as_str(), entry["call"]["join_url"].as_str()), (Some("zoom"), Some(link.as_str())));
    let joined = s.customer("acme", &customer).post(&format!("/v1/sessions/{session}/call/join"), json!({})).await.expect(200);
    assert_eq!(joined["join"]["join_url"], link.as_str());
    {
        let a = stub.account.lock().unwrap();
        assert_eq!(a.tokens_issued.len(), 1, "one token, kept until it expires");
        let (meeting, ended) = a.meetings.values().next().unwrap();
        assert_eq!((meeting["type"].as_u64(), *ended), (Some(1), false));
        assert_eq!(meeting["settings"]["auto_recording"], "cloud");
    }

    // Ending the call ends the Zoom meeting.
    agent.post(&format!("/v1/sessions/{session}/call/end"), json!({})).await.expect(200);
    assert!(stub.account.lock().unwrap().meetings.values().all(|(_, ended)| *ended));

    // An explicit choice beats the default.
    let integrated = agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "integrated" })).await.expect(201);
    assert_eq!(integrated["call"]["provider"], "webrtc");
    assert!(integrated["call"].get("join_url").is_none());
}

#[tokio::test]
async fn zoom_stub_server_refusals_and_outages_are_reported_by_name_and_leave_no_call() {
    let (s, stub) = server_with_zoom_stub().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (_, session) = session(&s).await;
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["zoom"], "default": "zoom" } })).await.expect(200);
    let call = format!("/v1/sessions/{session}/call");

    // Wrong secret: Zoom refuses the app; the message names Zoom.
    let mut wrong = stub.credentials();
    wrong["client_secret"] = json!("not-the-secret-0123456789");
    put(&admin, "/v1/tenant/video-providers/zoom", wrong).await.expect(200);
    let refused = agent.post(&call, json!({})).await;
    refused.expect_error(502, "provider_refused");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("Zoom refused"), "{}", refused.body);
    agent.get(&call).await.expect_error(404, "not_found");

    // Throttled on every try: 503 after the retries; nothing half-created.
    put(&admin, "/v1/tenant/video-providers/zoom", stub.credentials()).await.expect(200);
    stub.account.lock().unwrap().fail_next.extend([429, 429, 429]);
    agent.post(&call, json!({})).await.expect_error(503, "provider_unavailable");
    agent.get(&call).await.expect_error(404, "not_found");
    assert!(stub.account.lock().unwrap().meetings.is_empty());

    // A Zoom that does not answer in time, on every try: 503, naming Zoom; nothing created.
    stub.account.lock().unwrap().stall_next = 3;
    let stalled = agent.post(&call, json!({})).await;
    stalled.expect_error(503, "provider_unavailable");
    assert!(stalled.body["error"]["message"].as_str().unwrap().contains("Zoom did not answer"), "{}", stalled.body);
    agent.get(&call).await.expect_error(404, "not_found");

    // One stall, one failure, then an answer: retried, created once.
    stub.account.lock().unwrap().stall_next = 1;
    stub.account.lock().unwrap().fail_next.extend([500]);
    agent.post(&call, json!({})).await.expect(201);
    assert_eq!(stub.account.lock().unwrap().meetings.len(), 1);
}

#[tokio::test]
async fn zoom_webhooks_are_verified_validated_applied_once_and_tolerated_out_of_order() {
    let (s, stub) = server_with_zoom_stub().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (_, session) = session(&s).await;
    put(&admin, "/v1/tenant/video-providers/zoom", stub.credentials()).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["zoom"] } })).await.expect(200);
    let started = agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "zoom" })).await.expect(201);
    let meeting_id: u64 = *stub.account.lock().unwrap().meetings.keys().next().unwrap();
    let call_id = started["call"]["id"].as_str().unwrap().to_string();

    // Zoom's URL validation: the plain token and its HMAC under the secret token.
    let t = now();
    let validation =
        json!({ "event": "endpoint.url_validation", "payload": { "plainToken": "qgg8vlvZRS6UYooatFL8Aw" }, "event_ts": t * 1000 })
            .to_string();
    let (status, answer) = deliver(&s, "acme", &validation, Some(signed(SECRET_TOKEN, t, &validation)), t).await;
    assert_eq!(status, 200);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET_TOKEN.as_bytes()).unwrap();
    mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(answer, json!({ "plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected }));

    // Forged, missing, stale, or meant for another tenant: refused.
    let joined = json!({
        "event": "meeting.participant_joined", "event_ts": t * 1000,
        "payload": { "account_id": zoom_stub::ACCOUNT_ID, "object": { "id": meeting_id.to_string(), "uuid": "x==", "participant": { "user_name": "Ada L", "email": "ada@example.com", "join_time": "2026-12-05T10:01:00Z" } } }
    })
    .to_string();
    assert_eq!(deliver(&s, "acme", &joined, Some(signed("another secret", t, &joined)), t).await.0, 401);
    assert_eq!(deliver(&s, "acme", &joined, None, t).await.0, 401);
    assert_eq!(deliver(&s, "acme", &joined, Some(signed(SECRET_TOKEN, t - 600, &joined)), t - 600).await.0, 401, "a replay");
    assert_eq!(deliver(&s, "globex", &joined, Some(signed(SECRET_TOKEN, t, &joined)), t).await.0, 404, "globex has no Zoom app");
    assert!(events_of(&s, "meeting.attendee_joined").await.iter().all(|e| e["data"]["provider"] != "zoom"));

    // Applied once, however often Zoom sends it.
    let (status, answer) = deliver(&s, "acme", &joined, Some(signed(SECRET_TOKEN, t, &joined)), t).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("applied")));
    let (_, again) = deliver(&s, "acme", &joined, Some(signed(SECRET_TOKEN, t + 1, &joined)), t + 1).await;
    assert_eq!(again["status"], "duplicate");
    let attended =
        events_of(&s, "meeting.attendee_joined").await.into_iter().filter(|e| e["data"]["provider"] == "zoom").collect::<Vec<_>>();
    assert_eq!(attended.len(), 1);
    assert_eq!(
        (attended[0]["data"]["attendee"]["name"].as_str(), attended[0]["data"]["call_id"].as_str()),
        (Some("Ada L"), Some(call_id.as_str()))
    );

    // The meeting ends in Zoom: the call ends in Confer, with its history entry.
    let ended = json!({ "event": "meeting.ended", "event_ts": t * 1000 + 5, "payload": { "object": { "id": meeting_id, "uuid": "x==" } } })
        .to_string();
    let (_, answer) = deliver(&s, "acme", &ended, Some(signed(SECRET_TOKEN, t, &ended)), t).await;
    assert_eq!(answer["status"], "applied");
    agent.get(&format!("/v1/sessions/{session}/call")).await.expect_error(404, "not_found");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let history = agent.messages(&session, "").await.expect(200);
    assert!(history["items"].as_array().unwrap().iter().any(|m| m["call"]["event"] == "ended"));

    // Late and out of order: a second `ended` and a `left` after it change nothing and fail nothing.
    let ended_again =
        json!({ "event": "meeting.ended", "event_ts": t * 1000 + 9, "payload": { "object": { "id": meeting_id } } }).to_string();
    assert_eq!(deliver(&s, "acme", &ended_again, Some(signed(SECRET_TOKEN, t, &ended_again)), t).await.1["status"], "ignored");
    let unknown = json!({ "event": "meeting.ended", "event_ts": t * 1000, "payload": { "object": { "id": 1 } } }).to_string();
    assert_eq!(deliver(&s, "acme", &unknown, Some(signed(SECRET_TOKEN, t, &unknown)), t).await.1["status"], "ignored");
}

#[tokio::test]
async fn a_jitsi_call_starts_from_a_session_with_its_room_link_and_per_person_tokens() {
    let s = TestServer::start().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    put(&admin, "/v1/tenant/video-providers/jitsi", json!({ "provider": "jitsi", "base_url": "https://meet.jit.si" })).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["jitsi"] } })).await.expect(200);
    let started = agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "jitsi" })).await.expect(201);
    let link = started["call"]["join_url"].as_str().unwrap().to_string();
    assert!(link.starts_with("https://meet.jit.si/confer-") && link.len() > 50, "{link}");
    assert_eq!(started["join"], json!({ "provider": "jitsi", "join_url": link }));
    agent.post(&format!("/v1/sessions/{session}/call/end"), json!({})).await.expect(200);

    // A self-hosted server with token authentication: each person's link carries their token.
    let secret = "a-jitsi-app-secret-of-32-bytes-or-more";
    put(
        &admin,
        "/v1/tenant/video-providers/jitsi",
        json!({ "provider": "jitsi", "base_url": "https://meet.example.com", "token": { "app_id": "confer", "app_secret": secret } }),
    )
    .await
    .expect(200);
    let started = agent.post(&format!("/v1/sessions/{session}/call"), json!({ "provider": "jitsi" })).await.expect(201);
    let room = started["call"]["join_url"].as_str().unwrap().to_string();
    let mine = started["join"]["join_url"].as_str().unwrap();
    assert!(mine.starts_with(&format!("{room}?jwt=")), "{mine}");
    let theirs = s.customer("acme", &customer).post(&format!("/v1/sessions/{session}/call/join"), json!({})).await.expect(200);
    let token = theirs["join"]["join_url"].as_str().unwrap().split("?jwt=").nth(1).unwrap().to_string();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["jitsi"]);
    let claims =
        jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()), &validation).unwrap().claims;
    assert_eq!(claims["context"]["user"]["moderator"], false, "the customer attends; the agent hosts");
    assert_eq!(claims["room"], room.rsplit('/').next().unwrap());
}

#[tokio::test]
async fn video_app_credentials_are_for_admins_never_shown_and_per_tenant() {
    let s = TestServer::start().await;
    let admin = s.admin("acme", "adm");
    let creds = json!({ "provider": "zoom", "account_id": "acc", "client_id": "cid", "client_secret": "very-secret-value", "webhook_secret_token": "whs" });
    put(&s.agent("acme", "agent-ann"), "/v1/tenant/video-providers/zoom", creds.clone()).await.expect_error(403, "forbidden");
    put(&admin, "/v1/tenant/video-providers/jitsi", creds.clone()).await.expect_error(409, "conflict");
    put(&admin, "/v1/tenant/video-providers/webex", creds.clone()).await.expect_error(400, "validation_failed");
    let mut blank = creds.clone();
    blank["client_secret"] = json!(" ");
    put(&admin, "/v1/tenant/video-providers/zoom", blank).await.expect_error(400, "validation_failed");
    let connected = put(&admin, "/v1/tenant/video-providers/zoom", creds).await.expect(200);
    assert_eq!((connected["connected"].as_bool(), connected["enabled"].as_bool()), (Some(true), Some(false)));
    let listed = admin.get("/v1/tenant/video-providers").await.expect(200);
    assert!(!listed.to_string().contains("very-secret-value"), "never shown again: {listed}");
    assert_eq!(listed[0]["connected"], true);
    // Another tenant sees nothing of it.
    let theirs = s.admin("globex", "gadm").get("/v1/tenant/video-providers").await.expect(200);
    assert!(theirs.as_array().unwrap().iter().all(|p| p["connected"] == false));
    // Choosing an app as the default offers it; each app is listed once.
    let settings =
        admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["jitsi", "jitsi"], "default": "zoom" } })).await.expect(200);
    assert_eq!(settings["video"], json!({ "providers": ["jitsi", "zoom"], "default": "zoom" }));
    // Removed: gone.
    let removed = admin.send(reqwest::Method::DELETE, "/v1/tenant/video-providers/zoom", None).await.expect(200);
    assert_eq!(removed["connected"], false);
    assert_eq!(admin.get("/v1/tenant/video-providers").await.expect(200)[0]["connected"], false);
}

const AGENT_SAYS: &str = "hello this is acme support how can I help you today";
const CUSTOMER_SAYS: &str = "my parcel arrived damaged and the box was crushed";

/// A sentence as Zoom keeps a participant's own audio: AAC in an MPEG-4 file (M4A).
fn spoken_m4a(dir: &std::path::Path, name: &str, voice: &str, text: &str) -> Vec<u8> {
    let run = |cmd: &mut std::process::Command| {
        let out =
            cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (espeak-ng and ffmpeg are installed by infra/scripts/speech-tools.sh)"));
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let wav = dir.join(format!("{name}.wav"));
    run(std::process::Command::new("espeak-ng").args(["-v", voice, "-s", "150", "-w"]).arg(&wav).arg(text));
    let m4a = dir.join(format!("{name}.m4a"));
    run(std::process::Command::new("ffmpeg").args(["-loglevel", "error", "-i"]).arg(&wav).args(["-c:a", "aac", "-f", "ipod"]).arg(&m4a));
    std::fs::read(m4a).unwrap()
}

fn words(text: &str) -> std::collections::BTreeSet<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
}

/// The customer's recordings once one of them has settled (its transcript no longer on its way).
async fn settled_recording(api: &Api, customer: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let list = api.get(&format!("/v1/customers/{customer}/recordings")).await.expect(200);
        if let Some(r) = list["items"].as_array().unwrap().iter().find(|r| {
            let t = r["transcript"]["status"].as_str().unwrap_or_default();
            r["status"] == "failed" || (t != "pending" && t != "processing")
        }) {
            return r.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no recording settled: {list}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn zoom_stub_server_recording_is_imported_once_and_arrives_as_a_transcript_with_zooms_speaker_names() {
    assert!(
        std::env::var_os("CONFER_SPEECH_PYTHON").is_some(),
        "CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh (infra/scripts/speech-tools.sh installs the engine)"
    );
    let (s, stub) = server_with_zoom_stub().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    put(&admin, "/v1/tenant/video-providers/zoom", stub.credentials()).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["zoom"], "default": "zoom" } })).await.expect(200);
    agent.post(&format!("/v1/sessions/{session}/call"), json!({})).await.expect(201);
    let meeting_id: u64 = *stub.account.lock().unwrap().meetings.keys().next().unwrap();
    agent.post(&format!("/v1/sessions/{session}/call/end"), json!({})).await.expect(200);

    // Zoom finishes the cloud recording after the meeting: each participant's own audio (one
    // named as the customer is, one as Zoom knew the agent) and everyone's video.
    let dir = tempfile::tempdir().unwrap();
    let files = vec![
        zoom_stub::RecordedFile {
            bytes: spoken_m4a(dir.path(), "agent", "en-us", AGENT_SAYS),
            file_type: "M4A",
            participant: Some("Ann from Acme"),
        },
        zoom_stub::RecordedFile {
            bytes: spoken_m4a(dir.path(), "customer", "en+f3", CUSTOMER_SAYS),
            file_type: "M4A",
            participant: Some("Ada Lovelace"),
        },
        zoom_stub::RecordedFile {
            bytes: b"not fetched: the local engine transcribes each voice".to_vec(),
            file_type: "MP4",
            participant: None,
        },
    ];
    let body = stub.record(meeting_id, files);
    let t = now();
    assert_eq!(deliver(&s, "acme", &body, Some(signed("forged", t, &body)), t).await.0, 401);
    let (status, answer) = deliver(&s, "acme", &body, Some(signed(SECRET_TOKEN, t, &body)), t).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    // Zoom sends it again (same body): applied once.
    assert_eq!(deliver(&s, "acme", &body, Some(signed(SECRET_TOKEN, t + 2, &body)), t + 2).await.1["status"], "duplicate");

    let recording = settled_recording(&agent, &customer).await;
    assert_eq!((recording["status"].as_str(), recording["provider"].as_str()), (Some("available"), Some("zoom")), "{recording}");
    assert_eq!(recording["transcript"]["status"], "ready", "{recording}");
    assert_eq!(recording["session_id"], session.as_str());
    let id = recording["id"].as_str().unwrap().to_string();
    let transcript = agent.get(&format!("/v1/recordings/{id}/transcript")).await.expect(200);
    let speakers: Vec<(String, String)> = transcript["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["label"].as_str().unwrap().to_string(), s["name"].as_str().unwrap().to_string()))
        .collect();
    assert!(speakers.contains(&("agent.agent-ann".into(), "Ann from Acme".into())), "{transcript}");
    assert!(speakers.contains(&(format!("customer.{customer}"), "Ada Lovelace".into())), "{transcript}");
    for (label, said) in [("agent.agent-ann", AGENT_SAYS), (&*format!("customer.{customer}"), CUSTOMER_SAYS)] {
        let heard: String = transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["speaker"] == label)
            .map(|t| t["text"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(words(&heard).intersection(&words(said)).count() >= 2, "{label} said {said:?}, heard {heard:?}");
    }
    assert_eq!(stub.account.lock().unwrap().downloads, 2, "each participant's audio fetched once; the video left");
    assert_eq!(events_of(&s, "recording.available").await.len(), 1);

    // The same recording delivered anew (Zoom resends with another timestamp): nothing twice.
    let resent = body.replace("1796030000000", "1796030000001");
    let (_, answer) = deliver(&s, "acme", &resent, Some(signed(SECRET_TOKEN, t, &resent)), t).await;
    assert_eq!(answer["status"], "queued");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(stub.account.lock().unwrap().downloads, 2);
    let list = agent.get(&format!("/v1/customers/{customer}/recordings")).await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // Like any recording: customers read it only where the business shares recordings; another
    // tenant finds nothing.
    s.customer("acme", &customer).get(&format!("/v1/recordings/{id}/transcript")).await.expect_error(403, "forbidden");
    s.agent("globex", "agent-ann").get(&format!("/v1/recordings/{id}")).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn zoom_stub_server_recording_downloads_retry_outages_and_report_refusals() {
    let (s, stub) = server_with_zoom_stub().await;
    let admin = s.admin("acme", "adm");
    let agent = s.agent("acme", "agent-ann");
    let (customer, session) = session(&s).await;
    put(&admin, "/v1/tenant/video-providers/zoom", stub.credentials()).await.expect(200);
    admin.patch("/v1/tenant/settings", json!({ "video": { "providers": ["zoom"], "default": "zoom" } })).await.expect(200);
    agent.post(&format!("/v1/sessions/{session}/call"), json!({})).await.expect(201);
    let meeting_id: u64 = *stub.account.lock().unwrap().meetings.keys().next().unwrap();

    // Zoom's storage fails once, then answers: the import tries again by itself.
    let dir = tempfile::tempdir().unwrap();
    let audio = spoken_m4a(dir.path(), "both", "en-us", AGENT_SAYS);
    stub.account.lock().unwrap().fail_downloads.extend([503]);
    let body = stub.record(meeting_id, vec![zoom_stub::RecordedFile { bytes: audio.clone(), file_type: "M4A", participant: None }]);
    let t = now();
    assert_eq!(deliver(&s, "acme", &body, Some(signed(SECRET_TOKEN, t, &body)), t).await.1["status"], "queued");
    let first = settled_recording(&agent, &customer).await;
    assert_eq!(first["status"], "available", "{first}");
    assert_eq!(stub.account.lock().unwrap().downloads, 1);

    // A second recording of the meeting whose download Zoom refuses: the recording says so,
    // naming Zoom, and is not retried into the dead letters.
    stub.account.lock().unwrap().fail_downloads.extend([401]);
    let body = stub.record(meeting_id, vec![zoom_stub::RecordedFile { bytes: audio, file_type: "M4A", participant: None }]);
    assert_eq!(deliver(&s, "acme", &body, Some(signed(SECRET_TOKEN, t, &body)), t).await.1["status"], "queued");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let list = agent.get(&format!("/v1/customers/{customer}/recordings")).await.expect(200);
        if let Some(r) = list["items"].as_array().unwrap().iter().find(|r| r["status"] == "failed") {
            break r.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no failed import: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(failed["failure"].as_str().unwrap().contains("Zoom refused the download (401)"), "{failed}");
    assert_eq!(failed["transcript"]["status"], "unavailable");
}
