//! Zoom, through a Server-to-Server OAuth app: an access token from `POST /oauth/token`
//! (`grant_type=account_credentials`, the client id and secret as Basic credentials), cached until
//! a minute before it expires; meetings created with `POST /v2/users/{user}/meetings` and ended
//! with `PUT /v2/meetings/{id}/status`. Throttling (429, honouring `Retry-After` up to a few
//! seconds) and unavailability (5xx, timeouts) are tried again; refusals name Zoom and the cause.
//! Webhooks are signed `v0=HMAC-SHA256(secret token, "v0:{timestamp}:{body}")` in hex
//! (`x-zm-signature`), and the endpoint proves itself by answering `endpoint.url_validation`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::domain::provider::ProviderCredentials;
use crate::ports::meetings::{DownloadError, ExternalMeeting, ProviderFile};
use crate::ports::video::VideoError;

pub const OAUTH_URL: &str = "https://zoom.us";
pub const API_URL: &str = "https://api.zoom.us/v2";
pub const ENV_OAUTH_URL: &str = "CONFER_ZOOM_OAUTH_URL";
pub const ENV_API_URL: &str = "CONFER_ZOOM_API_URL";
/// How old a webhook's timestamp may be (Zoom signs each delivery, retries included, afresh).
pub const WEBHOOK_MAX_AGE_SECONDS: i64 = 5 * 60;

pub struct Zoom {
    oauth_url: String,
    api_url: String,
    http: reqwest::Client,
    /// Downloads: no overall timeout (a recording takes as long as it takes), a stall limit instead.
    downloads: reqwest::Client,
    tokens: super::TokenCache,
    backoff: Duration,
}

struct App<'a> {
    account_id: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    host_user: &'a str,
}

fn app(credentials: &ProviderCredentials) -> Result<App<'_>, VideoError> {
    match credentials {
        ProviderCredentials::Zoom { account_id, client_id, client_secret, host_user, .. } => {
            Ok(App { account_id, client_id, client_secret, host_user })
        }
        _ => Err(VideoError::Rejected("not Zoom credentials".into())),
    }
}

fn reason(body: &Value) -> String {
    body.get("message")
        .or_else(|| body.get("reason"))
        .or_else(|| body.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_string()
}

impl Zoom {
    pub fn new(oauth_url: &str, api_url: &str) -> Self {
        Zoom {
            oauth_url: oauth_url.trim_end_matches('/').to_string(),
            api_url: api_url.trim_end_matches('/').to_string(),
            http: super::clients().0,
            downloads: super::clients().1,
            tokens: super::TokenCache::default(),
            backoff: Duration::from_millis(500),
        }
    }

    /// Gives up on an answer of the app's API after `timeout` (each try).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = super::api_client(timeout);
        self
    }

    /// Waits `backoff`, then twice that, between tries (tests shorten it).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    async fn send(&self, request: impl Fn() -> reqwest::RequestBuilder) -> Result<(u16, Value), VideoError> {
        super::send("Zoom", self.backoff, reason, request).await
    }

    async fn token(&self, app: &App<'_>, fresh: bool) -> Result<String, VideoError> {
        let url = format!("{}/oauth/token", self.oauth_url);
        let fetch = || {
            self.send(|| {
                self.http
                    .post(&url)
                    .basic_auth(app.client_id, Some(app.client_secret))
                    .query(&[("grant_type", "account_credentials"), ("account_id", app.account_id)])
            })
        };
        let refused = |status, body: &Value| {
            format!("Zoom refused the tenant's app credentials ({status}: {}); check the account id, client id and secret", reason(body))
        };
        self.tokens.get_or_fetch(format!("{}:{}", app.account_id, app.client_id), fresh, fetch, refused).await
    }

    /// An API call with the app's token; a token Zoom no longer accepts is fetched again once.
    async fn api(&self, credentials: &ProviderCredentials, method: Method, path: &str, body: Value) -> Result<(u16, Value), VideoError> {
        let app = app(credentials)?;
        let url = format!("{}{path}", self.api_url);
        super::send_authorized("Zoom", self.backoff, reason, &self.http, &method, &url, &body, |fresh| self.token(&app, fresh)).await
    }

    pub async fn create(&self, credentials: &ProviderCredentials, topic: &str) -> Result<ExternalMeeting, VideoError> {
        let host = app(credentials)?.host_user.to_string();
        let body = json!({
            "topic": topic,
            "type": 1,
            "settings": { "join_before_host": true, "waiting_room": false, "approval_type": 2, "auto_recording": "cloud" },
        });
        let (status, answer) = self.api(credentials, Method::POST, &format!("/users/{host}/meetings"), body).await?;
        let id = answer.get("id").and_then(|v| v.as_u64().map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_string)));
        let join_url = answer.get("join_url").and_then(Value::as_str);
        match (status, id, join_url) {
            (201, Some(id), Some(join_url)) => Ok(ExternalMeeting { external_id: id, join_url: join_url.to_string(), room: None }),
            (201, ..) => Err(VideoError::Unavailable("Zoom created a meeting without an id or join link".into())),
            (s, ..) => Err(VideoError::Rejected(format!("Zoom refused to create the meeting ({s}: {})", reason(&answer)))),
        }
    }

    pub async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError> {
        let path = format!("/meetings/{}/status", meeting.external_id);
        let (status, answer) = self.api(credentials, Method::PUT, &path, json!({ "action": "end" })).await?;
        match status {
            200..=299 | 404 => Ok(()),
            // 3001: the meeting does not exist or has expired; 3063: it is not in progress.
            400 if matches!(answer.get("code").and_then(Value::as_u64), Some(3001 | 3063)) => Ok(()),
            s => Err(VideoError::Rejected(format!("Zoom refused to end the meeting ({s}: {})", reason(&answer)))),
        }
    }
}

