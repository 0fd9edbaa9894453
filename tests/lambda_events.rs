//! Every sample event in events/ parses into the type its function receives from AWS and runs
//! through that function's handler against the embedded backends. A file in events/ that no
//! test knows fails the suite.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use confer::adapters::local::connections::Outbound;
use confer::adapters::local::{LocalConnections, SqliteEventLog, SqliteStore};
use confer::app::App;
use confer::domain::{Principal, Role, TenantId};
use confer::http::routes::{http_handler, ws_handler, ROUTES, WS_AUTHORIZER_FUNCTION, WS_ROUTES};
use confer::identity::LocalIssuer;
use confer::ports::EventLog;
use lambda_http::Body;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedReceiver;

/// Ids the sample events use (a test that chains events swaps in the ids it created).
const SAMPLE_CUSTOMER: &str = "cus_01M8E24NKB3T5X7Z9C1E4G6J8M";
const SAMPLE_SESSION: &str = "ses_01M8NRRGNB7K9M1P3R5T7V9X1Z";
const SAMPLE_ATTACHMENT: &str = "att_01M8NT2K4C6E8G0J2M4P6R8T0V";
const SAMPLE_CONNECTION: &str = "Vd3kXcY0joECF2w=";
const SAMPLE_AGENT: &str = "7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").join("events")
}

