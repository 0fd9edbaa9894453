//! The customer's own video app as a call's provider: Zoom, Microsoft Teams, Google Meet and
//! Jitsi.
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
    Teams,
    Meet,
}

impl ExternalProvider {
    pub const ALL: [ExternalProvider; 4] =
        [ExternalProvider::Zoom, ExternalProvider::Jitsi, ExternalProvider::Teams, ExternalProvider::Meet];

    pub fn as_str(self) -> &'static str {
        match self {
            ExternalProvider::Zoom => "zoom",
            ExternalProvider::Jitsi => "jitsi",
            ExternalProvider::Teams => "teams",
            ExternalProvider::Meet => "meet",
        }
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        match self {
            ExternalProvider::Zoom => "Zoom",
            ExternalProvider::Jitsi => "Jitsi",
            ExternalProvider::Teams => "Microsoft Teams",
            ExternalProvider::Meet => "Google Meet",
        }
    }

    pub fn parse(s: &str) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| AppError::validation(format!("unknown video provider {s}: zoom, jitsi, teams or meet")))
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
    Teams,
    Meet,
}

impl CallApp {
    pub fn external(self) -> Option<ExternalProvider> {
        match self {
            CallApp::Integrated => None,
            CallApp::Zoom => Some(ExternalProvider::Zoom),
            CallApp::Jitsi => Some(ExternalProvider::Jitsi),
            CallApp::Teams => Some(ExternalProvider::Teams),
            CallApp::Meet => Some(ExternalProvider::Meet),
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
    /// The settings as kept: each app once, in the order given, and the default app enabled
    /// (choosing an app as the default offers it).
    pub fn normalized(mut self) -> Self {
        let mut seen = std::collections::BTreeSet::new();
        self.providers.retain(|p| seen.insert(*p));
        if let Some(p) = self.default.external() {
            if !self.providers.contains(&p) {
                self.providers.push(p);
            }
        }
        self
    }
}

const MAX_FIELD: usize = 512;

fn field(name: &str, value: &str) -> AppResult<()> {
    if value.trim().is_empty() || value.chars().count() > MAX_FIELD || value.chars().any(char::is_control) {
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
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum ProviderCredentials {
    /// A Zoom Server-to-Server OAuth app (scopes `meeting:write:meeting:admin`,
    /// `meeting:update:meeting:admin`, `cloud_recording:read:list_recording_files:admin`) and
    /// its event subscription's secret token.
    Zoom {
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        account_id: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        client_id: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        client_secret: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        webhook_secret_token: String,
        /// The Zoom user meetings are created for (`me`: the app's account owner).
        #[serde(default = "me")]
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        host_user: String,
    },
    /// Jitsi: `base_url` is the server (`https://meet.jit.si` needs no account). A self-hosted
    /// server with token authentication also has its `token` (app id and secret).
    Jitsi {
        #[schema(
            max_length = 512,
            pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"
        )]
        base_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<JitsiToken>,
    },
    /// Microsoft Teams through Microsoft Graph: an app registration in the organisation's
    /// Microsoft Entra directory with the application permission `OnlineMeetings.ReadWrite.All`,
    /// and the user meetings are organised by (an application access policy must grant the app
    /// to that user).
    Teams {
        /// The Entra directory (tenant) id.
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        directory_id: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        client_id: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        client_secret: String,
        /// The Entra object id of the user meetings are organised by.
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        organizer_user_id: String,
    },
    /// Google Meet through the Meet REST API: a service account's key, with domain-wide
    /// delegation of the scope `https://www.googleapis.com/auth/meetings.space.created`, acting
    /// for a Workspace user (`subject`) who owns the meetings.
    Meet {
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        client_email: String,
        /// The key's PEM (`-----BEGIN PRIVATE KEY-----…`), as in the account's JSON key file.
        #[schema(max_length = 8192, pattern = r"^-----BEGIN (RSA )?PRIVATE KEY-----")]
        private_key: String,
        #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
        subject: String,
        /// Where Meet's events reach Confer (its meetings ending, attendees, recordings): without
        /// it, calls in Meet run without them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        events: Option<MeetEvents>,
    },
}

/// Google Meet's events, delivered by the tenant's Pub/Sub: the topic Workspace Events publishes
/// to, and the push subscription's authentication (the service account its OIDC tokens name, and
/// the audience they carry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeetEvents {
    /// `projects/{project}/topics/{topic}`.
    #[schema(max_length = 512, pattern = r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$")]
    pub pubsub_topic: String,
    /// The email of the service account the push subscription authenticates as.
    #[schema(max_length = 320, pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")]
    pub push_service_account: String,
    /// The audience the push subscription's tokens carry (set it to Confer's webhook URL).
    #[schema(max_length = 512, pattern = r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$")]
    pub audience: String,
}

/// A self-hosted Jitsi's token authentication: the server's `app_id` and `app_secret` (HS256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JitsiToken {
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub app_id: String,
    #[schema(min_length = 32, max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub app_secret: String,
}