impl Zoom {
    /// A cloud recording's file: with the notification's `download_token` when there is one
    /// (valid for a day), else the app's own token (`cloud_recording:read` scope). Zoom answers
    /// with a redirect to its storage, which is followed.
    pub async fn download(
        &self,
        credentials: Option<&ProviderCredentials>,
        file: &ProviderFile,
        grant: Option<&str>,
        max_bytes: u64,
        to: &std::path::Path,
    ) -> Result<u64, DownloadError> {
        let token = match (grant, credentials) {
            (Some(grant), _) => grant.to_string(),
            (None, Some(credentials)) => {
                let app = app(credentials).map_err(|e| DownloadError::Refused(e.to_string()))?;
                self.token(&app, false).await.map_err(|e| match e {
                    VideoError::Rejected(why) => DownloadError::Refused(why),
                    other => DownloadError::Unavailable(other.to_string()),
                })?
            }
            (None, None) => return Err(DownloadError::Refused("no authorisation to download the Zoom recording".into())),
        };
        super::download_with_retry("Zoom", self.backoff, || self.downloads.get(&file.download_url).bearer_auth(&token), max_bytes, to).await
    }
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `signature` (`x-zm-signature`) signs `body` at `timestamp` (`x-zm-request-timestamp`,
/// epoch seconds) with the app's secret token, and the timestamp is recent (against replays).
pub fn verify_webhook(secret_token: &str, timestamp: &str, body: &[u8], signature: &str, now_seconds: i64) -> bool {
    let Ok(at) = timestamp.parse::<i64>() else { return false };
    if (now_seconds - at).abs() > WEBHOOK_MAX_AGE_SECONDS {
        return false;
    }
    let mut message = format!("v0:{timestamp}:").into_bytes();
    message.extend_from_slice(body);
    let expected = format!("v0={}", hmac_hex(secret_token, &message));
    // Compared in constant time.
    expected.len() == signature.len() && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The answer to `endpoint.url_validation`: the plain token and its HMAC under the secret token.
pub fn url_validation(secret_token: &str, plain_token: &str) -> Value {
    json!({ "plainToken": plain_token, "encryptedToken": hmac_hex(secret_token, plain_token.as_bytes()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signatures_and_url_validation_follow_zoom() {
        // Zoom's documented example shape: v0:{timestamp}:{body}, hex HMAC-SHA256.
        let body = br#"{"event":"meeting.ended","payload":{"object":{"id":"85746392012"}},"event_ts":1796028000000}"#;
        let secret = "abcdefghijklmnopqrstuv";
        let now = 1_796_028_000;
        let mut message = format!("v0:{now}:").into_bytes();
        message.extend_from_slice(body);
        let good = format!("v0={}", hmac_hex(secret, &message));
        assert!(verify_webhook(secret, &now.to_string(), body, &good, now));
        assert!(!verify_webhook("another secret", &now.to_string(), body, &good, now), "another tenant's secret");
        assert!(!verify_webhook(secret, &now.to_string(), b"{}", &good, now), "another body");
        assert!(!verify_webhook(secret, &now.to_string(), body, &good, now + WEBHOOK_MAX_AGE_SECONDS + 1), "too old: a replay");
        assert!(!verify_webhook(secret, "not a time", body, &good, now));
        let answer = url_validation(secret, "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(answer["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(answer["encryptedToken"].as_str().unwrap().len(), 64);
    }
}
