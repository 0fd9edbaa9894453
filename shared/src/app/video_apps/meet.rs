//! Google Meet's events for a tenant's app (`POST /v1/webhooks/meet/{tenantId}`), as the
//! tenant's Pub/Sub push subscription delivers them: each push's OIDC token checked (Google's
//! signature, the subscription's audience and service account); each message applied once (by
//! its id); the conference ending ends the call, participants joining and leaving are published
//! with the app named, a generated recording is queued for import. Events for spaces Confer did
//! not create, or arriving after their call ended, are passed over.

use base64::Engine as _;
use serde_json::{json, Value};

use super::import::ImportJob;
use crate::app::calls::{provider_event, ProviderReport};
use crate::app::App;
use crate::domain::call::CallProvider;
use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::domain::TenantId;
use crate::error::{AppError, AppResult};
use crate::ports::meetings::ProviderFile;

const PREFIX: &str = "google.workspace.meet.";

pub async fn webhook(app: &App, tenant: &str, authorization: Option<&str>, body: &[u8]) -> AppResult<Value> {
    let tenant = TenantId::parse(tenant).map_err(|_| AppError::NotFound("webhook"))?;
    let credentials = match app.secrets.get(tenant.as_str(), ExternalProvider::Meet).await {
        Ok(Some(s)) => s.credentials,
        Ok(None) => return Err(AppError::NotFound("webhook")),
        Err(e) => return Err(super::secrets_error(e)),
    };
    if !matches!(credentials, ProviderCredentials::Meet { events: Some(_), .. }) {
        return Err(AppError::NotFound("webhook"));
    }
    let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else { return Err(AppError::Unauthorized) };
    if let Err(why) = app.meeting_apps.verify_push(&credentials, token).await {
        tracing::warn!(tenant = %tenant, reason = %why, "a Meet push refused");
        return Err(AppError::Unauthorized);
    }
    let push: Value = crate::http::parse_json(body)?;
    let message = push.get("message").cloned().unwrap_or(Value::Null);
    let id = message.get("messageId").or_else(|| message.get("message_id")).and_then(Value::as_str).unwrap_or_default().to_string();
    if id.is_empty() || id.len() > 200 {
        return Err(AppError::validation("a Pub/Sub push carries message.messageId"));
    }
    if super::delivered(app, "meet", &id).await? {
        return Ok(json!({ "status": "duplicate" }));
    }
    let attribute = |name: &str| message.pointer(&format!("/attributes/{name}")).and_then(Value::as_str).unwrap_or_default().to_string();
    let event = attribute("ce-type");
    let space = attribute("ce-subject").trim_start_matches("//meet.googleapis.com/").to_string();
    let data: Value = message
        .get("data")
        .and_then(Value::as_str)
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or(Value::Null);
    let status = match (event.strip_prefix(PREFIX).unwrap_or_default(), space.starts_with("spaces/")) {
        ("conference.v2.ended", true) => {
            if provider_event(app, CallProvider::Meet, &space, ProviderReport::Ended).await? {
                "applied"
            } else {
                "ignored"
            }
        }
        (kind @ ("participant.v2.joined" | "participant.v2.left"), true) => {
            let attendee = json!({ "session": data.pointer("/participantSession/name"), "at": attribute("ce-time") });
            let joined = kind.ends_with("joined");
            super::attendee_event(app, &tenant, CallProvider::Meet, joined, &space, attendee, format!("meet:{id}")).await?
        }
        ("recording.v2.fileGenerated", true) => {
            let Some(name) = data.pointer("/recording/name").and_then(Value::as_str).filter(|n| n.starts_with("conferenceRecords/")) else {
                return Err(AppError::validation("a recording event names its recording"));
            };
            match app.meeting_apps.recording_file(&credentials, name).await.map_err(|e| AppError::ProviderUnavailable(e.to_string()))? {
                Some(download_url) => {
                    let job = ImportJob {
                        tenant: tenant.to_string(),
                        provider: ExternalProvider::Meet,
                        meeting_id: space.clone(),
                        recording_key: name.to_string(),
                        started_at: None,
                        grant: None,
                        files: vec![ProviderFile {
                            id: name.to_string(),
                            download_url,
                            extension: "mp4".into(),
                            size: None,
                            speaker: None,
                            offset_ms: 0,
                        }],
                    };
                    super::import::enqueue(app, job).await?;
                    "queued"
                }
                None => "ignored",
            }
        }
        _ => "ignored",
    };
    super::remember_delivery(app, "meet", &id).await?;
    tracing::info!(tenant = %tenant, event, status, "Meet event");
    Ok(json!({ "status": status }))
}
