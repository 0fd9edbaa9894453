//! A local stub of Microsoft Graph and the Microsoft identity platform, built from their
//! documented requests and answers, for the Teams adapter's tests (Microsoft offers no
//! emulator): the client-credentials grant (`POST /{directory}/oauth2/v2.0/token`, form
//! `client_id`, `client_secret`, `scope=https://graph.microsoft.com/.default`,
//! `grant_type=client_credentials`; `400 {"error": "invalid_client", "error_description"}` for
//! a wrong secret) and online meetings (`POST /v1.0/users/{userId}/onlineMeetings` → 201 with
//! `id` and `joinWebUrl`; 403 for an organizer no application access policy grants), with
//! bearer tokens checked and failures injected on demand (429 with `Retry-After`). Change
//! notifications as Graph sends them: `POST /v1.0/subscriptions` first checks the notification
//! URL (a `POST ?validationToken=…` that must be echoed as plain text within ten seconds),
//! then a new recording is announced with the subscription's `clientState` and a `resource`
//! naming the meeting and the recording, whose content is served at `GET
//! /v1.0/users/{userId}/onlineMeetings/{meetingId}/recordings/{recordingId}/content`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};

pub const DIRECTORY_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT_ID: &str = "3f0c6d5e-8a1b-4c2d-9e3f-4a5b6c7d8e9f";
pub const CLIENT_SECRET: &str = "Qx8Q~stub.client.secret.value-0123";
pub const ORGANIZER: &str = "6e3a1f2b-7c4d-4e5f-8a9b-0c1d2e3f4a5b";

#[derive(Default)]
pub struct Directory {
    pub tokens_issued: Vec<String>,
    /// Meetings by id: the body they were created with.
    pub meetings: BTreeMap<String, Value>,
    /// Statuses the next Graph calls answer instead.
    pub fail_next: VecDeque<u16>,
    /// Subscriptions: their body as created (after the endpoint's validation succeeded).
    pub subscriptions: Vec<Value>,
    /// Whether subscriptions are refused (an app without the recording permission).
    pub refuse_subscriptions: bool,
    /// Meetings deleted.
    pub deleted: Vec<String>,
    /// Recordings' content by (meeting, recording) id.
    pub recordings: BTreeMap<(String, String), Vec<u8>>,
    pub downloads: usize,
    /// Each meeting's join link (what call records name).
    pub join_urls: BTreeMap<String, String>,
    /// Call records by id.
    pub call_records: BTreeMap<String, Value>,
    /// Subscriptions renewed (their ids).
    pub renewed: Vec<String>,
}

pub type Shared = Arc<Mutex<Directory>>;

pub struct Stub {
    pub url: String,
    pub directory: Shared,
}

