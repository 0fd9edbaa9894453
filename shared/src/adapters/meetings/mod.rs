//! Meetings in the customers' own video apps, over their public APIs: the same adapters in both
//! runtimes (only their base URLs change, for stub servers in tests).

pub mod jitsi;
pub mod meet;
pub mod teams;
pub mod zoom;

use std::collections::HashMap;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use std::path::Path;
use std::time::Duration;

use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::ports::meetings::{Attendee, DownloadError, ExternalMeeting, MeetingApps, MeetingReport, ProviderFile};
use crate::ports::video::{CallRef, VideoError};

/// Where each app's API answers: its public address, or where the environment points (a stub
/// server in tests): `CONFER_ZOOM_OAUTH_URL`, `CONFER_ZOOM_API_URL`, `CONFER_TEAMS_LOGIN_URL`,
/// `CONFER_TEAMS_GRAPH_URL`, `CONFER_MEET_OAUTH_URL`, `CONFER_MEET_API_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrls {
    pub zoom_oauth: String,
    pub zoom_api: String,
    pub teams_login: String,
    pub teams_graph: String,
    pub meet_oauth: String,
    pub meet_api: String,
    pub meet_events: String,
    pub meet_drive: String,
    pub google_certs: String,
    /// Confer's public address (`CONFER_PUBLIC_URL`), where the apps send notifications; without
    /// it no Teams notifications are asked for.
    pub public_url: Option<String>,
    /// How long an app's API may take to answer one request ([`TIMEOUT`]).
    pub api_timeout: Duration,
}

impl AppUrls {
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| std::env::var(name).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string());
        AppUrls {
            zoom_oauth: var(zoom::ENV_OAUTH_URL, zoom::OAUTH_URL),
            zoom_api: var(zoom::ENV_API_URL, zoom::API_URL),
            teams_login: var(teams::ENV_LOGIN_URL, teams::LOGIN_URL),
            teams_graph: var(teams::ENV_GRAPH_URL, teams::GRAPH_URL),
            meet_oauth: var(meet::ENV_OAUTH_URL, meet::OAUTH_URL),
            meet_api: var(meet::ENV_API_URL, meet::API_URL),
            meet_events: var(meet::ENV_EVENTS_URL, meet::EVENTS_URL),
            meet_drive: var(meet::ENV_DRIVE_URL, meet::DRIVE_URL),
            google_certs: var(meet::ENV_CERTS_URL, meet::CERTS_URL),
            public_url: std::env::var(ENV_PUBLIC_URL).ok().filter(|s| !s.is_empty()),
            api_timeout: TIMEOUT,
        }
    }
}

pub use crate::capabilities::ENV_PUBLIC_URL;

/// Every provider Confer creates meetings in.
pub struct ProviderApps {
    pub zoom: zoom::Zoom,
    pub teams: teams::Teams,
    pub meet: meet::Meet,
}

impl ProviderApps {
    pub fn new(urls: &AppUrls) -> Self {
        ProviderApps {
            zoom: zoom::Zoom::new(&urls.zoom_oauth, &urls.zoom_api).with_timeout(urls.api_timeout),
            teams: teams::Teams::new(&urls.teams_login, &urls.teams_graph, urls.public_url.as_deref()).with_timeout(urls.api_timeout),
            meet: meet::Meet::new(&meet::GoogleUrls {
                oauth: urls.meet_oauth.clone(),
                api: urls.meet_api.clone(),
                events: urls.meet_events.clone(),
                drive: urls.meet_drive.clone(),
                certs: urls.google_certs.clone(),
            })
            .with_timeout(urls.api_timeout),
        }
    }

    /// The providers at their public addresses, or where the environment points ([`AppUrls`]).
    pub fn from_env() -> Self {
        Self::new(&AppUrls::from_env())
    }
}

