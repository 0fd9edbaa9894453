//! Microsoft Graph's change notifications for a tenant's Teams app (`POST
//! /v1/webhooks/teams/{tenantId}`): the validation handshake (Graph's `validationToken`, echoed as
//! plain text) answered; each notification's `clientState` checked against the one Confer gave
//! the subscription (an HMAC under the app's secret, so a forged notification, or one for another
//! tenant, is passed over). A new recording of a meeting Confer created is queued for import; a
//! call record (written once a meeting ends) ends the call and publishes who took part; lifecycle
//! notifications renew or recreate the subscriptions. Graph retries what is not acknowledged:
//! imports are keyed by the recording and call records remembered, so nothing happens twice.

use serde_json::{json, Value};

use super::import::ImportJob;
use crate::adapters::meetings::teams::{client_state, recording_resource, CALL_RECORDS};
use crate::app::calls::{provider_event, MeetingRef, ProviderReport};
use crate::app::{from_item, App};
use crate::domain::call::CallProvider;
use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::domain::TenantId;
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::meetings::ProviderFile;

/// What Confer answers Graph.
pub enum Answer {
    /// The subscription's validation: the token, as plain text.
    Validation(String),
    /// Notifications received (`202`).
    Accepted(Value),
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a notification is about, by its `resource`.
enum About {
    Recording { meeting_id: String, recording_id: String },
    CallRecord(String),
    Other,
}

fn about(resource: &str) -> About {
    if let Some((meeting_id, recording_id)) = recording_resource(resource) {
        return About::Recording { meeting_id, recording_id };
    }
    let rest = resource.trim_start_matches('/').strip_prefix(CALL_RECORDS).unwrap_or_default();
    let id = rest.strip_prefix("('").and_then(|r| r.strip_suffix("')")).or_else(|| rest.strip_prefix('/'));
    match id {
        Some(id) if !id.is_empty() && !id.contains('/') => About::CallRecord(id.to_string()),
        _ => About::Other,
    }
}

/// The `clientState` scope of a subscription's resource: the meeting, or the call records.
fn scope(resource: &str) -> Option<String> {
    match about(resource) {
        About::Recording { meeting_id, .. } => Some(meeting_id),
        About::CallRecord(_) => Some(CALL_RECORDS.to_string()),
        About::Other if resource.trim_start_matches('/') == CALL_RECORDS => Some(CALL_RECORDS.to_string()),
        About::Other => resource
            .trim_start_matches('/')
            .strip_prefix("communications/onlineMeetings/")
            .and_then(|r| r.strip_suffix("/recordings"))
            .map(str::to_string),
    }
}

pub async fn webhook(app: &App, tenant: &str, validation_token: Option<&str>, body: &[u8]) -> AppResult<Answer> {
    let tenant = TenantId::parse(tenant).map_err(|_| AppError::NotFound("webhook"))?;
    if let Some(token) = validation_token {
        // Graph checks the endpoint before it creates a subscription; the token is opaque.
        if token.is_empty() || token.chars().count() > 1024 || token.chars().any(char::is_control) {
            return Err(AppError::validation("validationToken must be 1 to 1024 characters"));
        }
        // Graph's check has no body (nor `null`); one that is there is still a JSON object.
        if !body.iter().all(u8::is_ascii_whitespace) && body.trim_ascii() != b"null" {
            let _: serde_json::Map<String, Value> = crate::http::parse_json(body)?;
        }
        return Ok(Answer::Validation(token.to_string()));
    }
    let credentials = match app.secrets.get(tenant.as_str(), ExternalProvider::Teams).await {
        Ok(Some(s)) => s.credentials,
        Ok(None) => return Err(AppError::NotFound("webhook")),
        Err(e) => return Err(super::secrets_error(e)),
    };
    let ProviderCredentials::Teams { client_secret, .. } = &credentials else { return Err(AppError::NotFound("webhook")) };
    let delivery: Value = crate::http::parse_json(body)?;
    let notifications = delivery.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let (mut queued, mut applied, mut ignored, mut refused) = (0, 0, 0, 0);
    for n in &notifications {
        let resource = n.get("resource").and_then(Value::as_str).unwrap_or_default();
        let state = n.get("clientState").and_then(Value::as_str).unwrap_or_default();
        let expected = scope(resource).map(|s| client_state(client_secret, tenant.as_str(), &s));
        if !expected.is_some_and(|e| constant_time_eq(state, &e)) {
            tracing::warn!(tenant = %tenant, "a Teams notification with a wrong clientState; passed over");
            refused += 1;
            continue;
        }
        if let Some(event) = n.get("lifecycleEvent").and_then(Value::as_str) {
            lifecycle(app, &credentials, &tenant, event, n.get("subscriptionId").and_then(Value::as_str), resource).await?;
            applied += 1;
            continue;
        }
        match about(resource) {
            About::Recording { meeting_id, recording_id } => {
                if recording(app, &credentials, &tenant, n, meeting_id, recording_id).await? {
                    queued += 1;
                } else {
                    ignored += 1;
                }
            }
            About::CallRecord(id) => {
                if call_record(app, &credentials, &tenant, &id).await? {
                    applied += 1;
                } else {
                    ignored += 1;
                }
            }
            About::Other => ignored += 1,
        }
    }
    if refused > 0 && queued + applied + ignored == 0 {
        return Err(AppError::Unauthorized);
    }
    tracing::info!(tenant = %tenant, queued, applied, ignored, refused, "Teams notifications");
    Ok(Answer::Accepted(json!({ "queued": queued, "applied": applied, "ignored": ignored })))
}

/// Graph asks for a subscription to be reauthorized (renewed) or says it removed it (made again,
/// for the call records; a meeting's recordings subscription is not worth making again).
async fn lifecycle(
    app: &App,
    credentials: &ProviderCredentials,
    tenant: &TenantId,
    event: &str,
    subscription: Option<&str>,
    resource: &str,
) -> AppResult<()> {
    let error = |e| super::super::calls::apps::app_error(CallProvider::Teams, e);
    match (event, subscription) {
        ("reauthorizationRequired", Some(id)) => app.meeting_apps.renew(credentials, id).await.map_err(error)?,
        ("subscriptionRemoved", _) if resource.trim_start_matches('/') == CALL_RECORDS => {
            app.meeting_apps.watch(credentials, tenant.as_str()).await.map_err(error)?
        }
        _ => tracing::info!(tenant = %tenant, event, "Teams lifecycle notification"),
    }
    Ok(())
}

/// A new recording of a meeting Confer created: queued for import.
async fn recording(
    app: &App,
    credentials: &ProviderCredentials,
    tenant: &TenantId,
    n: &Value,
    meeting_id: String,
    recording_id: String,
) -> AppResult<bool> {
    let Some(item) = app.table.get(&keys::provider_meeting(CallProvider::Teams, &meeting_id)).await? else { return Ok(false) };
    let reference: MeetingRef = from_item(item)?;
    if reference.tenant != tenant.as_str() || n.get("changeType").and_then(Value::as_str) != Some("created") {
        return Ok(false);
    }
    let Some(download_url) = app.meeting_apps.recording_url(credentials, &meeting_id, &recording_id) else { return Ok(false) };
    let job = ImportJob {
        tenant: tenant.to_string(),
        provider: ExternalProvider::Teams,
        meeting_id,
        recording_key: recording_id.clone(),
        started_at: None,
        grant: None,
        files: vec![ProviderFile { id: recording_id, download_url, extension: "mp4".into(), size: None, speaker: None, offset_ms: 0 }],
    };
    super::import::enqueue(app, job).await?;
    Ok(true)
}

/// A call record: if it is of a meeting Confer created, who took part is published and the call
/// ends (once: the record is remembered).
async fn call_record(app: &App, credentials: &ProviderCredentials, tenant: &TenantId, id: &str) -> AppResult<bool> {
    if super::delivered(app, "teams", id).await? {
        return Ok(false);
    }
    let report =
        app.meeting_apps.meeting_report(credentials, id).await.map_err(|e| super::super::calls::apps::app_error(CallProvider::Teams, e))?;
    let Some(report) = report else { return Ok(false) };
    let Some(item) = app.table.get(&keys::provider_meeting(CallProvider::Teams, &report.meeting_id)).await? else { return Ok(false) };
    let reference: MeetingRef = from_item(item)?;
    if reference.tenant != tenant.as_str() {
        return Ok(false);
    }
    for (i, name) in report.participants.iter().enumerate() {
        let joined = json!({ "name": name, "at": report.started_at });
        super::attendee_event(app, tenant, CallProvider::Teams, true, &report.meeting_id, joined, format!("teams:{id}:{i}:joined")).await?;
        let left = json!({ "name": name, "at": report.ended_at });
        super::attendee_event(app, tenant, CallProvider::Teams, false, &report.meeting_id, left, format!("teams:{id}:{i}:left")).await?;
    }
    provider_event(app, CallProvider::Teams, &report.meeting_id, ProviderReport::Ended).await?;
    super::remember_delivery(app, "teams", id).await?;
    Ok(true)
}