impl Stub {
    pub fn login_url(&self) -> String {
        self.url.clone()
    }
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.url)
    }
    /// A recording of `meeting_id` is ready: Graph notifies the meeting's subscription. Answers
    /// the status Confer's webhook gave.
    pub async fn record(&self, meeting_id: &str, content: Vec<u8>) -> u16 {
        let recording = format!("VjEjIz{}", ulid::Ulid::new());
        let subscription = {
            let mut d = self.directory.lock().unwrap();
            d.recordings.insert((meeting_id.to_string(), recording.clone()), content);
            d.subscriptions
                .iter()
                .find(|s| s["resource"] == format!("communications/onlineMeetings/{meeting_id}/recordings"))
                .cloned()
                .expect("the meeting has a subscription")
        };
        let resource = format!("communications/onlineMeetings('{meeting_id}')/recordings('{recording}')");
        let body = json!({ "value": [{
            "subscriptionId": subscription["id"],
            "subscriptionExpirationDateTime": subscription["expirationDateTime"],
            "changeType": "created",
            "resource": resource,
            "resourceData": { "id": recording, "@odata.type": "#Microsoft.Graph.callRecording", "@odata.id": resource },
            "clientState": subscription["clientState"],
            "tenantId": DIRECTORY_ID,
        }] });
        let url = subscription["notificationUrl"].as_str().unwrap().to_string();
        reqwest::Client::new().post(url).json(&body).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// The subscription of `resource`, as Graph keeps it.
    pub fn subscription(&self, resource: &str) -> Value {
        let d = self.directory.lock().unwrap();
        d.subscriptions.iter().find(|s| s["resource"] == resource).cloned().unwrap_or_else(|| panic!("no subscription of {resource}"))
    }

    async fn notify(subscription: &Value, notification: Value, lifecycle: bool) -> u16 {
        let url = subscription[if lifecycle { "lifecycleNotificationUrl" } else { "notificationUrl" }].as_str().unwrap().to_string();
        let body = json!({ "value": [notification] });
        reqwest::Client::new().post(url).json(&body).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }

    /// The meeting ended: Teams writes its call record (who took part) and Graph notifies the
    /// call records' subscription. Answers the record's id and the webhook's status.
    pub async fn call_ended(&self, meeting_id: &str, participants: &[&str]) -> (String, u16) {
        let id = ulid::Ulid::new().to_string().to_lowercase();
        {
            let mut d = self.directory.lock().unwrap();
            let join = d.join_urls.get(meeting_id).cloned().expect("a meeting the stub created");
            let people: Vec<Value> = participants
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    if i == 0 {
                        json!({ "user": { "id": ORGANIZER, "displayName": name, "tenantId": DIRECTORY_ID } })
                    } else {
                        json!({ "guest": { "id": format!("guest-{i}"), "displayName": name } })
                    }
                })
                .collect();
            d.call_records.insert(id.clone(), json!({
                "id": id, "version": 1, "type": "groupCall", "modalities": ["audio", "video"],
                "lastModifiedDateTime": "2026-12-05T10:20:00Z", "startDateTime": "2026-12-05T10:00:00Z", "endDateTime": "2026-12-05T10:05:00Z",
                "joinWebUrl": join, "organizer": { "user": { "id": ORGANIZER, "displayName": participants.first().copied().unwrap_or("Organizer") } },
                "participants": people,
            }));
        }
        let subscription = self.subscription("communications/callRecords");
        let resource = format!("communications/callRecords/{id}");
        let status = Self::notify(
            &subscription,
            json!({
                "subscriptionId": subscription["id"], "subscriptionExpirationDateTime": subscription["expirationDateTime"],
                "changeType": "created", "resource": resource, "clientState": subscription["clientState"], "tenantId": DIRECTORY_ID,
                "resourceData": { "@odata.type": "#microsoft.graph.callrecord", "@odata.id": resource, "id": id },
            }),
            false,
        )
        .await;
        (id, status)
    }

    /// Graph asks for the subscription of `resource` to be reauthorized (or says it removed it).
    pub async fn lifecycle(&self, resource: &str, event: &str) -> u16 {
        let subscription = self.subscription(resource);
        Self::notify(
            &subscription,
            json!({
                "subscriptionId": subscription["id"], "subscriptionExpirationDateTime": subscription["expirationDateTime"],
                "tenantId": DIRECTORY_ID, "clientState": subscription["clientState"], "lifecycleEvent": event, "resource": resource,
            }),
            true,
        )
        .await
    }

    pub fn credentials(&self) -> Value {
        json!({ "provider": "teams", "directory_id": DIRECTORY_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "organizer_user_id": ORGANIZER })
    }
}

pub async fn start() -> Stub {
    let directory: Shared = Arc::default();
    let app = Router::new()
        .route("/{directory}/oauth2/v2.0/token", post(token))
        .route("/v1.0/users/{user}/onlineMeetings", post(create_meeting).get(find_meetings))
        .route("/v1.0/subscriptions/{id}", axum::routing::patch(renew))
        .route("/v1.0/communications/callRecords/{id}", get(call_record))
        .route("/v1.0/users/{user}/onlineMeetings/{meeting}", delete(delete_meeting))
        .route("/v1.0/users/{user}/onlineMeetings/{meeting}/recordings/{recording}/content", get(recording_content))
        .route("/v1.0/subscriptions", post(subscribe))
        .with_state(directory.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub serves") });
    Stub { url, directory }
}

fn graph_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message, "innerError": { "request-id": ulid::Ulid::new().to_string(), "date": "2026-12-05T10:00:00" } } });
    let mut response = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
    if status == 429 {
        response.headers_mut().insert("retry-after", "1".parse().unwrap());
    }
    response
}

