//! Google Meet, through the Meet REST API with a service account acting for a Workspace user
//! (domain-wide delegation): an access token from `POST {oauth}/token` for a JWT the service
//! account signs (RS256; `iss` the account, `sub` the user, scope `meetings.space.created`),
//! kept until a minute before it expires; meetings are spaces (`POST /v2/spaces`, open to anyone
//! with the link) and end with `POST /v2/{space}:endActiveConference`. Throttling and 5xx are
//! tried again; refusals name Google Meet and its reason.

use std::time::Duration;

use serde_json::{json, Value};

use super::{clients, send, TokenCache};
use crate::domain::provider::ProviderCredentials;
use crate::ports::meetings::ExternalMeeting;
use crate::ports::video::VideoError;

pub const OAUTH_URL: &str = "https://oauth2.googleapis.com";
pub const API_URL: &str = "https://meet.googleapis.com/v2";
pub const ENV_OAUTH_URL: &str = "CONFER_MEET_OAUTH_URL";
pub const ENV_API_URL: &str = "CONFER_MEET_API_URL";
pub const SCOPE: &str = "https://www.googleapis.com/auth/meetings.space.created";

pub struct Meet {
    oauth_url: String,
    api_url: String,
    http: reqwest::Client,
    tokens: TokenCache,
    backoff: Duration,
}

/// Google's `{"error": {"code", "message", "status"}}`, or OAuth's `error_description`.
fn reason(body: &Value) -> String {
    body.pointer("/error/message")
        .or_else(|| body.get("error_description"))
        .or_else(|| body.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_string()
}

impl Meet {
    pub fn new(oauth_url: &str, api_url: &str) -> Self {
        Meet {
            oauth_url: oauth_url.trim_end_matches('/').to_string(),
            api_url: api_url.trim_end_matches('/').to_string(),
            http: clients().0,
            tokens: TokenCache::default(),
            backoff: Duration::from_millis(500),
        }
    }

    async fn token(&self, credentials: &ProviderCredentials, fresh: bool) -> Result<String, VideoError> {
        let ProviderCredentials::Meet { client_email, private_key, subject } = credentials else {
            return Err(VideoError::Rejected("not Google Meet credentials".into()));
        };
        let key = format!("{client_email}:{subject}");
        if !fresh {
            if let Some(token) = self.tokens.get(&key).await {
                return Ok(token);
            }
        }
        let url = format!("{}/token", self.oauth_url);
        let now = crate::domain::now_epoch_seconds();
        let claims = json!({ "iss": client_email, "sub": subject, "scope": SCOPE, "aud": url, "iat": now, "exp": now + 3600 });
        let signing = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.as_bytes())
            .map_err(|e| VideoError::Rejected(format!("the Google Meet service account's private key cannot sign: {e}")))?;
        let assertion = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &signing)
            .map_err(|e| VideoError::Rejected(format!("the Google Meet service account's private key cannot sign: {e}")))?;
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        let (status, body) = send("Google Meet", self.backoff, reason, || self.http.post(&url).form(&form)).await?;
        match (status, body.get("access_token").and_then(Value::as_str)) {
            (200, Some(token)) => {
                self.tokens.put(key, token.to_string(), body.get("expires_in").and_then(Value::as_u64)).await;
                Ok(token.to_string())
            }
            _ => Err(VideoError::Rejected(format!(
                "Google Meet refused the tenant's service account ({status}: {}); check its key and its domain-wide delegation for {subject}",
                reason(&body)
            ))),
        }
    }

    async fn api(&self, credentials: &ProviderCredentials, path: &str, body: Value) -> Result<(u16, Value), VideoError> {
        let url = format!("{}{path}", self.api_url);
        for fresh in [false, true] {
            let token = self.token(credentials, fresh).await?;
            let (status, answer) =
                send("Google Meet", self.backoff, reason, || self.http.post(&url).bearer_auth(&token).json(&body)).await?;
            if status == 401 && !fresh {
                continue;
            }
            return Ok((status, answer));
        }
        unreachable!("the loop returns on its second pass")
    }

    pub async fn create(&self, credentials: &ProviderCredentials) -> Result<ExternalMeeting, VideoError> {
        // Open: the customer joins with the link, without knocking.
        let body = json!({ "config": { "accessType": "OPEN", "entryPointAccess": "ALL" } });
        let (status, answer) = self.api(credentials, "/spaces", body).await?;
        let name = answer.get("name").and_then(Value::as_str).filter(|n| n.starts_with("spaces/"));
        let join_url = answer.get("meetingUri").and_then(Value::as_str);
        match (status, name, join_url) {
            (200, Some(name), Some(url)) => Ok(ExternalMeeting { external_id: name.to_string(), join_url: url.to_string(), room: None }),
            (200, ..) => Err(VideoError::Unavailable("Google Meet created a space without a name or link".into())),
            (s, ..) => Err(VideoError::Rejected(format!("Google Meet refused to create the meeting ({s}: {})", reason(&answer)))),
        }
    }

    pub async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError> {
        let (status, answer) = self.api(credentials, &format!("/{}:endActiveConference", meeting.external_id), json!({})).await?;
        match status {
            200..=299 | 404 => Ok(()),
            // FAILED_PRECONDITION: no conference is running in the space.
            400 if answer.pointer("/error/status").and_then(Value::as_str) == Some("FAILED_PRECONDITION") => Ok(()),
            s => Err(VideoError::Rejected(format!("Google Meet refused to end the meeting ({s}: {})", reason(&answer)))),
        }
    }
}