/// `projects/{project}/topics/{topic}` as Pub/Sub names topics.
fn regex_lite_topic(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("projects/") else { return false };
    let Some((project, topic)) = rest.split_once("/topics/") else { return false };
    let project_ok = (6..=30).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_lowercase())
        && !project.ends_with('-')
        && project.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let topic_ok = (3..=255).contains(&topic.len())
        && topic.starts_with(|c: char| c.is_ascii_alphabetic())
        && topic.chars().all(|c| c.is_ascii_alphanumeric() || "._~%+-".contains(c));
    project_ok && topic_ok
}

fn me() -> String {
    "me".into()
}

impl ProviderCredentials {
    pub fn provider(&self) -> ExternalProvider {
        match self {
            ProviderCredentials::Zoom { .. } => ExternalProvider::Zoom,
            ProviderCredentials::Jitsi { .. } => ExternalProvider::Jitsi,
            ProviderCredentials::Teams { .. } => ExternalProvider::Teams,
            ProviderCredentials::Meet { .. } => ExternalProvider::Meet,
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
            ProviderCredentials::Teams { directory_id, client_id, client_secret, organizer_user_id } => {
                for (n, v) in [
                    ("directory_id", directory_id),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("organizer_user_id", organizer_user_id),
                ] {
                    field(n, v)?;
                }
            }
            ProviderCredentials::Meet { client_email, private_key, subject, events } => {
                field("client_email", client_email)?;
                field("subject", subject)?;
                if let Some(e) = events {
                    let topic = regex_lite_topic(&e.pubsub_topic);
                    if !topic || e.push_service_account.len() > 320 || !e.push_service_account.contains('@') {
                        return Err(AppError::validation(
                            "events.pubsub_topic must be projects/{project}/topics/{topic}, events.push_service_account an email",
                        ));
                    }
                    field("events.audience", &e.audience)?;
                    if !(e.audience.starts_with("https://") || e.audience.starts_with("http://"))
                        || e.audience.chars().any(char::is_whitespace)
                    {
                        return Err(AppError::validation("events.audience must be a URL (the push subscription's audience)"));
                    }
                }
                // Whether the key signs is known when Google answers (a call that cannot start
                // says so, naming the key): only its shape is checked here.
                if private_key.len() > 8192
                    || !(private_key.starts_with("-----BEGIN PRIVATE KEY-----")
                        || private_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"))
                {
                    return Err(AppError::validation(
                        "private_key must be the service account's RSA key in PEM (its JSON key file's private_key)",
                    ));
                }
            }
            ProviderCredentials::Jitsi { base_url, token } => {
                https_url("base_url", base_url)?;
                if let Some(JitsiToken { app_id, app_secret }) = token {
                    field("token.app_id", app_id)?;
                    let n = app_secret.chars().count();
                    if !(32..=MAX_FIELD).contains(&n) || app_secret.chars().any(char::is_control) {
                        return Err(AppError::validation(
                            "token.app_secret must be 32 to 512 characters without control characters (it signs HS256 tokens)",
                        ));
                    }
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