fn event_text(function: &str) -> String {
    let path = events_dir().join(format!("{function}.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

struct Local {
    app: Arc<App>,
    connections: LocalConnections,
    log: SqliteEventLog,
}

/// An App on the embedded backends, assembled as confer-local assembles it.
fn local() -> Local {
    let store = SqliteStore::in_memory().expect("in-memory store");
    let mut backends = confer::adapters::local::assemble(&store).expect("local backends");
    let dir = tempfile::tempdir().expect("temp dir").keep();
    backends.app.blobs = Arc::new(confer::adapters::local::LocalBlobs::open(&dir.join("blobs"), &dir).expect("blobs"));
    let (app, connections, log) = (Arc::new(backends.app), backends.connections, backends.event_log);
    Local { app, connections, log }
}

/// Runs a trigger function's sample event (ids swapped) through its handler.
async fn run_trigger(app: &Arc<App>, function: &str, swaps: &[(&str, &str)]) -> confer::inbound::Outcome {
    let mut text = event_text(function);
    for (from, to) in swaps {
        text = text.replace(from, to);
    }
    let event: aws_lambda_events::s3::S3Event =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{function}.json is not an S3 event: {e}"));
    let trigger = confer::inbound::trigger(function).expect("a trigger function");
    (trigger.handler)(app.clone(), event).await
}

// ---------------------------------------------------------------- the storage trigger

#[tokio::test]
async fn the_upload_notification_for_an_unknown_attachment_changes_nothing() {
    let l = local();
    assert!(run_trigger(&l.app, "attachments-verify", &[]).await.failed.is_empty());
    assert!(event_types(&l.log).await.is_empty());
}

#[tokio::test]
async fn an_upload_request_and_its_notification_make_a_file_message() {
    let l = local();
    let (_, created) = run_http(&l.app, "customers-create", &[]).await;
    let cus = created["id"].as_str().unwrap().to_string();
    let (_, session) = run_http(&l.app, "sessions-create", &[(SAMPLE_CUSTOMER, &cus)]).await;
    let ses = session["id"].as_str().unwrap().to_string();
    let s: &[(&str, &str)] = &[(SAMPLE_SESSION, &ses), (SAMPLE_CUSTOMER, &cus)];
    // The sample asks to upload a 48,213-byte PNG: a real PNG of that size arrives.
    let (status, ticket) = run_http(&l.app, "attachments-create", s).await;
    assert_eq!(status, 201, "{ticket}");
    let att = ticket["attachment"]["id"].as_str().unwrap().to_string();
    let mut png = Vec::new();
    let img = image::RgbImage::from_fn(96, 64, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, ((x ^ y) * 7) as u8]));
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    png.resize(48_213, 0); // trailing bytes after IEND, as some encoders leave
    l.app.blobs.write(&format!("uploads/acme/{ses}/{att}"), png, "image/png").await.unwrap();
    let swapped: &[(&str, &str)] = &[(SAMPLE_SESSION, &ses), (SAMPLE_ATTACHMENT, &att)];
    assert!(run_trigger(&l.app, "attachments-verify", swapped).await.failed.is_empty());
    let (status, got) = run_http(&l.app, "attachments-get", swapped).await;
    assert_eq!((status, got["status"].as_str()), (200, Some("ready")), "{got}");
    assert_eq!((got["width"].as_u64(), got["height"].as_u64()), (Some(96), Some(64)));
    let (status, history) = run_http(&l.app, "messages-list", s).await;
    assert_eq!((status, history["items"][0]["kind"].as_str()), (200, Some("image")), "{history}");
    let (status, files) = run_http(&l.app, "customer-files-list", s).await;
    assert_eq!((status, files["items"][0]["attachment_id"].as_str()), (200, Some(att.as_str())), "{files}");
    let types = event_types(&l.log).await;
    assert!(types.ends_with(&["message.created".to_string(), "attachment.ready".to_string()]), "{types:?}");
}

async fn event_types(log: &SqliteEventLog) -> Vec<String> {
    let events = log.read("acme", 0, 100).await.expect("event log readable");
    events
        .into_iter()
        .map(|e| serde_json::to_value(&e).expect("event serialises")["event"]["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn body_json(body: &Body) -> Value {
    let bytes: &[u8] = match body {
        Body::Text(s) => s.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Runs a REST function's event (optionally with ids swapped) and returns status and JSON body.
async fn run_http(app: &Arc<App>, function: &str, swaps: &[(&str, &str)]) -> (u16, Value) {
    let mut text = event_text(function);
    for (from, to) in swaps {
        text = text.replace(from, to);
    }
    let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("events/{function}.json is not an HTTP API event: {e}"));
    let route = ROUTES.iter().find(|r| r.function == function).expect("a REST function");
    assert_eq!(req.method().as_str(), route.method, "events/{function}.json: method");
    let handler = http_handler(function).expect("handler");
    let resp = handler(app.clone(), req).await;
    (resp.status().as_u16(), body_json(resp.body()))
}

fn ws_event(function: &str, swaps: &[(&str, &str)]) -> ApiGatewayWebsocketProxyRequest {
    let mut text = event_text(function);
    for (from, to) in swaps {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{function}.json is not a WebSocket event: {e}"))
}

async fn run_ws(app: &Arc<App>, function: &str, swaps: &[(&str, &str)]) -> ApiGatewayProxyResponse {
    let event = ws_event(function, swaps);
    let key = WS_ROUTES.iter().find(|(_, f, _)| *f == function).map(|(k, _, _)| *k).expect("a WebSocket function");
    assert_eq!(event.request_context.route_key.as_deref(), Some(key), "events/{function}.json: routeKey");
    let handler = ws_handler(key).expect("handler");
    handler(app.clone(), event).await
}

/// The next frame posted to a registered connection, as JSON.
async fn next_frame(rx: &mut UnboundedReceiver<Outbound>) -> Value {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(Outbound::Frame(bytes))) => serde_json::from_slice(&bytes).expect("frames are JSON"),
        Ok(Some(Outbound::Close)) => panic!("connection closed instead of a frame"),
        Ok(None) => panic!("connection dropped"),
        Err(_) => panic!("no frame within 5 s"),
    }
}

async fn connection_recorded(app: &App, id: &str) -> bool {
    app.connections_table.get(&confer::keys::connection(id)).await.expect("connections table readable").is_some()
}

fn authorizer_event() -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    serde_json::from_str(&event_text(WS_AUTHORIZER_FUNCTION)).expect("events/ws-authorizer.json is a REQUEST authorizer input")
}

#[test]
fn every_event_file_belongs_to_a_function_and_every_function_has_one() {
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(events_dir()).expect("events/ exists") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
        // `<function>.json`, and for a function fed several shapes, `<function>.<variant>.json`.
        let stem =
            name.strip_suffix(".json").unwrap_or_else(|| panic!("events/{name}: only <function>[.<variant>].json files belong here"));
        let function = stem.split('.').next().unwrap_or(stem);
        files.insert(function.to_string());
    }
    let mut functions: BTreeSet<String> = ROUTES.iter().filter(|r| r.cloud).map(|r| r.function.to_string()).collect();
    functions.extend(WS_ROUTES.iter().map(|(_, f, _)| f.to_string()));
    functions.extend(confer::inbound::TRIGGERS.iter().map(|t| t.function.to_string()));
    functions.extend(confer::inbound::RULES.iter().map(|r| r.function.to_string()));
    functions.extend(confer::inbound::CONSUMERS.iter().map(|c| c.function.to_string()));
    functions.extend(confer::inbound::STREAMS.iter().map(|c| c.function.to_string()));
    functions.insert(WS_AUTHORIZER_FUNCTION.to_string());
    let unknown: Vec<_> = files.difference(&functions).collect();
    let missing: Vec<_> = functions.difference(&files).collect();
    assert!(unknown.is_empty(), "events/ holds files no function receives (and no test covers): {unknown:?}");
    assert!(missing.is_empty(), "functions without a sample event in events/: {missing:?}");
}

#[test]
fn http_events_carry_the_jwt_authorizer_claims_of_acme_staff() {
    for r in ROUTES.iter().filter(|r| r.cloud) {
        if r.public {
            // No authorizer runs: API Gateway sends no claims and no authorizer context.
            let v: Value = serde_json::from_str(&event_text(r.function)).unwrap();
            assert!(v["requestContext"].get("authorizer").is_none(), "{}: a public route's event has no authorizer", r.function);
            continue;
        }
        let v: Value = serde_json::from_str(&event_text(r.function)).unwrap();
        assert_eq!(v["version"], "2.0", "{}: payload format 2.0", r.function);
        assert_eq!(v["routeKey"], format!("{} {}", r.method, r.path), "{}: routeKey", r.function);
        let claims = &v["requestContext"]["authorizer"]["jwt"]["claims"];
        assert_eq!(claims["custom:tenant_id"], "acme", "{}", r.function);
        // Managing agents is for admins; the inbox is a customer's; every other sample comes
        // from an agent.
        if r.function.starts_with("inbox-") {
            assert_eq!(claims["custom:role"], "customer", "{}", r.function);
            assert_eq!(claims["custom:customer_id"], SAMPLE_CUSTOMER, "{}", r.function);
        } else {
            let role = if r.function.starts_with("agents-") { "admin" } else { "agent" };
            assert_eq!(claims["custom:role"], role, "{}", r.function);
            assert_eq!(claims["sub"], SAMPLE_AGENT, "{}", r.function);
        }
        assert_eq!(claims["token_use"], "id", "{}: Cognito ID token claims", r.function);
        // The raw path of a named stage starts with the stage.
        let stage = v["requestContext"]["stage"].as_str().unwrap();
        assert!(v["rawPath"].as_str().unwrap().starts_with(&format!("/{stage}/v1/")), "{}: rawPath", r.function);
    }
}

// ---------------------------------------------------------------- REST events, empty store

#[tokio::test]
async fn rest_events_against_an_empty_store() {
    let l = local();
    let (status, body) = run_http(&l.app, "customers-create", &[]).await;
    assert_eq!(status, 201, "customers-create: {body}");
    let id = body["id"].as_str().expect("customer id");
    assert!(id.starts_with("cus_") && id.len() == 30, "customer id {id}");
    assert_eq!(body["name"], "Jonas Berg");
    assert_eq!(event_types(&l.log).await, ["customer.created"]);

    // A second, empty store: every lookup of the sample ids misses.
    let l = local();
    let misses = [
        "customers-get",
        "customers-update",
        "customer-sessions-list",
        "sessions-create",
        "sessions-get",
        "sessions-close",
        "messages-list",
        "messages-translate",
        "groups-get",
        "groups-update",
        "group-members-add",
        "group-members-remove",
        "group-members-list",
        "customer-groups-list",
        "calls-record-start",
        "calls-record-stop",
        "customer-recordings-list",
        "recordings-get",
        "recordings-media",
        "transcripts-get",
        "transcripts-export",
        "transcripts-speakers-update",
    ];
    for function in misses {
        let (status, body) = run_http(&l.app, function, &[]).await;
        assert_eq!(status, 404, "{function}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{function}: {body}");
        assert_eq!(body["error"]["request_id"], "Rk3vYh9QoAMEbXw=", "{function}: the event's request id echoed: {body}");
    }
    let (status, body) = run_http(&l.app, "customers-list", &[]).await;
    assert_eq!(status, 200, "customers-list: {body}");
    assert_eq!(body["items"], Value::Array(vec![]), "customers-list: {body}");
    assert!(event_types(&l.log).await.is_empty(), "failed requests publish nothing");

    // A tenant's settings: their defaults for agents; only admins change them.
    let (status, body) = run_http(&l.app, "settings-get", &[]).await;
    assert_eq!(status, 200, "settings-get: {body}");
    assert_eq!(body["recordings"]["customer_access"], false, "recordings are not shared by default: {body}");
    assert_eq!(body["transcription"]["language"], "en-US");
    let (status, body) = run_http(&l.app, "settings-update", &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "settings-update as an agent: {body}");
    let (status, body) = run_http(&l.app, "settings-update", &[("\"custom:role\": \"agent\"", "\"custom:role\": \"admin\"")]).await;
    assert_eq!(status, 200, "settings-update as an admin: {body}");
    assert_eq!(body["transcription"]["language_options"], json!(["en-US", "sv-SE"]));
}

#[tokio::test]
async fn video_app_events_reach_their_use_cases() {
    let l = local();
    let admin = [("\"custom:role\": \"agent\"", "\"custom:role\": \"admin\"")];
    for function in ["video-providers-list", "video-providers-connect", "video-providers-disconnect"] {
        let (status, body) = run_http(&l.app, function, &[]).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{function} as an agent: {body}");
        // This app has no credential store: said so, not guessed.
        let (status, body) = run_http(&l.app, function, &admin).await;
        assert_eq!((status, body["error"]["code"].as_str()), (501, Some("not_available")), "{function} as an admin: {body}");
    }
    for function in ["zoom-webhook", "teams-webhook", "meet-webhook"] {
        let (status, body) = run_http(&l.app, function, &[]).await;
        assert_eq!((status, body["error"]["code"].as_str()), (501, Some("not_available")), "{function}: {body}");
    }
}

#[tokio::test]
async fn recording_triggers_acknowledge_what_they_do_not_know() {
    let l = local();
    let outcome = run_trigger(&l.app, "recordings-transcribe", &[]).await;
    assert!(outcome.failed.is_empty(), "a final file of an unknown recording is acknowledged");
    for (function, file) in [
        ("recordings-transcribed", "recordings-transcribed.json"),
        ("recordings-transcribed", "recordings-transcribed.failed.json"),
        ("recordings-pipeline-events", "recordings-pipeline-events.json"),
    ] {
        let text = std::fs::read_to_string(events_dir().join(file)).unwrap();
        let event: aws_lambda_events::eventbridge::EventBridgeEvent<Value> = serde_json::from_str(&text).unwrap();
        let handler = confer::inbound::rule(function).expect("a rule").handler;
        handler(l.app.clone(), event).await.unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    assert!(event_types(&l.log).await.is_empty());
}

/// The announcement samples against an empty store, then with their customer: each answers what
/// its caller would get, and the fan-out queue's SQS event runs through the consumer.
#[tokio::test]
async fn announcement_events_from_an_agent_and_a_customer() {
    let l = local();
    for (function, status, code) in [
        ("announcements-get", 404, "not_found"),
        ("announcements-cancel", 404, "not_found"),
        ("announcement-media-get", 404, "not_found"),
        ("announcements-create", 409, "unknown_customers"),
        ("announcements-audience", 409, "unknown_customers"),
        ("inbox-get", 404, "not_found"),
        ("inbox-read", 404, "not_found"),
    ] {
        let (got, body) = run_http(&l.app, function, &[]).await;
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{function}: {body}");
    }
    for function in ["announcements-list", "inbox-list"] {
        let (status, body) = run_http(&l.app, function, &[]).await;
        assert_eq!((status, &body["items"]), (200, &json!([])), "{function}: {body}");
    }
    let (status, body) = run_http(&l.app, "announcement-media-create", &[]).await;
    assert_eq!(status, 201, "announcement-media-create: {body}");
    assert_eq!(body["media"]["status"], "pending");

    // With the sample customer, the sample announcement is written and sent: the SQS event's
    // publish message for an unknown announcement and its chunk are acknowledged, not retried.
    let (_, customer) = run_http(&l.app, "customers-create", &[]).await;
    let cus = customer["id"].as_str().unwrap().to_string();
    let (status, preview) = run_http(&l.app, "announcements-audience", &[(SAMPLE_CUSTOMER, &cus)]).await;
    assert_eq!((status, preview["recipients"].as_u64()), (200, Some(1)), "{preview}");
    let text = event_text("announcements-deliver");
    let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_str(&text).expect("events/announcements-deliver.json is an SQS event");
    assert_eq!(event.records.len(), 2);
    let consumer = confer::inbound::consumer("announcements-deliver").expect("the consumer");
    let ids: Vec<Option<String>> = event.records.iter().map(|r| r.message_id.clone()).collect();
    let outcome = (consumer.handler)(l.app.clone(), event).await;
    let response = confer::inbound::batch_response(&ids, &outcome);
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let (status, created) = run_http(&l.app, "announcements-create", &[(SAMPLE_CUSTOMER, &cus)]).await;
    assert_eq!((status, created["status"].as_str()), (201, Some("scheduled")), "{created}");
}

#[tokio::test]
async fn the_imports_queue_event_parses_and_an_import_for_a_meeting_confer_does_not_know_is_acknowledged() {
    let l = local();
    let text = event_text("recordings-import");
    let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_str(&text).expect("events/recordings-import.json is an SQS event");
    let job: confer::app::video_apps::import::ImportJob =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).expect("its body is an import");
    assert_eq!((job.files.len(), job.files[0].speaker.as_deref()), (3, Some("Ann from Acme")));
    let consumer = confer::inbound::consumer("recordings-import").expect("the consumer");
    let ids: Vec<Option<String>> = event.records.iter().map(|r| r.message_id.clone()).collect();
    let outcome = (consumer.handler)(l.app.clone(), event).await;
    assert!(confer::inbound::batch_response(&ids, &outcome).batch_item_failures.is_empty(), "nothing to retry: {outcome:?}");
}

#[test]
fn a_partial_batch_response_names_the_failed_messages_or_fails_the_batch() {
    use confer::inbound::{batch_response, Outcome};
    let ids = vec![Some("a".to_string()), Some("b".to_string()), None];
    let named = batch_response(&ids, &Outcome { failed: vec![1] });
    assert_eq!(serde_json::to_value(&named).unwrap(), json!({ "batchItemFailures": [{ "itemIdentifier": "b" }] }));
    assert_eq!(serde_json::to_value(batch_response(&ids, &Outcome::default())).unwrap(), json!({ "batchItemFailures": [] }));
    // A failed record without an id: the empty identifier fails the whole batch.
    let all = batch_response(&ids, &Outcome { failed: vec![0, 2] });
    assert_eq!(serde_json::to_value(&all).unwrap(), json!({ "batchItemFailures": [{ "itemIdentifier": "" }] }));
}

#[tokio::test]
async fn an_http_event_without_claims_is_unauthorized() {
    let l = local();
    let mut v: Value = serde_json::from_str(&event_text("customers-list")).unwrap();
    v["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let req = lambda_http::request::from_str(&v.to_string()).unwrap();
    let resp = http_handler("customers-list").unwrap()(l.app.clone(), req).await;
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(body_json(resp.body())["error"]["code"], "unauthorized");
}

// ---------------------------------------------------------------- WebSocket events, empty store

#[tokio::test]
async fn connect_records_the_connection_and_echoes_the_subprotocol() {
    let l = local();
    let resp = run_ws(&l.app, "ws-connect", &[]).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(resp.headers.get("sec-websocket-protocol").and_then(|v| v.to_str().ok()), Some("confer.v1"));
    assert!(connection_recorded(&l.app, SAMPLE_CONNECTION).await);

    let resp = run_ws(&l.app, "ws-disconnect", &[]).await;
    assert_eq!(resp.status_code, 200);
    assert!(!connection_recorded(&l.app, SAMPLE_CONNECTION).await, "disconnect forgets the connection");
}

#[tokio::test]
async fn connect_without_authorizer_context_is_refused() {
    let l = local();
    let mut event = ws_event("ws-connect", &[]);
    event.request_context.authorizer.fields.clear();
    let resp = confer::ws::on_connect(l.app.clone(), event).await;
    assert_eq!(resp.status_code, 401);
    assert!(!connection_recorded(&l.app, SAMPLE_CONNECTION).await);
}

#[tokio::test]
async fn default_route_answers_ping_with_pong() {
    let l = local();
    let mut rx = l.connections.register(SAMPLE_CONNECTION);
    let resp = run_ws(&l.app, "ws-default", &[]).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(next_frame(&mut rx).await["type"], "pong");
}

#[tokio::test]
async fn send_and_ack_to_an_unknown_session_answer_error_frames() {
    let l = local();
    let mut rx = l.connections.register(SAMPLE_CONNECTION);
    let resp = run_ws(&l.app, "ws-send", &[]).await;
    assert_eq!(resp.status_code, 404);
    let frame = next_frame(&mut rx).await;
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["code"], "not_found");
    assert_eq!(frame["client_message_id"], "c-5f2d9a71-0e3b-4c8a-b6d4-7a1e9f3c2b58", "the error names the client's message");

    let resp = run_ws(&l.app, "ws-ack", &[]).await;
    assert_eq!(resp.status_code, 404);
    let frame = next_frame(&mut rx).await;
    assert_eq!((frame["type"].as_str(), frame["code"].as_str()), (Some("error"), Some("not_found")));
    assert!(event_types(&l.log).await.is_empty());
}

// ---------------------------------------------------------------- the events chained

/// The sample events in the order a conversation uses them, with the ids the store handed out.
#[tokio::test]
async fn events_chain_into_a_conversation() {
    let l = local();
    let (status, created) = run_http(&l.app, "customers-create", &[]).await;
    assert_eq!(status, 201, "{created}");
    let cus = created["id"].as_str().unwrap().to_string();
    let c: &[(&str, &str)] = &[(SAMPLE_CUSTOMER, &cus)];

    let (status, got) = run_http(&l.app, "customers-get", c).await;
    assert_eq!((status, got["id"].as_str()), (200, Some(cus.as_str())), "{got}");
    let (status, updated) = run_http(&l.app, "customers-update", c).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["phone"], "+46709876543");
    assert_eq!(updated["attributes"]["plan"], "enterprise");
    let (status, list) = run_http(&l.app, "customers-list", &[]).await;
    assert_eq!((status, list["items"].as_array().map(Vec::len)), (200, Some(1)), "{list}");

    let (status, session) = run_http(&l.app, "sessions-create", c).await;
    assert_eq!(status, 201, "{session}");
    let ses = session["id"].as_str().unwrap().to_string();
    assert!(ses.starts_with("ses_"));
    let s: &[(&str, &str)] = &[(SAMPLE_SESSION, &ses), (SAMPLE_CUSTOMER, &cus)];
    let (status, got) = run_http(&l.app, "sessions-get", s).await;
    assert_eq!((status, got["status"].as_str()), (200, Some("open")), "{got}");
    let (status, sessions) = run_http(&l.app, "customer-sessions-list", s).await;
    assert_eq!((status, sessions["items"][0]["id"].as_str()), (200, Some(ses.as_str())), "{sessions}");

    // The agent connects, sends, and reads the history.
    let mut rx = l.connections.register(SAMPLE_CONNECTION);
    assert_eq!(run_ws(&l.app, "ws-connect", s).await.status_code, 200);
    let resp = run_ws(&l.app, "ws-send", s).await;
    assert_eq!(resp.status_code, 200);
    let ack = next_frame(&mut rx).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["duplicate"], false);
    let msg = ack["message"]["id"].as_str().expect("stored message id").to_string();
    // The same frame again is a resend: acknowledged as a duplicate, nothing new stored.
    assert_eq!(run_ws(&l.app, "ws-send", s).await.status_code, 200);
    let again = next_frame(&mut rx).await;
    assert_eq!(
        (again["type"].as_str(), again["duplicate"].as_bool(), again["message"]["id"].as_str()),
        (Some("ack"), Some(true), Some(msg.as_str()))
    );

    let (status, history) = run_http(&l.app, "messages-list", s).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["items"].as_array().map(Vec::len), Some(1), "{history}");
    assert_eq!(history["items"][0]["id"], msg.as_str());

    assert_eq!(history["items"][0]["seq"], 1);
    assert_eq!(run_ws(&l.app, "ws-ack", s).await.status_code, 200, "the sample acknowledges up to seq 1");

    let (status, closed) = run_http(&l.app, "sessions-close", s).await;
    assert_eq!((status, closed["status"].as_str()), (200, Some("closed")), "{closed}");
    assert_eq!(run_ws(&l.app, "ws-disconnect", s).await.status_code, 200);
    assert!(!connection_recorded(&l.app, SAMPLE_CONNECTION).await);

    assert_eq!(
        event_types(&l.log).await,
        ["customer.created", "customer.updated", "session.created", "message.created", "message.delivered", "session.closed"]
    );
}