#[async_trait]
impl MeetingApps for ProviderApps {
    async fn create(&self, credentials: &ProviderCredentials, call: &CallRef, topic: &str) -> Result<ExternalMeeting, VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } => self.zoom.create(credentials, topic).await,
            ProviderCredentials::Teams { .. } => self.teams.create(credentials, &call.tenant, topic).await,
            ProviderCredentials::Meet { .. } => self.meet.create(credentials).await,
            ProviderCredentials::Jitsi { base_url, .. } => Ok(jitsi::create(base_url, call)),
        }
    }

    fn join_url(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting, who: &Attendee) -> Result<String, VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } | ProviderCredentials::Teams { .. } | ProviderCredentials::Meet { .. } => {
                Ok(meeting.join_url.clone())
            }
            ProviderCredentials::Jitsi { base_url, token } => {
                jitsi::join_url(base_url, token.as_ref().map(|t| (t.app_id.as_str(), t.app_secret.as_str())), meeting, who)
            }
        }
    }

    async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } => self.zoom.end(credentials, meeting).await,
            ProviderCredentials::Meet { .. } => self.meet.end(credentials, meeting).await,
            // Graph cannot end an online meeting for everyone: it ends when its last attendee leaves.
            ProviderCredentials::Teams { .. } => Ok(()),
            // A Jitsi room ends when its last attendee leaves.
            ProviderCredentials::Jitsi { .. } => Ok(()),
        }
    }

    fn recording_url(&self, credentials: &ProviderCredentials, meeting_id: &str, recording_id: &str) -> Option<String> {
        match credentials {
            ProviderCredentials::Teams { .. } => self.teams.recording_url(credentials, meeting_id, recording_id),
            _ => None,
        }
    }

    async fn watch(&self, credentials: &ProviderCredentials, tenant: &str) -> Result<(), VideoError> {
        match credentials {
            ProviderCredentials::Teams { .. } => self.teams.watch_call_records(credentials, tenant).await,
            _ => Ok(()),
        }
    }

    async fn renew(&self, credentials: &ProviderCredentials, subscription: &str) -> Result<(), VideoError> {
        match credentials {
            ProviderCredentials::Teams { .. } => self.teams.renew(credentials, subscription).await,
            _ => Ok(()),
        }
    }

    async fn meeting_report(&self, credentials: &ProviderCredentials, id: &str) -> Result<Option<MeetingReport>, VideoError> {
        match credentials {
            ProviderCredentials::Teams { .. } => self.teams.call_record(credentials, id).await,
            _ => Ok(None),
        }
    }

    async fn recording_file(&self, credentials: &ProviderCredentials, recording: &str) -> Result<Option<String>, VideoError> {
        match credentials {
            ProviderCredentials::Meet { .. } => self.meet.recording_file(credentials, recording).await,
            _ => Ok(None),
        }
    }

    async fn verify_push(&self, credentials: &ProviderCredentials, token: &str) -> Result<(), String> {
        match credentials {
            ProviderCredentials::Meet { events: Some(events), .. } => self.meet.verify_push(events, token).await,
            _ => Err("this app does not push events".into()),
        }
    }

    async fn download(
        &self,
        provider: ExternalProvider,
        credentials: Option<&ProviderCredentials>,
        file: &ProviderFile,
        grant: Option<&str>,
        max_bytes: u64,
        to: &Path,
    ) -> Result<u64, DownloadError> {
        match provider {
            ExternalProvider::Zoom => self.zoom.download(credentials, file, grant, max_bytes, to).await,
            ExternalProvider::Teams => match credentials {
                Some(c) => self.teams.download(c, file, max_bytes, to).await,
                None => Err(DownloadError::Refused("Microsoft Teams is no longer connected for this tenant".into())),
            },
            ExternalProvider::Meet => match credentials {
                Some(c) => self.meet.download(c, file, max_bytes, to).await,
                None => Err(DownloadError::Refused("Google Meet is no longer connected for this tenant".into())),
            },
            other => Err(DownloadError::Refused(format!("Confer does not import {} recordings yet", other.title()))),
        }
    }
}