async fn token(State(directory): State<Shared>, Path(tenant): Path<String>, Form(form): Form<BTreeMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("client_credentials") || field("scope") != Some("https://graph.microsoft.com/.default") {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_request", "error_description": "AADSTS900144: The request body must contain the parameters grant_type and scope." }))).into_response();
    }
    if tenant != DIRECTORY_ID || field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215] }))).into_response();
    }
    let token = format!("eyJ0eXAiOiJKV1QifQ.{}", ulid::Ulid::new());
    directory.lock().unwrap().tokens_issued.push(token.clone());
    Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token })).into_response()
}

async fn create_meeting(
    State(directory): State<Shared>,
    Path(user): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut d = directory.lock().unwrap();
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| d.tokens_issued.iter().any(|i| i == t)) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    if let Some(status) = d.fail_next.pop_front() {
        return graph_error(status, if status == 429 { "TooManyRequests" } else { "ServiceNotAvailable" }, "injected by the stub");
    }
    if user != ORGANIZER {
        return graph_error(
            403,
            "Forbidden",
            "Application is not allowed to perform operations on the user, neither is allowed access through RSC permission evaluation.",
        );
    }
    let (Some(subject), Some(start), Some(end)) = (
        body.get("subject").and_then(Value::as_str),
        body.get("startDateTime").and_then(Value::as_str),
        body.get("endDateTime").and_then(Value::as_str),
    ) else {
        return graph_error(400, "BadRequest", "subject, startDateTime and endDateTime are required.");
    };
    if time::OffsetDateTime::parse(start, &time::format_description::well_known::Rfc3339).is_err()
        || time::OffsetDateTime::parse(end, &time::format_description::well_known::Rfc3339).is_err()
    {
        return graph_error(400, "BadRequest", "Invalid startDateTime or endDateTime.");
    }
    let id = format!("MSo1N2Y5ODhiZi04NmYxLTQxYWYtOTFhYi0yZDdjZDAxMWRiNDcqMCoqMTk6bWVldGluZ18{}", ulid::Ulid::new());
    let thread = ulid::Ulid::new().to_string().to_lowercase();
    let meeting = json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{user}')/onlineMeetings/$entity"),
        "id": id,
        "creationDateTime": start,
        "startDateTime": start,
        "endDateTime": end,
        "subject": subject,
        "joinWebUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context=%7b%22Tid%22%3a%22{DIRECTORY_ID}%22%2c%22Oid%22%3a%22{ORGANIZER}%22%7d"),
        "joinMeetingIdSettings": { "isPasscodeRequired": true, "joinMeetingId": "1234567890", "passcode": "aBc123" },
        "lobbyBypassSettings": body.get("lobbyBypassSettings").cloned().unwrap_or(json!({ "scope": "organization", "isDialInBypassEnabled": false })),
        "allowRecording": body.get("allowRecording").cloned().unwrap_or(json!(true)),
        "participants": { "organizer": { "upn": "organizer@example.com", "role": "presenter", "identity": { "user": { "id": ORGANIZER, "tenantId": DIRECTORY_ID } } }, "attendees": [] },
    });
    d.meetings.insert(id.clone(), body);
    d.join_urls.insert(id, meeting["joinWebUrl"].as_str().unwrap().to_string());
    (StatusCode::CREATED, Json(meeting)).into_response()
}

fn bearer_ok(d: &Directory, headers: &HeaderMap) -> bool {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some_and(|t| d.tokens_issued.iter().any(|i| i == t))
}

