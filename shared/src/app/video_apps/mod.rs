//! The tenant's video apps (docs/providers.md): their credentials, added, rotated and removed by
//! the tenant's admins and never shown again; and the apps' webhooks.

pub mod import;
pub mod zoom;

use super::{settings, App};
use crate::domain::now_rfc3339;
use crate::domain::provider::{ExternalProvider, ProviderConnection, ProviderCredentials};
use crate::domain::Principal;
use crate::error::{AppError, AppResult};
use crate::ports::secrets::SecretsError;

fn secrets_error(e: SecretsError) -> AppError {
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