/// Tries of a request an app throttles or cannot answer.
pub const ATTEMPTS: u32 = 3;
/// Longest `Retry-After` waited for; beyond it the request is reported as throttled.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);
/// Longest wait for an answer from an app's API.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP client for an app's API (short timeout), and one for its downloads (no overall
/// timeout: a recording takes as long as it takes; a stall limit instead).
pub fn clients() -> (reqwest::Client, reqwest::Client) {
    (api_client(TIMEOUT), reqwest::Client::builder().connect_timeout(TIMEOUT).build().unwrap_or_default())
}

/// A client for an app's API that gives up on an answer after `timeout` (tried again, as any
/// failure to answer is).
pub fn api_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap_or_default()
}

/// One request to `app`'s API, tried again on 429 (honouring `Retry-After` up to
/// [`MAX_RETRY_AFTER`]), 5xx and transport failures, waiting `backoff` and then twice as long.
/// Answers the status and the JSON body (`null` when there is none); throttling and outages
/// that outlast the tries are `Unavailable`, naming the app and its `reason`.
pub async fn send(
    app: &str,
    backoff: Duration,
    reason: fn(&Value) -> String,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(u16, Value), VideoError> {
    let mut wait = backoff;
    for attempt in 1..=ATTEMPTS {
        let last = attempt == ATTEMPTS;
        match request().send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body = response.bytes().await.map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null)).unwrap_or(Value::Null);
                let retryable = status == 429 || status >= 500;
                if !retryable || last {
                    return match status {
                        429 => Err(VideoError::Unavailable(format!("{app} is throttling the tenant's app: {}", reason(&body)))),
                        s if s >= 500 => Err(VideoError::Unavailable(format!("{app} answered {s}: {}", reason(&body)))),
                        _ => Ok((status, body)),
                    };
                }
                match retry_after {
                    Some(after) if after > MAX_RETRY_AFTER => {
                        return Err(VideoError::Unavailable(format!("{app} asks to wait {} s", after.as_secs())))
                    }
                    Some(after) => tokio::time::sleep(after).await,
                    None => tokio::time::sleep(wait).await,
                }
            }
            Err(e) if last => return Err(VideoError::Unavailable(format!("{app} did not answer: {e}"))),
            Err(_) => tokio::time::sleep(wait).await,
        }
        wait *= 2;
    }
    Err(VideoError::Unavailable(format!("{app} did not answer")))
}

/// One [`send`] with the app's bearer token (`body` `Null`: none sent); a token the app no
/// longer accepts (401) is fetched again (`token(true)`) and the request made once more.
#[allow(clippy::too_many_arguments)]
pub async fn send_authorized<F, Fut>(
    app: &str,
    backoff: Duration,
    reason: fn(&Value) -> String,
    http: &reqwest::Client,
    method: &reqwest::Method,
    url: &str,
    body: &Value,
    token: F,
) -> Result<(u16, Value), VideoError>
where
    F: Fn(bool) -> Fut,
    Fut: std::future::Future<Output = Result<String, VideoError>>,
{
    let mut answer = (0, Value::Null);
    for fresh in [false, true] {
        let token = token(fresh).await?;
        answer = send(app, backoff, reason, || {
            let request = http.request(method.clone(), url).bearer_auth(&token);
            if body.is_null() {
                request
            } else {
                request.json(body)
            }
        })
        .await?;
        if answer.0 != 401 {
            break;
        }
    }
    Ok(answer)
}

/// Access tokens of the tenants' apps, each kept until a minute before it expires.
#[derive(Default)]
pub struct TokenCache(tokio::sync::Mutex<HashMap<String, (String, Instant)>>);

impl TokenCache {
    pub async fn get(&self, key: &str) -> Option<String> {
        self.0.lock().await.get(key).filter(|(_, until)| Instant::now() < *until).map(|(t, _)| t.clone())
    }

