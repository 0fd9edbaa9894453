//! The customer's own video app as a call's provider: Zoom and Jitsi today.
//! A tenant connects the ones it uses (its credentials, kept apart from the table and never
//! shown again) and chooses which are offered and which is the default (docs/providers.md).

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// A video app Confer creates meetings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExternalProvider {
    Zoom,
    Jitsi,
}

impl ExternalProvider {
    pub const ALL: [ExternalProvider; 2] = [ExternalProvider::Zoom, ExternalProvider::Jitsi];

    pub fn as_str(self) -> &'static str {
        match self {
            ExternalProvider::Zoom => "zoom",
            ExternalProvider::Jitsi => "jitsi",
        }
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        match self {
            ExternalProvider::Zoom => "Zoom",
            ExternalProvider::Jitsi => "Jitsi",
        }
    }

    pub fn parse(s: &str) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| AppError::validation(format!("unknown video provider {s}: zoom or jitsi")))
    }
}

/// Where a call runs: Confer's integrated video or a video app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallApp {
    #[default]
    Integrated,
    Zoom,
    Jitsi,
}

impl CallApp {
    pub fn external(self) -> Option<ExternalProvider> {
        match self {
            CallApp::Integrated => None,
            CallApp::Zoom => Some(ExternalProvider::Zoom),
            CallApp::Jitsi => Some(ExternalProvider::Jitsi),
        }
    }
}

/// Which video apps a tenant offers for calls, and which one a call uses unless its starter
/// chooses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoSettings {
    /// The video apps offered besides Confer's own (each needs its credentials connected).
    #[serde(default)]
    pub providers: Vec<ExternalProvider>,
    #[serde(default)]
    pub default: CallApp,
}

impl VideoSettings {
    pub fn validate(&self) -> AppResult<()> {
        let mut seen = std::collections::BTreeSet::new();
        if !self.providers.iter().all(|p| seen.insert(*p)) {
            return Err(AppError::validation("video.providers names a provider twice"));
        }
        if let Some(p) = self.default.external() {
            if !self.providers.contains(&p) {
                return Err(AppError::validation(format!("video.default is {}, which video.providers does not enable", p.as_str())));
            }
        }
        Ok(())
    }
}

const MAX_FIELD: usize = 512;

fn field(name: &str, value: &str) -> AppResult<()> {
    if value.trim().is_empty() || value.len() > MAX_FIELD || value.chars().any(char::is_control) {
        return Err(AppError::validation(format!("{name} must be 1 to {MAX_FIELD} characters without control characters")));
    }
    Ok(())
}

fn https_url(name: &str, value: &str) -> AppResult<()> {
    field(name, value)?;
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(AppError::validation(format!("{name} must be an https URL"))),
    }
}

/// A tenant's credentials for one provider, as its admin gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "provider", rename_all = "lowercase", deny_unknown_fields)]
pub enum ProviderCredentials {
    /// A Zoom Server-to-Server OAuth app (scopes `meeting:write:meeting:admin`,
    /// `meeting:update:meeting:admin`, `cloud_recording:read:list_recording_files:admin`) and
    /// its event subscription's secret token.
    Zoom {
        account_id: String,
        client_id: String,
        client_secret: String,
        webhook_secret_token: String,
        /// The Zoom user meetings are created for (`me`: the app's account owner).
        #[serde(default = "me")]
        host_user: String,
    },
    /// Jitsi: `base_url` is the server (`https://meet.jit.si` needs no account). A self-hosted
    /// server with token authentication also has its `app_id` and `app_secret` (HS256).
    Jitsi {
        base_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_secret: Option<String>,
    },
}

fn me() -> String {
    "me".into()
}

impl ProviderCredentials {
    pub fn provider(&self) -> ExternalProvider {
        match self {
            ProviderCredentials::Zoom { .. } => ExternalProvider::Zoom,
            ProviderCredentials::Jitsi { .. } => ExternalProvider::Jitsi,
        }
    }

    pub fn validate(&self) -> AppResult<()> {
        match self {
            ProviderCredentials::Zoom { account_id, client_id, client_secret, webhook_secret_token, host_user } => {
                for (n, v) in [
                    ("account_id", account_id),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("webhook_secret_token", webhook_secret_token),
                    ("host_user", host_user),
                ] {
                    field(n, v)?;
                }
            }
            ProviderCredentials::Jitsi { base_url, app_id, app_secret } => {
                https_url("base_url", base_url)?;
                match (app_id, app_secret) {
                    (None, None) => {}
                    (Some(id), Some(secret)) => {
                        field("app_id", id)?;
                        if secret.len() < 32 {
                            return Err(AppError::validation("app_secret must be at least 32 characters (it signs HS256 tokens)"));
                        }
                    }
                    _ => return Err(AppError::validation("app_id and app_secret come together (token authentication) or not at all")),
                }
            }
        }
        Ok(())
    }
}

/// What the API says of a provider's connection: never the secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProviderConnection {
    pub provider: ExternalProvider,
    pub connected: bool,
    /// Offered when agents start a call (settings.video.providers).
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}