// ---------------------------------------------------------------- the $connect authorizer

fn issuer() -> LocalIssuer {
    let dir = tempfile::tempdir().expect("temp dir");
    LocalIssuer::load_or_create(dir.path()).expect("issuer")
}

fn agent() -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: SAMPLE_AGENT.to_string() }
}

#[tokio::test]
async fn authorizer_allows_a_valid_query_token_for_the_method_arn() {
    let issuer = issuer();
    let verifier = issuer.verifier();
    let mut event = authorizer_event();
    let arn = event.method_arn.clone().expect("methodArn");
    assert!(arn.ends_with("/dev/$connect"), "{arn}");
    let token = issuer.mint(&agent(), Duration::from_secs(300)).unwrap();
    event.query_string_parameters = [("token".to_string(), token)].into_iter().collect::<std::collections::HashMap<_, _>>().into();

    let allowed = confer::ws::authorizer::authorize(&verifier, event).await.expect("allowed");
    assert_eq!(allowed.principal_id, format!("acme:{SAMPLE_AGENT}"));
    let st = &allowed.policy_document.statement;
    assert_eq!(st.len(), 1);
    assert_eq!((st[0].effect.as_str(), st[0].action.as_str(), st[0].resource.as_str()), ("Allow", "execute-api:Invoke", arn.as_str()));
    assert_eq!(allowed.context["tenant"], "acme");
    assert_eq!(allowed.context["role"], "agent");
    assert_eq!(allowed.context["subject"], SAMPLE_AGENT);

    // The context it returns is what the route events carry as requestContext.authorizer.
    let connect: Value = serde_json::from_str(&event_text("ws-connect")).unwrap();
    for k in ["tenant", "role", "subject"] {
        assert_eq!(connect["requestContext"]["authorizer"][k], allowed.context[k], "ws-connect context {k}");
    }
}

