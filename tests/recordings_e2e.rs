//! Recording a call in the local runtime, end to end: the agent records, every participant is
//! told, the recording browser's chunks (each participant's track, spoken by espeak-ng and
//! encoded as MediaRecorder writes WebM/Opus) go up through the recordings store, confer-local
//! assembles and mixes them, the storage trigger transcribes each track with PocketSphinx, and
//! the transcript comes back with both speakers named. Who may read it, exports, speaker names,
//! translation without a translator, and a repeated storage notification are checked on the way.
//! Needs `CONFER_SPEECH_PYTHON`, espeak-ng and ffmpeg (infra/scripts/speech-tools.sh); fails,
//! never skips, without them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use confer::domain::recording::{parse_track_name, track_object_name};
use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, Api, RawBody, TestServer, Ws};
use serde_json::{json, Value};

const AGENT: &str = "hello this is acme support how can I help you today";
const CUSTOMER: &str = "my parcel arrived damaged and the box was crushed";

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (espeak-ng and ffmpeg are installed by infra/scripts/speech-tools.sh)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A sentence as a browser's MediaRecorder would record it: WebM with Opus audio.
fn spoken_webm(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let wav = dir.join(format!("{name}.wav"));
    run(Command::new("espeak-ng").args(["-v", voice, "-s", "150", "-w"]).arg(&wav).arg(text));
    let webm = dir.join(format!("{name}.webm"));
    run(Command::new("ffmpeg").args(["-loglevel", "error", "-i"]).arg(&wav).args(["-c:a", "libopus"]).arg(&webm));
    webm
}

fn words(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
}

fn overlap(said: &str, heard: &str) -> usize {
    words(heard).intersection(&words(said)).count()
}

async fn delete(api: &Api, path: &str, body: Option<Value>) -> confer_tests::harness::Answer {
    api.send(reqwest::Method::DELETE, path, body.map(RawBody::Json)).await
}

async fn next_call(ws: &mut Ws, event: &str) -> Value {
    loop {
        let frame = ws.next_within(Duration::from_secs(5)).await.unwrap_or_else(|| panic!("no call frame {event}"));
        if frame["type"] == "call" && frame["event"] == event {
            return frame;
        }
    }
}

/// Uploads a file as the recording browser does: in chunks, each announced then PUT.
async fn upload_track(agent: &Api, recording_id: &str, track: &str, file: &Path, pieces: usize) -> u64 {
    let bytes = std::fs::read(file).unwrap();
    let size = bytes.len().div_ceil(pieces);
    let mut seq = 0u64;
    for chunk in bytes.chunks(size) {
        let body = json!({ "track": track, "seq": seq, "content_type": "audio/webm;codecs=opus", "size": chunk.len() });
        let ticket = agent.post(&format!("/v1/recordings/{recording_id}/chunks"), body).await.expect(201);
        assert_eq!(confer_tests::harness::put_upload(&ticket, chunk.to_vec()).await, 200, "chunk {seq} of {track}");
        seq += 1;
    }
    seq
}

