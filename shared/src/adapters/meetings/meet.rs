//! Google Meet, through the Meet REST API with a service account acting for a Workspace user
//! (domain-wide delegation): an access token from `POST {oauth}/token` for a JWT the service
//! account signs (RS256; `iss` the account, `sub` the user, scope `meetings.space.created`),
//! kept until a minute before it expires; meetings are spaces (`POST /v2/spaces`, open to anyone
//! with the link) and end with `POST /v2/{space}:endActiveConference`. Where the tenant routes
//! Meet's events to Confer, each space gets a Workspace Events subscription (`POST
//! /v1/subscriptions` on `workspaceevents.googleapis.com`: the conference ending, participants
//! joining and leaving, recordings generated) publishing to the tenant's Pub/Sub topic, whose
//! push subscription delivers to Confer with a Google-signed OIDC token (checked against
//! Google's published keys). A recording's file is found through `GET /v2/{recording}` and
//! fetched from Drive (`GET /drive/v3/files/{id}?alt=media`). Throttling and 5xx are tried
//! again; refusals name Google Meet and its reason.

use std::time::Duration;

use serde_json::{json, Value};

use super::{clients, download_with_retry, send, TokenCache};
use crate::domain::provider::{MeetEvents, ProviderCredentials};
use crate::ports::meetings::{DownloadError, ExternalMeeting, ProviderFile};
use crate::ports::video::VideoError;

pub const OAUTH_URL: &str = "https://oauth2.googleapis.com";
pub const API_URL: &str = "https://meet.googleapis.com/v2";
pub const ENV_OAUTH_URL: &str = "CONFER_MEET_OAUTH_URL";
pub const ENV_API_URL: &str = "CONFER_MEET_API_URL";
pub const EVENTS_URL: &str = "https://workspaceevents.googleapis.com/v1";
pub const DRIVE_URL: &str = "https://www.googleapis.com/drive/v3";
/// Google's keys for the OIDC tokens Pub/Sub pushes carry.
pub const CERTS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
pub const ENV_EVENTS_URL: &str = "CONFER_MEET_EVENTS_URL";
pub const ENV_DRIVE_URL: &str = "CONFER_MEET_DRIVE_URL";
pub const ENV_CERTS_URL: &str = "CONFER_GOOGLE_CERTS_URL";
/// Spaces created, and recordings Meet wrote to the organizer's Drive read.
pub const SCOPE: &str = "https://www.googleapis.com/auth/meetings.space.created https://www.googleapis.com/auth/drive.meet.readonly";
/// The Meet events a space's subscription asks for.
pub const EVENT_TYPES: [&str; 4] = [
    "google.workspace.meet.conference.v2.ended",
    "google.workspace.meet.participant.v2.joined",
    "google.workspace.meet.participant.v2.left",
    "google.workspace.meet.recording.v2.fileGenerated",
];
/// Issuers of the OIDC tokens Pub/Sub pushes carry.
const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// How long Google's keys are kept before they are read again.
const CERTS_TTL: Duration = Duration::from_secs(3600);

/// Where the Meet adapter's Google services answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleUrls {
    pub oauth: String,
    pub api: String,
    pub events: String,
    pub drive: String,
    pub certs: String,
}

pub struct Meet {
    oauth_url: String,
    api_url: String,
    events_url: String,
    drive_url: String,
    certs_url: String,
    certs: tokio::sync::Mutex<Option<(jsonwebtoken::jwk::JwkSet, std::time::Instant)>>,
    http: reqwest::Client,
    downloads: reqwest::Client,
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
    pub fn new(urls: &GoogleUrls) -> Self {
        let (http, downloads) = clients();
        let trim = |u: &str| u.trim_end_matches('/').to_string();
        Meet {
            oauth_url: trim(&urls.oauth),
            api_url: trim(&urls.api),
            events_url: trim(&urls.events),
            drive_url: trim(&urls.drive),
            certs_url: urls.certs.clone(),
            certs: tokio::sync::Mutex::new(None),
            http,
            downloads,
            tokens: TokenCache::default(),
            backoff: Duration::from_millis(500),
        }
    }