#[tokio::test]
async fn authorizer_reads_a_bearer_subprotocol() {
    let issuer = issuer();
    let mut event = authorizer_event();
    event.query_string_parameters = Default::default();
    let token = issuer.mint(&agent(), Duration::from_secs(300)).unwrap();
    event.headers.insert("sec-websocket-protocol", format!("confer.v1, bearer.{token}").parse().unwrap());
    let allowed = confer::ws::authorizer::authorize(&issuer.verifier(), event).await.expect("allowed");
    assert_eq!(allowed.context["subject"], SAMPLE_AGENT);
}

#[tokio::test]
async fn authorizer_refuses_foreign_missing_and_expired_tokens() {
    let issuer = issuer();
    let verifier = issuer.verifier();
    // As stored: the sample token is not signed by this issuer.
    assert!(confer::ws::authorizer::authorize(&verifier, authorizer_event()).await.is_err(), "a token of another issuer");

    let mut none = authorizer_event();
    none.query_string_parameters = Default::default();
    assert!(confer::ws::authorizer::authorize(&verifier, none).await.is_err(), "no token at all");

    let mut other = authorizer_event();
    let foreign = issuer.mint_with(&agent(), Duration::from_secs(300), "someone-else").unwrap();
    other.query_string_parameters = [("token".to_string(), foreign)].into_iter().collect::<std::collections::HashMap<_, _>>().into();
    assert!(confer::ws::authorizer::authorize(&verifier, other).await.is_err(), "a token for another audience");

    let mut expired = authorizer_event();
    let mut claims: serde_json::Map<String, Value> = agent().to_claims().into_iter().map(|(k, v)| (k, v.into())).collect();
    claims.insert("iss".into(), confer::identity::LOCAL_ISSUER.into());
    claims.insert("aud".into(), confer::identity::LOCAL_AUDIENCE.into());
    claims.insert("iat".into(), 1_700_000_000i64.into());
    claims.insert("exp".into(), 1_700_000_600i64.into());
    let stale = issuer.sign(&claims).unwrap();
    expired.query_string_parameters = [("token".to_string(), stale)].into_iter().collect::<std::collections::HashMap<_, _>>().into();
    assert!(confer::ws::authorizer::authorize(&verifier, expired).await.is_err(), "an expired token");
}

