//! Zoom's webhooks for a tenant's app (`POST /v1/webhooks/zoom/{tenantId}`): each delivery's
//! signature checked with the tenant's secret token and its timestamp against replays; the URL
//! validation challenge answered; a delivery Zoom sends again (same body) applied once; events
//! for meetings Confer did not create, or arriving after their call ended, passed over.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::import::ImportJob;
use crate::adapters::meetings::zoom::{url_validation, verify_webhook};
use crate::app::calls::{provider_event, ProviderReport};
use crate::app::App;
use crate::domain::call::CallProvider;
use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::domain::{now_epoch_seconds, TenantId};
use crate::error::{AppError, AppResult};
use crate::ports::meetings::ProviderFile;

/// The headers Zoom signs a delivery with.
pub struct Signed<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Handles one delivery; answers what Zoom expects (the validation answer, or an acknowledgement).
pub async fn webhook(app: &App, tenant: &str, signed: Signed<'_>, body: &[u8]) -> AppResult<Value> {
    let tenant = TenantId::parse(tenant).map_err(|_| AppError::NotFound("webhook"))?;
    let stored = match app.secrets.get(tenant.as_str(), ExternalProvider::Zoom).await {
        Ok(Some(s)) => s.credentials,
        Ok(None) => return Err(AppError::NotFound("webhook")),
        Err(e) => return Err(super::secrets_error(e)),
    };
    let ProviderCredentials::Zoom { webhook_secret_token, .. } = stored else { return Err(AppError::NotFound("webhook")) };
    let (Some(timestamp), Some(signature)) = (signed.timestamp, signed.signature) else { return Err(AppError::Unauthorized) };
    if !verify_webhook(&webhook_secret_token, timestamp, body, signature, now_epoch_seconds()) {
        tracing::warn!(tenant = %tenant, "a Zoom webhook with a bad or stale signature");
        return Err(AppError::Unauthorized);
    }
    let delivery: Value = crate::http::parse_json(body)?;
    let event = delivery.get("event").and_then(Value::as_str).unwrap_or_default();
    if event == "endpoint.url_validation" {
        let plain = delivery.pointer("/payload/plainToken").and_then(Value::as_str).ok_or_else(|| AppError::validation("no plainToken"))?;
        return Ok(url_validation(&webhook_secret_token, plain));
    }
    let digest: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    if super::delivered(app, "zoom", &digest).await? {
        return Ok(json!({ "status": "duplicate" }));
    }
    let object = delivery.pointer("/payload/object").cloned().unwrap_or(Value::Null);
    let meeting_id = object.get("id").and_then(|v| v.as_u64().map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_string)));
    let status = match (event, meeting_id) {
        ("meeting.ended", Some(id)) => {
            if provider_event(app, CallProvider::Zoom, &id, ProviderReport::Ended).await? {
                "applied"
            } else {
                "ignored"
            }
        }
        ("meeting.participant_joined" | "meeting.participant_left", Some(id)) => {
            attendee_event(app, &tenant, event, &id, &object, &digest).await?
        }
        ("recording.completed", Some(id)) => {
            let grant = delivery.get("download_token").and_then(Value::as_str);
            match recording_job(&tenant, &id, &object, grant) {
                Some(job) => {
                    super::import::enqueue(app, job).await?;
                    "queued"
                }
                None => "ignored",
            }
        }
        _ => "ignored",
    };
    super::remember_delivery(app, "zoom", &digest).await?;
    tracing::info!(tenant = %tenant, event, status, "Zoom webhook");
    Ok(json!({ "status": status }))
}

/// The import of a `recording.completed` delivery's files: each participant's own audio
/// (`participant_audio_files`, named after them) and the shared audio and video
/// (`recording_files` of type M4A and MP4), those Zoom has finished.
pub fn recording_job(tenant: &TenantId, meeting_id: &str, object: &Value, grant: Option<&str>) -> Option<ImportJob> {
    let uuid = object.get("uuid").and_then(Value::as_str).unwrap_or(meeting_id);
    let entries = |field: &str| object.get(field).and_then(Value::as_array).cloned().unwrap_or_default();
    let start = |f: &Value| {
        f.get("recording_start")
            .and_then(Value::as_str)
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
    };
    let mut files = Vec::new();
    let participants = entries("participant_audio_files").into_iter().map(|f| (f, true));
    let shared = entries("recording_files").into_iter().map(|f| (f, false));
    let all: Vec<(Value, bool)> = participants.chain(shared).collect();
    let first = all.iter().filter_map(|(f, _)| start(f)).min();
    for (f, own) in &all {
        let kind = f.get("file_type").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let completed = f.get("status").and_then(Value::as_str).is_none_or(|s| s == "completed");
        let (Some(id), Some(url)) = (f.get("id").and_then(Value::as_str), f.get("download_url").and_then(Value::as_str)) else {
            continue;
        };
        if !completed || !matches!(kind.as_str(), "m4a" | "mp4") || !url.starts_with("https://") && !url.starts_with("http://") {
            continue;
        }
        let offset_ms = match (start(f), first) {
            (Some(at), Some(first)) => (at - first).whole_milliseconds().max(0) as u64,
            _ => 0,
        };
        let speaker = own.then(|| f.get("file_name").and_then(Value::as_str).map(|n| n.trim().to_string())).flatten();
        files.push(ProviderFile {
            id: id.to_string(),
            download_url: url.to_string(),
            extension: kind,
            size: f.get("file_size").and_then(Value::as_u64),
            speaker: speaker.filter(|n| !n.is_empty()).or_else(|| own.then(|| format!("Participant {}", files.len() + 1))),
            offset_ms,
        });
    }
    if files.is_empty() {
        return None;
    }
    Some(ImportJob {
        tenant: tenant.to_string(),
        provider: ExternalProvider::Zoom,
        meeting_id: meeting_id.to_string(),
        recording_key: uuid.to_string(),
        started_at: first.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        grant: grant.map(str::to_string),
        files,
    })
}

/// Someone joined or left the Zoom meeting of a call: an event naming the app and the person as
/// Zoom knows them (people in a Zoom meeting are not Confer's participants).
async fn attendee_event(
    app: &App,
    tenant: &TenantId,
    event: &str,
    meeting_id: &str,
    object: &Value,
    digest: &str,
) -> AppResult<&'static str> {
    let participant = object.get("participant").cloned().unwrap_or(Value::Null);
    let attendee = json!({
        "name": participant.get("user_name"),
        "email": participant.get("email"),
        "at": participant.get("join_time").or_else(|| participant.get("leave_time")),
    });
    super::attendee_event(app, tenant, CallProvider::Zoom, event.ends_with("joined"), meeting_id, attendee, format!("zoom:{digest}")).await
}
