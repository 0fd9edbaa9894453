//! Microsoft Graph's change notifications for a tenant's Teams app (`POST
//! /v1/webhooks/teams/{tenantId}`): the validation handshake (Graph's `validationToken`, echoed as
//! plain text) answered; each notification's `clientState` checked against the one Confer gave
//! the meeting's subscription (an HMAC under the app's secret, so a forged notification, or one
//! for another tenant's meeting, is passed over); a new recording of a meeting Confer created
//! queued for import. Graph retries what is not acknowledged: the import's id is the recording's,
//! so a repeated notification changes nothing.

use serde_json::{json, Value};

use super::import::ImportJob;
use crate::adapters::meetings::teams::{client_state, recording_resource};
use crate::app::calls::MeetingRef;
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

pub async fn webhook(app: &App, tenant: &str, validation_token: Option<&str>, body: &[u8]) -> AppResult<Answer> {
    if let Some(token) = validation_token {
        // Graph checks the endpoint before it creates a subscription; the token is opaque.
        if token.is_empty() || token.len() > 1024 || token.chars().any(char::is_control) {
            return Err(AppError::validation("validationToken must be 1 to 1024 characters"));
        }
        return Ok(Answer::Validation(token.to_string()));
    }
    let tenant = TenantId::parse(tenant).map_err(|_| AppError::NotFound("webhook"))?;
    let credentials = match app.secrets.get(tenant.as_str(), ExternalProvider::Teams).await {
        Ok(Some(s)) => s.credentials,
        Ok(None) => return Err(AppError::NotFound("webhook")),
        Err(e) => return Err(super::secrets_error(e)),
    };
    let ProviderCredentials::Teams { client_secret, .. } = &credentials else { return Err(AppError::NotFound("webhook")) };
    let delivery: Value = crate::http::parse_json(body)?;
    let notifications = delivery.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let (mut queued, mut ignored, mut refused) = (0, 0, 0);
    for n in &notifications {
        let resource = n.get("resource").and_then(Value::as_str).unwrap_or_default();
        let Some((meeting_id, recording_id)) = recording_resource(resource) else {
            // Lifecycle notifications and other resources: nothing to do here.
            ignored += 1;
            continue;
        };
        let state = n.get("clientState").and_then(Value::as_str).unwrap_or_default();
        if !constant_time_eq(state, &client_state(client_secret, tenant.as_str(), &meeting_id)) {
            tracing::warn!(tenant = %tenant, "a Teams notification with a wrong clientState; passed over");
            refused += 1;
            continue;
        }
        let Some(item) = app.table.get(&keys::provider_meeting(CallProvider::Teams, &meeting_id)).await? else {
            ignored += 1;
            continue;
        };
        let reference: MeetingRef = from_item(item)?;
        if reference.tenant != tenant.as_str() || n.get("changeType").and_then(Value::as_str) != Some("created") {
            ignored += 1;
            continue;
        }
        let Some(download_url) = app.meeting_apps.recording_url(&credentials, &meeting_id, &recording_id) else {
            ignored += 1;
            continue;
        };
        let job = ImportJob {
            tenant: tenant.to_string(),
            provider: ExternalProvider::Teams,
            meeting_id: meeting_id.clone(),
            recording_key: recording_id.clone(),
            started_at: None,
            grant: None,
            files: vec![ProviderFile { id: recording_id, download_url, extension: "mp4".into(), size: None, speaker: None, offset_ms: 0 }],
        };
        super::import::enqueue(app, job).await?;
        queued += 1;
    }
    if refused > 0 && queued == 0 && ignored == 0 {
        return Err(AppError::Unauthorized);
    }
    tracing::info!(tenant = %tenant, queued, ignored, refused, "Teams notifications");
    Ok(Answer::Accepted(json!({ "queued": queued, "ignored": ignored })))
}