/// Polls the recording until its transcript is no longer pending or processing.
async fn settled(api: &Api, recording_id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let r = api.get(&format!("/v1/recordings/{recording_id}")).await.expect(200);
        let t = r["transcript"]["status"].as_str().unwrap_or_default().to_string();
        if (t != "pending" && t != "processing") || std::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn events_of(events: &Value, kind: &str) -> Vec<Value> {
    events["items"].as_array().unwrap().iter().filter(|e| e["event"]["type"] == kind).cloned().collect()
}

#[tokio::test]
async fn a_recorded_call_is_assembled_and_transcribed_with_both_speakers_named() {
    assert!(
        std::env::var_os("CONFER_SPEECH_PYTHON").is_some(),
        "CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh (infra/scripts/speech-tools.sh installs the engine)"
    );
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let agent = s.agent("acme", "agent-ann");
    let customer = s.customer("acme", &c.customer_id);
    let admin = s.admin("acme", "root");
    let call = format!("/v1/sessions/{}/call", c.session_id);
    let record = format!("{call}/recording");
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;

    // Nothing to record without a call; a customer never records.
    agent.post(&record, json!({})).await.expect_error(409, "no_active_call");
    agent.post(&call, json!({})).await.expect(201);
    customer.post(&format!("{call}/join"), json!({})).await.expect(200);
    customer.post(&record, json!({})).await.expect_error(403, "forbidden");
    delete(&agent, &record, None).await.expect_error(409, "not_recording");

    let started = agent.post(&record, json!({})).await.expect(201);
    let recording = started["recording"].clone();
    let id = recording["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("rec_"), "{recording}");
    assert_eq!((recording["mode"].as_str(), recording["status"].as_str()), (Some("browser"), Some("recording")));
    assert_eq!(agent.post(&record, json!({})).await.expect(200)["recording"]["id"], id.as_str(), "a second start answers the running one");
    // The customer sees, live, that the call is recorded, and by whom.
    let frame = next_call(&mut customer_ws, "recording_started").await;
    assert_eq!(frame["call"]["recording"]["recording_id"], id.as_str());
    assert_eq!(frame["call"]["recording"]["started_by"], json!({ "kind": "agent", "id": "agent-ann" }));
    assert_eq!(customer.get(&call).await.expect(200)["recording"]["recording_id"], id.as_str());

    // The recording browser uploads both tracks in chunks. Only it may; only for participants.
    let dir = tempfile::tempdir().unwrap();
    let agent_track = spoken_webm(dir.path(), "agent", "en-us", AGENT);
    let customer_track = spoken_webm(dir.path(), "customer", "en+f3", CUSTOMER);
    let chunk = |track: &str, seq: u64| json!({ "track": track, "seq": seq, "content_type": "audio/webm", "size": 10 });
    let chunks = format!("/v1/recordings/{id}/chunks");
    s.agent("acme", "agent-bob").post(&chunks, chunk("agent.agent-ann", 0)).await.expect_error(403, "forbidden");
    agent.post(&chunks, chunk("customer.cus_01M8E24NKB3T5X7Z9C1E4G6J8M", 0)).await.expect_error(400, "validation_failed");
    agent.post(&chunks, chunk("robot.x", 0)).await.expect_error(400, "validation_failed");
    agent
        .post(&chunks, json!({ "track": "agent.agent-ann", "seq": 0, "content_type": "text/html", "size": 10 }))
        .await
        .expect_error(400, "validation_failed");
    agent
        .post(&chunks, json!({ "track": "agent.agent-ann", "seq": 0, "content_type": "audio/webm", "size": 17 * 1024 * 1024 }))
        .await
        .expect_error(413, "payload_too_large");
    s.agent("globex", "agent-ann").post(&chunks, chunk("agent.agent-ann", 0)).await.expect_error(404, "not_found");
    let customer_key = format!("customer.{}", c.customer_id);
    let agent_chunks = upload_track(&agent, &id, "agent.agent-ann", &agent_track, 3).await;
    let customer_chunks = upload_track(&agent, &id, &customer_key, &customer_track, 2).await;

    // Stopping says how many chunks went up, so assembly starts at once.
    let stopped =
        delete(&agent, &record, Some(json!({ "chunks": { "agent.agent-ann": agent_chunks, customer_key.clone(): customer_chunks } })))
            .await
            .expect(200);
    assert_eq!(stopped["recording"]["status"], "processing");
    assert_eq!(stopped["recording"]["stopped_by"], json!({ "kind": "agent", "id": "agent-ann" }));
    let frame = next_call(&mut customer_ws, "recording_stopped").await;
    assert!(frame["call"].get("recording").is_none(), "{frame}");
    agent.post(&record, json!({})).await.expect(201); // a new recording may start…
    delete(&agent, &record, None).await.expect(200); // …and stop with nothing in it

    let done = settled(&agent, &id).await;
    assert_eq!(done["status"], "available", "{done}");
    assert_eq!(done["transcript"]["status"], "ready", "{done}");
    let tracks = done["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{done}");
    let named: Vec<(&str, &str)> = tracks.iter().map(|t| (t["track"].as_str().unwrap(), t["name"].as_str().unwrap())).collect();
    assert!(named.contains(&("agent.agent-ann", "agent-ann")) && named.contains(&(customer_key.as_str(), "Ada Lovelace")), "{named:?}");
    assert!(tracks.iter().all(|t| t["duration_ms"].as_u64().unwrap_or(0) > 1000), "{done}");
    assert_eq!(done["media"][0]["track"], "mixed", "{done}");

    // Both speakers' words come back under their names.
    let t = agent.get(&format!("/v1/recordings/{id}/transcript")).await.expect(200);
    let speakers: Vec<(&str, &str)> =
        t["speakers"].as_array().unwrap().iter().map(|s| (s["label"].as_str().unwrap(), s["name"].as_str().unwrap())).collect();
    assert!(speakers.contains(&("agent.agent-ann", "agent-ann")) && speakers.contains(&(customer_key.as_str(), "Ada Lovelace")), "{t}");
    let heard = |name: &str| {
        t["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] == name)
            .map(|x| x["text"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (ann, ada) = (heard("agent-ann"), heard("Ada Lovelace"));
    assert!(overlap(AGENT, &ann) >= 2 && overlap(AGENT, &ann) > overlap(CUSTOMER, &ann), "the agent's words: {ann:?}");
    assert!(overlap(CUSTOMER, &ada) >= 2 && overlap(CUSTOMER, &ada) > overlap(AGENT, &ada), "the customer's words: {ada:?}");
    let page = agent.get(&format!("/v1/recordings/{id}/transcript?limit=1")).await.expect(200);
    assert_eq!(page["turns"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().expect("more turns follow");
    let next = agent.get(&format!("/v1/recordings/{id}/transcript?limit=1&cursor={cursor}")).await.expect(200);
    assert_eq!(next["turns"][0]["index"], 1);
    agent.get(&format!("/v1/recordings/{id}/transcript?limit=0")).await.expect_error(400, "validation_failed");
    agent.get(&format!("/v1/recordings/{id}/transcript?cursor=nonsense")).await.expect_error(400, "validation_failed");

    // Exports, and a speaker renamed by an agent.
    let vtt = agent.get(&format!("/v1/recordings/{id}/transcript/export?format=vtt")).await;
    assert_eq!(vtt.status, 200);
    assert!(vtt.header("content-disposition").starts_with("attachment;"), "{:?}", vtt.headers);
    assert!(vtt.body.as_str().unwrap().starts_with("WEBVTT") && vtt.body.as_str().unwrap().contains("<v Ada Lovelace>"), "{}", vtt.body);
    agent.get(&format!("/v1/recordings/{id}/transcript/export?format=doc")).await.expect_error(400, "validation_failed");
    let renamed = agent
        .patch(&format!("/v1/recordings/{id}/transcript/speakers"), json!({ "speakers": { "agent.agent-ann": "Ann Example" } }))
        .await
        .expect(200);
    assert!(renamed.as_array().unwrap().iter().any(|s| s["name"] == "Ann Example"), "{renamed}");
    let txt = agent.get(&format!("/v1/recordings/{id}/transcript/export?format=txt")).await;
    assert!(txt.body.as_str().unwrap().contains("Ann Example: "), "{}", txt.body);
    agent
        .patch(&format!("/v1/recordings/{id}/transcript/speakers"), json!({ "speakers": { "spk_9": "Nobody" } }))
        .await
        .expect_error(400, "validation_failed");
    customer
        .patch(&format!("/v1/recordings/{id}/transcript/speakers"), json!({ "speakers": { "agent.agent-ann": "X" } }))
        .await
        .expect_error(403, "forbidden");

    // No translator is configured here: said, with the original still readable.
    agent.get(&format!("/v1/recordings/{id}/transcript?lang=es")).await.expect_error(503, "translation_unavailable");
    agent.get(&format!("/v1/recordings/{id}/transcript?lang=klingon!")).await.expect_error(400, "validation_failed");
    assert_eq!(agent.get(&format!("/v1/recordings/{id}/transcript?lang=en")).await.expect(200)["lang"], "en-US", "its own language");

    // The mixed file plays from a short-lived URL.
    let media = agent.get(&format!("/v1/recordings/{id}/media")).await.expect(200);
    let played = reqwest::get(media["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(played.status(), 200);
    assert!(played.headers()["content-type"].to_str().unwrap().starts_with("audio/webm"), "{:?}", played.headers());
    assert!(played.bytes().await.unwrap().len() > 1000);
    agent.get(&format!("/v1/recordings/{id}/media?track=agent.nobody")).await.expect_error(404, "not_found");

    // Customers read recordings only when the business allows it; other tenants never.
    let listed = agent.get(&format!("/v1/customers/{}/recordings", c.customer_id)).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(listed["items"][1]["id"], id.as_str(), "newest first");
    customer.get(&format!("/v1/recordings/{id}")).await.expect_error(403, "forbidden");
    customer.get(&format!("/v1/customers/{}/recordings", c.customer_id)).await.expect_error(403, "forbidden");
    agent.patch("/v1/tenant/settings", json!({ "recordings": { "customer_access": true } })).await.expect_error(403, "forbidden");
    admin.patch("/v1/tenant/settings", json!({ "recordings": { "customer_access": true } })).await.expect(200);
    assert_eq!(customer.get(&format!("/v1/recordings/{id}")).await.expect(200)["id"], id.as_str());
    customer.get(&format!("/v1/recordings/{id}/transcript")).await.expect(200);
    s.customer("acme", "cus_01M8E24NKB3T5X7Z9C1E4G6J8M").get(&format!("/v1/recordings/{id}")).await.expect_error(404, "not_found");
    s.admin("globex", "root").get(&format!("/v1/recordings/{id}")).await.expect_error(404, "not_found");
    s.agent("globex", "agent-ann").get(&format!("/v1/recordings/{id}/transcript")).await.expect_error(404, "not_found");
    s.agent("globex", "agent-ann").get(&format!("/v1/customers/{}/recordings", c.customer_id)).await.expect_error(404, "not_found");

    // The history keeps who started and stopped each recording.
    let history = agent.messages(&c.session_id, "?limit=50").await.expect(200);
    let mut items = history["items"].as_array().unwrap().clone();
    items.sort_by_key(|m| m["seq"].as_u64());
    let recorded: Vec<(String, String)> = items
        .iter()
        .filter(|m| m["kind"] == "call" && m["call"]["event"].as_str().unwrap_or("").starts_with("recording_"))
        .map(|m| (m["call"]["event"].as_str().unwrap().to_string(), m["call"]["by"]["id"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(recorded.len(), 4, "two recordings, each started and stopped: {recorded:?}");
    assert_eq!(&recorded[..2], &[("recording_started".into(), "agent-ann".into()), ("recording_stopped".into(), "agent-ann".into())]);

    // A repeated storage notification of a final track transcribes nothing again.
    let app = s.running.as_ref().unwrap().stack.app.clone();
    let key = format!("recordings/acme/{id}/tracks/agent.agent-ann.webm");
    let event = confer_local::s3_events::object_created("confer-local-recordings", &key, 1, "x", "127.0.0.1");
    let trigger = confer::inbound::trigger("recordings-transcribe").unwrap();
    let outcome = (trigger.handler)(app, serde_json::from_value(event).unwrap()).await;
    assert!(outcome.failed.is_empty());
    let events = admin.get("/v1/events?limit=100").await.expect(200);
    let available: Vec<_> =
        events_of(&events, "recording.available").into_iter().filter(|e| e["event"]["data"]["recording_id"] == id.as_str()).collect();
    let ready: Vec<_> =
        events_of(&events, "transcript.ready").into_iter().filter(|e| e["event"]["data"]["recording_id"] == id.as_str()).collect();
    assert_eq!((available.len(), ready.len()), (1, 1), "each event once: {events}");
    assert_eq!(ready[0]["event"]["data"]["turns"], t["turns"].as_array().unwrap().len(), "{}", ready[0]);
}

#[tokio::test]
async fn a_recording_without_a_speech_engine_is_kept_and_says_why() {
    let server = TestServer::start_with(|config| config.media.speech_python = None).await;
    let agent = server.agent("acme", "agent-ann");
    let customer_id = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session = agent.open_session(&customer_id, &[]).await["id"].as_str().unwrap().to_string();
    let call = format!("/v1/sessions/{session}/call");
    agent.post(&call, json!({})).await.expect(201);
    let id = agent.post(&format!("{call}/recording"), json!({})).await.expect(201)["recording"]["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let track = spoken_webm(dir.path(), "agent", "en-us", AGENT);
    let n = upload_track(&agent, &id, "agent.agent-ann", &track, 1).await;
    // Ending the call stops the recording too.
    agent.post(&format!("{call}/end"), json!({})).await.expect(200);
    let done = settled(&agent, &id).await;
    assert_eq!(done["status"], "available", "{done}");
    assert_eq!(done["transcript"]["status"], "unavailable", "{done}");
    assert!(done["transcript"]["reason"].as_str().unwrap().contains("no speech engine"), "{done}");
    assert_eq!(n, 1);
    let answer = agent.get(&format!("/v1/recordings/{id}/transcript")).await;
    answer.expect_error(409, "transcript_not_ready");
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("no speech engine"), "{}", answer.body);
    // The recording itself is kept and plays.
    agent.get(&format!("/v1/recordings/{id}/media?track=agent.agent-ann")).await.expect(200);
    // The history's call entries keep to the documented id length (1 to 64 characters).
    let history = agent.messages(&session, "?limit=100").await.expect(200);
    let entries: Vec<&str> = history["items"].as_array().unwrap().iter().map(|m| m["client_message_id"].as_str().unwrap()).collect();
    assert_eq!(entries.len(), 4, "call started, recording started and stopped, call ended: {entries:?}");
    assert!(entries.iter().all(|id| (1..=64).contains(&id.len())), "{entries:?}");
}

#[tokio::test]
async fn a_corrupt_track_fails_its_transcript_with_the_reason_and_a_recording_with_no_chunks_fails() {
    assert!(
        std::env::var_os("CONFER_SPEECH_PYTHON").is_some(),
        "CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh"
    );
    let c = chat_between_agent_and_customer().await;
    let agent = c.server.agent("acme", "agent-ann");
    let call = format!("/v1/sessions/{}/call", c.session_id);
    agent.post(&call, json!({})).await.expect(201);
    let id = agent.post(&format!("{call}/recording"), json!({})).await.expect(201)["recording"]["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.webm");
    std::fs::write(&corrupt, b"\x1aE\xdf\xa3 this is not a recording at all, only words").unwrap();
    upload_track(&agent, &id, "agent.agent-ann", &corrupt, 1).await;
    delete(&agent, &format!("{call}/recording"), Some(json!({ "chunks": { "agent.agent-ann": 1 } }))).await.expect(200);
    let done = settled(&agent, &id).await;
    assert_eq!(done["transcript"]["status"], "failed", "{done}");
    assert!(done["transcript"]["reason"].as_str().unwrap().contains("cannot be read"), "{done}");

    let empty = agent.post(&format!("{call}/recording"), json!({})).await.expect(201)["recording"]["id"].as_str().unwrap().to_string();
    delete(&agent, &format!("{call}/recording"), Some(json!({ "chunks": {} }))).await.expect(200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let r = agent.get(&format!("/v1/recordings/{empty}")).await.expect(200);
        if r["status"] != "processing" || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["failure"].as_str().unwrap().contains("no part"), "{failed}");
    delete(&agent, &format!("{call}/recording"), Some(json!({ "chunks": { "agent.agent-ann": 99_999 } })))
        .await
        .expect_error(400, "validation_failed");
}

/// Polls the recording until it is no longer `recording` or `processing`.
async fn assembled(api: &Api, recording_id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = api.get(&format!("/v1/recordings/{recording_id}")).await.expect(200);
        let status = r["status"].as_str().unwrap_or_default().to_string();
        if (status != "recording" && status != "processing") || std::time::Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_recording_whose_assembly_a_restart_cut_short_is_finished_by_the_next_start() {
    let c = chat_between_agent_and_customer().await;
    let agent = c.server.agent("acme", "agent-ann");
    let call = format!("/v1/sessions/{}/call", c.session_id);
    agent.post(&call, json!({})).await.expect(201);
    c.server.customer("acme", &c.customer_id).post(&format!("{call}/join"), json!({})).await.expect(200);
    let id = agent.post(&format!("{call}/recording"), json!({})).await.expect(201)["recording"]["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let agent_chunks = upload_track(&agent, &id, "agent.agent-ann", &spoken_webm(dir.path(), "agent", "en-us", AGENT), 3).await;
    let customer_track = format!("customer.{}", c.customer_id);
    let customer_chunks = upload_track(&agent, &id, &customer_track, &spoken_webm(dir.path(), "customer", "en+f3", CUSTOMER), 2).await;

    // A restart while the call is still being recorded leaves the recording as it is.
    let data_dir = c.server.data_dir.clone();
    let server = c.server.restart().await;
    let agent = server.agent("acme", "agent-ann");
    assert_eq!(agent.get(&format!("/v1/recordings/{id}")).await.expect(200)["status"], "recording");

    // Stopped, then Confer stops in the middle of putting the files together.
    let held = server.stop().await;
    {
        let stack = confer_local::stack::LocalStack::open_with(&data_dir, Vec::new(), &Default::default()).unwrap();
        let tenant = confer::domain::TenantId::parse("acme").unwrap();
        let rid = confer::domain::RecordingId::parse(&id).unwrap();
        confer::app::recordings::store::Recordings::new(&stack.app, &tenant)
            .update(&rid, |s| {
                s.recording.status = confer::domain::recording::RecordingStatus::Processing;
                s.assembling = true;
                s.chunks_reported = true;
                s.expected_chunks = [("agent.agent-ann".to_string(), agent_chunks), (customer_track.clone(), customer_chunks)]
                    .into_iter()
                    .map(|(track, n)| (track_object_name(&parse_track_name(&track).unwrap()), n))
                    .collect();
                Ok(true)
            })
            .await
            .unwrap();
    }
    let server = TestServer::start_in(&data_dir, Vec::new()).await;
    let agent = server.agent("acme", "agent-ann");
    let done = assembled(&agent, &id).await;
    assert_eq!(done["status"], "available", "the next start finishes it: {done}");
    let tracks: BTreeSet<&str> = done["tracks"].as_array().unwrap().iter().map(|t| t["track"].as_str().unwrap()).collect();
    assert_eq!(tracks, BTreeSet::from(["agent.agent-ann", customer_track.as_str()]));
    agent.get(&format!("/v1/recordings/{id}/media")).await.expect(200);
    // Its chunks are gone once assembled: a further start has nothing to resume.
    assert!(!data_dir.join(format!("recordings/chunks/acme/{id}")).exists());
    drop(server);
    drop(held);
}
