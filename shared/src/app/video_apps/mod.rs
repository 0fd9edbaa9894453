//! The tenant's video apps (docs/providers.md): their credentials, added, rotated and removed by
//! the tenant's admins and never shown again; and the apps' webhooks.

pub mod import;
pub mod meet;
pub mod teams;
pub mod zoom;

use serde_json::{json, Value};

use super::{settings, App};
use crate::app::calls::MeetingRef;
use crate::app::from_item;
use crate::domain::call::CallProvider;
use crate::domain::now_rfc3339;
use crate::domain::provider::{ExternalProvider, ProviderConnection, ProviderCredentials};
use crate::domain::Principal;
use crate::domain::{now_epoch_seconds, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::ports::secrets::SecretsError;
use crate::ports::table::{Condition, Item, StoreError, PK, SK, TTL};

/// Days a webhook delivery is remembered (the apps retry within a day).
pub const DELIVERY_DAYS: i64 = 3;

/// Whether `provider` already delivered `id` (a body's digest, a message id).
pub(crate) async fn delivered(app: &App, provider: &str, id: &str) -> AppResult<bool> {
    Ok(app.table.get(&keys::webhook_delivery(provider, id)).await?.is_some())
}

/// Remembers a handled delivery for [`DELIVERY_DAYS`].
pub(crate) async fn remember_delivery(app: &App, provider: &str, id: &str) -> AppResult<()> {
    let seen = keys::webhook_delivery(provider, id);
    let mut item = Item::new();
    item.insert(PK.into(), seen.pk.clone().into());
    item.insert(SK.into(), seen.sk.clone().into());
    item.insert(TTL.into(), (now_epoch_seconds() + DELIVERY_DAYS * 86_400).into());
    match app.table.put(item, Some(Condition::NotExists)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Someone joined or left a video app's meeting of a call: an event naming the app and the
/// person as the app knows them (people in an app's meeting are not Confer's participants).
/// Meetings Confer did not create, or another tenant's, are passed over.
pub(crate) async fn attendee_event(
    app: &App,
    tenant: &TenantId,
    provider: CallProvider,
    joined: bool,
    meeting_id: &str,
    attendee: Value,
    event_id: String,
) -> AppResult<&'static str> {
    let Some(item) = app.table.get(&keys::provider_meeting(provider, meeting_id)).await? else { return Ok("ignored") };
    let reference: MeetingRef = from_item(item)?;
    if reference.tenant != tenant.as_str() {
        return Ok("ignored");
    }
    let event_type = if joined { types::MEETING_ATTENDEE_JOINED } else { types::MEETING_ATTENDEE_LEFT };
    let data = json!({
        "provider": provider.as_str(),
        "meeting_id": meeting_id,
        "session_id": reference.session_id,
        "call_id": reference.call_id,
        "attendee": attendee,
    });
    app.publish(EventEnvelope::new(event_type, tenant, event_id, data)).await;
    Ok("applied")
}

pub(crate) fn secrets_error(e: SecretsError) -> AppError {
    match e {
        SecretsError::NotAvailable => AppError::NotAvailable("video app credentials"),
        SecretsError::Backend(why) => AppError::internal(why),
    }
}

/// Each video app: whether it is connected and enabled, and when its credentials last changed.
pub async fn list(app: &App, p: &Principal) -> AppResult<Vec<ProviderConnection>> {
    p.require_admin()?;
    let enabled = settings::load(app, &p.tenant).await?.video.providers;
    let mut out = Vec::new();
    for provider in ExternalProvider::ALL {
        let stored = app.secrets.get(p.tenant.as_str(), provider).await.map_err(secrets_error)?;
        out.push(ProviderConnection {
            provider,
            connected: stored.is_some(),
            enabled: enabled.contains(&provider),
            updated_at: stored.map(|s| s.updated_at),
        });
    }
    Ok(out)
}

/// Sets (or rotates) the tenant's credentials for `provider`.
pub async fn connect(app: &App, p: &Principal, provider: &str, credentials: ProviderCredentials) -> AppResult<ProviderConnection> {
    p.require_admin()?;
    let provider = ExternalProvider::parse(provider)?;
    if credentials.provider() != provider {
        return Err(AppError::Conflict(format!(
            "the body's provider is {}, the path's {}",
            credentials.provider().as_str(),
            provider.as_str()
        )));
    }
    credentials.validate()?;
    // What the app reports organisation-wide (Teams' call records) is asked for first: an app
    // that refuses leaves nothing stored.
    app.meeting_apps.watch(&credentials, p.tenant.as_str()).await.map_err(|e| super::calls::apps::app_error(provider.into(), e))?;
    let now = now_rfc3339();
    app.secrets.put(p.tenant.as_str(), &credentials, &now).await.map_err(secrets_error)?;
    tracing::info!(tenant = %p.tenant, provider = provider.as_str(), by = %p.id, "video app credentials set");
    let enabled = settings::load(app, &p.tenant).await?.video.providers.contains(&provider);
    Ok(ProviderConnection { provider, connected: true, enabled, updated_at: Some(now) })
}

/// Removes the tenant's credentials for `provider`; calls can no longer start in it.
pub async fn disconnect(app: &App, p: &Principal, provider: &str) -> AppResult<ProviderConnection> {
    p.require_admin()?;
    let provider = ExternalProvider::parse(provider)?;
    app.secrets.delete(p.tenant.as_str(), provider).await.map_err(secrets_error)?;
    tracing::info!(tenant = %p.tenant, provider = provider.as_str(), by = %p.id, "video app credentials removed");
    let enabled = settings::load(app, &p.tenant).await?.video.providers.contains(&provider);
    Ok(ProviderConnection { provider, connected: false, enabled, updated_at: None })
}