async fn subscribe(State(directory): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    {
        let d = directory.lock().unwrap();
        if !bearer_ok(&d, &headers) {
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
        }
        if d.refuse_subscriptions {
            return graph_error(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: The application does not have OnlineMeetingRecording.Read.All]");
        }
    }
    let (Some(url), Some(resource), Some(state)) =
        (body["notificationUrl"].as_str(), body["resource"].as_str(), body["clientState"].as_str())
    else {
        return graph_error(400, "InvalidRequest", "notificationUrl, resource and clientState are required.");
    };
    if body["changeType"] != "created"
        || state.len() > 255
        || body["expirationDateTime"].as_str().is_none()
        || body["lifecycleNotificationUrl"].as_str().is_none()
    {
        return graph_error(400, "InvalidRequest", "Invalid subscription.");
    }
    let _ = resource;
    // Graph checks the endpoint first: it must echo the token, as plain text, within ten seconds.
    let token = format!("Validation: Testing client application reachability for subscription Request-Id: {}", ulid::Ulid::new());
    let answer = reqwest::Client::new()
        .post(url)
        .query(&[("validationToken", &token)])
        .header("content-type", "text/plain; charset=utf-8")
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await;
    let echoed = match answer {
        Ok(r)
            if r.status().as_u16() == 200
                && r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/plain")) =>
        {
            r.text().await.ok() == Some(token.clone())
        }
        _ => false,
    };
    if !echoed {
        return graph_error(
            400,
            "ValidationError",
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        );
    }
    let mut subscription = body.clone();
    subscription["id"] = json!(ulid::Ulid::new().to_string().to_lowercase());
    subscription["applicationId"] = json!(CLIENT_ID);
    directory.lock().unwrap().subscriptions.push(subscription.clone());
    (StatusCode::CREATED, Json(subscription)).into_response()
}

async fn delete_meeting(State(directory): State<Shared>, Path((_user, meeting)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let mut d = directory.lock().unwrap();
    if !bearer_ok(&d, &headers) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    match d.meetings.remove(&meeting) {
        Some(_) => {
            d.deleted.push(meeting);
            StatusCode::NO_CONTENT.into_response()
        }
        None => graph_error(404, "NotFound", "The meeting was not found."),
    }
}

async fn recording_content(
    State(directory): State<Shared>,
    Path((_user, meeting, recording)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut d = directory.lock().unwrap();
    if !bearer_ok(&d, &headers) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    match d.recordings.get(&(meeting, recording)).cloned() {
        Some(bytes) => {
            d.downloads += 1;
            ([("content-type", "video/mp4")], bytes).into_response()
        }
        None => graph_error(404, "NotFound", "The recording was not found."),
    }
}

async fn renew(State(directory): State<Shared>, Path(id): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let mut d = directory.lock().unwrap();
    if !bearer_ok(&d, &headers) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    let Some(expiry) = body["expirationDateTime"].as_str().map(str::to_string) else {
        return graph_error(400, "InvalidRequest", "expirationDateTime is required.");
    };
    let Some(subscription) = d.subscriptions.iter_mut().find(|s| s["id"] == id.as_str()) else {
        return graph_error(404, "ResourceNotFound", "The object was not found.");
    };
    subscription["expirationDateTime"] = json!(expiry);
    let answer = subscription.clone();
    d.renewed.push(id);
    Json(answer).into_response()
}

async fn call_record(State(directory): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let d = directory.lock().unwrap();
    if !bearer_ok(&d, &headers) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    match d.call_records.get(&id) {
        Some(record) => Json(record.clone()).into_response(),
        None => graph_error(404, "NotFound", "The call record was not found."),
    }
}

/// `GET /users/{id}/onlineMeetings?$filter=JoinWebUrl eq '…'`: the meeting of a join link.
async fn find_meetings(
    State(directory): State<Shared>,
    Path(user): Path<String>,
    axum::extract::Query(q): axum::extract::Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let d = directory.lock().unwrap();
    if !bearer_ok(&d, &headers) {
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.");
    }
    if user != ORGANIZER {
        return graph_error(403, "Forbidden", "Application is not allowed to perform operations on the user.");
    }
    let Some(url) = q.get("$filter").and_then(|f| f.strip_prefix("JoinWebUrl eq '")).and_then(|f| f.strip_suffix('\'')) else {
        return graph_error(400, "BadRequest", "Filter on JoinWebUrl is required.");
    };
    let found: Vec<Value> =
        d.join_urls.iter().filter(|(_, u)| u.as_str() == url).map(|(id, u)| json!({ "id": id, "joinWebUrl": u })).collect();
    Json(json!({ "value": found })).into_response()
}