    pub async fn put(&self, key: String, token: String, expires_in: Option<u64>) {
        let lifetime = expires_in.unwrap_or(3600).saturating_sub(60);
        self.0.lock().await.insert(key, (token, Instant::now() + Duration::from_secs(lifetime)));
    }

    /// The token kept under `key` (unless `fresh`), or one `fetch` gets from the app's OAuth
    /// token endpoint (its status and body) and is kept for its `expires_in`; a refusal is
    /// `Rejected`, worded by `refused` from the status and the body.
    pub async fn get_or_fetch<Fut>(
        &self,
        key: String,
        fresh: bool,
        fetch: impl FnOnce() -> Fut,
        refused: impl FnOnce(u16, &Value) -> String,
    ) -> Result<String, VideoError>
    where
        Fut: std::future::Future<Output = Result<(u16, Value), VideoError>>,
    {
        if !fresh {
            if let Some(token) = self.get(&key).await {
                return Ok(token);
            }
        }
        let (status, body) = fetch().await?;
        match (status, body.get("access_token").and_then(Value::as_str)) {
            (200, Some(token)) => {
                self.put(key, token.to_string(), body.get("expires_in").and_then(Value::as_u64)).await;
                Ok(token.to_string())
            }
            _ => Err(VideoError::Rejected(refused(status, &body))),
        }
    }
}

/// A download tried again on 429, 5xx and broken transfers (each try starts the file afresh).
pub async fn download_with_retry(
    app: &str,
    backoff: Duration,
    request: impl Fn() -> reqwest::RequestBuilder,
    max_bytes: u64,
    to: &Path,
) -> Result<u64, DownloadError> {
    let mut wait = backoff;
    for attempt in 1..=ATTEMPTS {
        match stream_to_file(app, request(), max_bytes, to).await {
            Err(DownloadError::Unavailable(why)) if attempt < ATTEMPTS => {
                tracing::info!(attempt, app, reason = %why, "recording download to be tried again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
    Err(DownloadError::Unavailable(format!("{app} did not answer the download")))
}

/// Longest wait for the next part of a download (a stalled transfer is given up, not the slow one).
pub const DOWNLOAD_STALL: Duration = Duration::from_secs(60);

/// Sends `request` and streams the answer's body into `to`, stopping past `max_bytes`; on any
/// failure the partial file is removed. `provider` names the app in errors.
pub async fn stream_to_file(provider: &str, request: reqwest::RequestBuilder, max_bytes: u64, to: &Path) -> Result<u64, DownloadError> {
    use tokio::io::AsyncWriteExt;
    let mut response =
        request.send().await.map_err(|e| DownloadError::Unavailable(format!("{provider} did not answer the download: {e}")))?;
    let status = response.status().as_u16();
    match status {
        200 => {}
        429 | 500..=599 => return Err(DownloadError::Unavailable(format!("{provider} answered the download with {status}"))),
        _ => return Err(DownloadError::Refused(format!("{provider} refused the download ({status})"))),
    }
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(DownloadError::TooLarge { limit: max_bytes });
    }
    let result = async {
        let mut out =
            tokio::fs::File::create(to).await.map_err(|e| DownloadError::Unavailable(format!("cannot write the download: {e}")))?;
        let mut written = 0u64;
        loop {
            let chunk = tokio::time::timeout(DOWNLOAD_STALL, response.chunk())
                .await
                .map_err(|_| DownloadError::Unavailable(format!("the download from {provider} stalled")))?
                .map_err(|e| DownloadError::Unavailable(format!("the download from {provider} broke off: {e}")))?;
            let Some(chunk) = chunk else { break };
            written += chunk.len() as u64;
            if written > max_bytes {
                return Err(DownloadError::TooLarge { limit: max_bytes });
            }
            out.write_all(&chunk).await.map_err(|e| DownloadError::Unavailable(format!("cannot write the download: {e}")))?;
        }
        out.flush().await.map_err(|e| DownloadError::Unavailable(format!("cannot write the download: {e}")))?;
        Ok(written)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(to).await;
    }
    result
}