    /// Gives up on an answer of the app's API after `timeout` (each try).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = super::api_client(timeout);
        self
    }

    async fn token(&self, credentials: &ProviderCredentials, fresh: bool) -> Result<String, VideoError> {
        let ProviderCredentials::Meet { client_email, private_key, subject, .. } = credentials else {
            return Err(VideoError::Rejected("not Google Meet credentials".into()));
        };
        let url = format!("{}/token", self.oauth_url);
        let fetch = || async {
            let now = crate::domain::now_epoch_seconds();
            let claims = json!({ "iss": client_email, "sub": subject, "scope": SCOPE, "aud": url, "iat": now, "exp": now + 3600 });
            let cannot_sign = |e: jsonwebtoken::errors::Error| {
                VideoError::Rejected(format!("the Google Meet service account's private key cannot sign: {e}"))
            };
            let signing = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.as_bytes()).map_err(cannot_sign)?;
            let assertion =
                jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &signing).map_err(cannot_sign)?;
            let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
            send("Google Meet", self.backoff, reason, || self.http.post(&url).form(&form)).await
        };
        let refused = |status, body: &Value| {
            format!(
                "Google Meet refused the tenant's service account ({status}: {}); check its key and its domain-wide delegation for {subject}",
                reason(body)
            )
        };
        self.tokens.get_or_fetch(format!("{client_email}:{subject}"), fresh, fetch, refused).await
    }

    async fn api(&self, credentials: &ProviderCredentials, path: &str, body: Value) -> Result<(u16, Value), VideoError> {
        self.call(credentials, reqwest::Method::POST, &format!("{}{path}", self.api_url), body).await
    }

    async fn call(
        &self,
        credentials: &ProviderCredentials,
        method: reqwest::Method,
        url: &str,
        body: Value,
    ) -> Result<(u16, Value), VideoError> {
        let token = |fresh| self.token(credentials, fresh);
        super::send_authorized("Google Meet", self.backoff, reason, &self.http, &method, url, &body, token).await
    }

    pub async fn create(&self, credentials: &ProviderCredentials) -> Result<ExternalMeeting, VideoError> {
        // Open: the customer joins with the link, without knocking.
        let body = json!({ "config": { "accessType": "OPEN", "entryPointAccess": "ALL" } });
        let (status, answer) = self.api(credentials, "/spaces", body).await?;
        let name = answer.get("name").and_then(Value::as_str).filter(|n| n.starts_with("spaces/"));
        let join_url = answer.get("meetingUri").and_then(Value::as_str);
        let meeting = match (status, name, join_url) {
            (200, Some(name), Some(url)) => ExternalMeeting { external_id: name.to_string(), join_url: url.to_string(), room: None },
            (200, ..) => return Err(VideoError::Unavailable("Google Meet created a space without a name or link".into())),
            (s, ..) => return Err(VideoError::Rejected(format!("Google Meet refused to create the meeting ({s}: {})", reason(&answer)))),
        };
        if let ProviderCredentials::Meet { events: Some(events), .. } = credentials {
            // A space no conference ever ran in is harmless: when the subscription fails, the
            // call does not start and the space is left unused.
            self.subscribe(credentials, events, &meeting.external_id).await?;
        }
        Ok(meeting)
    }

    /// Meet's events of the space go to the tenant's Pub/Sub topic.
    async fn subscribe(&self, credentials: &ProviderCredentials, events: &MeetEvents, space: &str) -> Result<(), VideoError> {
        let body = json!({
            "targetResource": format!("//meet.googleapis.com/{space}"),
            "eventTypes": EVENT_TYPES,
            "notificationEndpoint": { "pubsubTopic": events.pubsub_topic },
            "payloadOptions": { "includeResource": false },
            "ttl": "86400s",
        });
        let url = format!("{}/subscriptions", self.events_url);
        let (status, answer) = self.call(credentials, reqwest::Method::POST, &url, body).await?;
        match status {
            200..=299 => Ok(()),
            s => Err(VideoError::Rejected(format!(
                "Google Meet refused to send the meeting's events to {} ({s}: {})",
                events.pubsub_topic,
                reason(&answer)
            ))),
        }
    }

    /// The Drive file a generated recording (`conferenceRecords/{c}/recordings/{r}`) is in.
    pub async fn recording_file(&self, credentials: &ProviderCredentials, recording: &str) -> Result<Option<String>, VideoError> {
        let url = format!("{}/{recording}", self.api_url);
        let (status, answer) = self.call(credentials, reqwest::Method::GET, &url, Value::Null).await?;
        match status {
            200 => Ok(answer
                .pointer("/driveDestination/file")
                .and_then(Value::as_str)
                .map(|file| format!("{}/files/{file}?alt=media", self.drive_url))),
            404 => Ok(None),
            s => Err(VideoError::Rejected(format!("Google Meet refused to describe the recording ({s}: {})", reason(&answer)))),
        }
    }

    pub async fn download(
        &self,
        credentials: &ProviderCredentials,
        file: &ProviderFile,
        max_bytes: u64,
        to: &std::path::Path,
    ) -> Result<u64, DownloadError> {
        let token = self.token(credentials, false).await.map_err(|e| match e {
            VideoError::Rejected(why) => DownloadError::Refused(why),
            other => DownloadError::Unavailable(other.to_string()),
        })?;
        download_with_retry("Google Meet", self.backoff, || self.downloads.get(&file.download_url).bearer_auth(&token), max_bytes, to).await
    }

    /// Whether `token` is an OIDC token Google signed for the tenant's push subscription: its
    /// signature against Google's keys, the issuer, the audience, and the service account's
    /// verified email. Answers why not.
    pub async fn verify_push(&self, events: &MeetEvents, token: &str) -> Result<(), String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a token: {e}"))?;
        let kid = header.kid.ok_or("the token names no key")?;
        let key = match self.google_key(&kid, false).await? {
            Some(k) => k,
            // A key Google has just rotated in: read the keys again once.
            None => self.google_key(&kid, true).await?.ok_or("the token's key is not Google's")?,
        };
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&key).map_err(|e| format!("Google's key is unusable: {e}"))?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&[events.audience.as_str()]);
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
        let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation).map_err(|e| format!("token refused: {e}"))?.claims;
        let verified = claims.get("email_verified").is_some_and(|v| v == true || v == "true");
        if claims.get("email").and_then(Value::as_str) != Some(events.push_service_account.as_str()) || !verified {
            return Err("the token is not the push subscription's service account".into());
        }
        Ok(())
    }

    async fn google_key(&self, kid: &str, refresh: bool) -> Result<Option<jsonwebtoken::jwk::Jwk>, String> {
        let mut cache = self.certs.lock().await;
        let stale = cache.as_ref().is_none_or(|(_, at)| at.elapsed() > CERTS_TTL);
        if refresh || stale {
            let set: jsonwebtoken::jwk::JwkSet = self
                .http
                .get(&self.certs_url)
                .send()
                .await
                .map_err(|e| format!("Google's keys could not be read: {e}"))?
                .json()
                .await
                .map_err(|e| format!("Google's keys could not be read: {e}"))?;
            *cache = Some((set, std::time::Instant::now()));
        }
        Ok(cache.as_ref().and_then(|(set, _)| set.find(kid).cloned()))
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