// ---------------------------------------------------------------- ports a function lacks

/// A function built without a capability answers what it lacks, clearly, instead of failing
/// somewhere inside: media and the event log are `501 not_available`; a missing table is an
/// internal error naming it in the logs.
#[tokio::test]
async fn ports_outside_a_functions_capabilities_answer_clear_errors() {
    let store = SqliteStore::in_memory().expect("in-memory store");
    let mut app = App::without_backends();
    app.table = Arc::new(store.table("main"));
    let app = Arc::new(app);
    let (_, created) = run_http(&app, "customers-create", &[]).await;
    let cus = created["id"].as_str().expect("created with a table alone (its event is lost, and logged)").to_string();
    let (_, session) = run_http(&app, "sessions-create", &[(SAMPLE_CUSTOMER, &cus)]).await;
    let ses = session["id"].as_str().unwrap().to_string();
    let (status, body) = run_http(&app, "attachments-create", &[(SAMPLE_SESSION, &ses)]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (501, Some("not_available")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("media storage"), "{body}");

    let mut v: Value = serde_json::from_str(&event_text("customers-list")).unwrap();
    v["requestContext"]["authorizer"]["jwt"]["claims"]["custom:role"] = "admin".into();
    v["routeKey"] = "GET /v1/events".into();
    v["rawPath"] = "/dev/v1/events".into();
    let req = lambda_http::request::from_str(&v.to_string()).unwrap();
    let resp = http_handler("events-read").unwrap()(app.clone(), req).await;
    assert_eq!((resp.status().as_u16(), body_json(resp.body())["error"]["code"].clone()), (501, Value::from("not_available")));

    let bare = Arc::new(App::without_backends());
    let (status, body) = run_http(&bare, "customers-get", &[]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (500, Some("internal")), "{body}");
}

#[test]
fn table_stream_events_parse_into_item_keys_in_stream_order() {
    for name in ["search-indexer", "search-indexer.redelivered", "events-relay"] {
        let event: aws_lambda_events::dynamodb::Event =
            serde_json::from_str(&event_text(name)).unwrap_or_else(|e| panic!("events/{name}.json is not a DynamoDB stream event: {e}"));
        let keys = confer::inbound::streams::keys(&event);
        assert!(!keys.is_empty() && keys.iter().all(Option::is_some), "events/{name}.json: every record names its item");
        for r in &event.records {
            assert!(r.change.sequence_number.is_some(), "events/{name}.json: records carry sequence numbers");
        }
    }
    let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&event_text("search-indexer")).unwrap();
    let keys: Vec<_> = confer::inbound::streams::keys(&event).into_iter().flatten().collect();
    assert_eq!(keys[0], confer::ports::table::Key::new("T#acme#C#cus_01M8E24NKB3T5X7Z9C1E4G6J8M", "PROFILE"));
    assert!(confer::keys::is_outbox(&keys[2]));
    let failed = confer::inbound::streams::batch_response(&event, &confer::inbound::Outcome { failed: vec![2, 1] });
    assert_eq!(failed.batch_item_failures.len(), 1);
    assert_eq!(failed.batch_item_failures[0].item_identifier.as_deref(), event.records[1].change.sequence_number.as_deref());
    assert!(confer::inbound::streams::batch_response(&event, &confer::inbound::Outcome::default()).batch_item_failures.is_empty());
}

#[tokio::test]
async fn the_search_event_runs_through_its_handler() {
    let l = local();
    let mut app = (*l.app).clone();
    app.search = Arc::new(confer::adapters::local::TantivySearch::in_memory().unwrap());
    let (status, body) = run_http(&Arc::new(app), "search", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"], serde_json::json!([]));
    assert_eq!(body["total"], 0);
}
