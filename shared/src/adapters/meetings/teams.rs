//! Microsoft Teams, through Microsoft Graph with application credentials: an access token from
//! `POST {login}/{directory}/oauth2/v2.0/token` (`grant_type=client_credentials`, scope
//! `https://graph.microsoft.com/.default`), kept until a minute before it expires; meetings
//! created with `POST /users/{organizer}/onlineMeetings` (`OnlineMeetings.ReadWrite.All`, and an
//! application access policy granted to the organizer). Where Confer has a public address, each
//! meeting gets a change notification subscription to its recordings (`POST /subscriptions`,
//! resource `communications/onlineMeetings/{id}/recordings`, `OnlineMeetingRecording.Read.All`),
//! whose `clientState` is an HMAC of the tenant and meeting under the app's secret; a meeting
//! whose subscription Graph refuses is deleted again. Recordings are fetched from
//! `GET /users/{organizer}/onlineMeetings/{id}/recordings/{recording}/content`. Graph offers no
//! way to end an online meeting for everyone: a Teams meeting ends when its last attendee leaves.
//! Throttling (429, `Retry-After`) and 5xx are tried again; refusals name Teams and Graph's reason.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{clients, download_with_retry, send, TokenCache};
use crate::domain::provider::ProviderCredentials;
use crate::ports::meetings::{DownloadError, ExternalMeeting, MeetingReport, ProviderFile};
use crate::ports::video::VideoError;

pub const LOGIN_URL: &str = "https://login.microsoftonline.com";
pub const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
pub const ENV_LOGIN_URL: &str = "CONFER_TEAMS_LOGIN_URL";
pub const ENV_GRAPH_URL: &str = "CONFER_TEAMS_GRAPH_URL";
/// How long a meeting is booked for (Teams keeps its link working after that).
const MEETING_MINUTES: i64 = 60;
/// How long a recording subscription lasts (Graph allows at most 4230 minutes for this resource).
const SUBSCRIPTION_MINUTES: i64 = 4200;

pub struct Teams {
    login_url: String,
    graph_url: String,
    /// Confer's public address, where Graph sends notifications (`None`: no subscriptions).
    public_url: Option<String>,
    http: reqwest::Client,
    downloads: reqwest::Client,
    tokens: TokenCache,
    backoff: Duration,
}

struct App<'a> {
    directory_id: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    organizer: &'a str,
}

fn app(credentials: &ProviderCredentials) -> Result<App<'_>, VideoError> {
    match credentials {
        ProviderCredentials::Teams { directory_id, client_id, client_secret, organizer_user_id } => {
            Ok(App { directory_id, client_id, client_secret, organizer: organizer_user_id })
        }
        _ => Err(VideoError::Rejected("not Teams credentials".into())),
    }
}

/// Graph's `{"error": {"code", "message"}}`, or the identity platform's `error_description`.
fn reason(body: &Value) -> String {
    body.pointer("/error/message")
        .or_else(|| body.get("error_description"))
        .or_else(|| body.pointer("/error/code"))
        .or_else(|| body.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_string()
}

impl Teams {
    pub fn new(login_url: &str, graph_url: &str, public_url: Option<&str>) -> Self {
        let (http, downloads) = clients();
        Teams {
            login_url: login_url.trim_end_matches('/').to_string(),
            graph_url: graph_url.trim_end_matches('/').to_string(),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
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

    async fn token(&self, app: &App<'_>, fresh: bool) -> Result<String, VideoError> {
        let url = format!("{}/{}/oauth2/v2.0/token", self.login_url, app.directory_id);
        let form = [
            ("client_id", app.client_id),
            ("client_secret", app.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ];
        let fetch = || send("Microsoft Teams", self.backoff, reason, || self.http.post(&url).form(&form));
        let refused = |status, body: &Value| {
            format!(
                "Microsoft Teams refused the tenant's app credentials ({status}: {}); check the directory id, client id and secret",
                reason(body)
            )
        };
        self.tokens.get_or_fetch(format!("{}:{}", app.directory_id, app.client_id), fresh, fetch, refused).await
    }

    async fn graph(&self, credentials: &ProviderCredentials, method: Method, path: &str, body: Value) -> Result<(u16, Value), VideoError> {
        let app = app(credentials)?;
        let url = format!("{}{path}", self.graph_url);
        let token = |fresh| self.token(&app, fresh);
        super::send_authorized("Microsoft Teams", self.backoff, reason, &self.http, &method, &url, &body, token).await
    }

    pub async fn create(&self, credentials: &ProviderCredentials, tenant: &str, topic: &str) -> Result<ExternalMeeting, VideoError> {
        let organizer = app(credentials)?.organizer.to_string();
        let now = time::OffsetDateTime::now_utc();
        let body = json!({
            "subject": topic,
            "startDateTime": rfc3339(now),
            "endDateTime": rfc3339(now + time::Duration::minutes(MEETING_MINUTES)),
            // The customer comes from outside the organisation: straight in, no lobby.
            "lobbyBypassSettings": { "scope": "everyone", "isDialInBypassEnabled": true },
            "allowRecording": true,
        });
        let (status, answer) = self.graph(credentials, Method::POST, &format!("/users/{organizer}/onlineMeetings"), body).await?;
        let id = answer.get("id").and_then(Value::as_str);
        let join_url = answer.get("joinWebUrl").and_then(Value::as_str);
        let meeting = match (status, id, join_url) {
            (200 | 201, Some(id), Some(url)) => ExternalMeeting { external_id: id.to_string(), join_url: url.to_string(), room: None },
            (200 | 201, ..) => return Err(VideoError::Unavailable("Microsoft Teams created a meeting without an id or join link".into())),
            (403, ..) => {
                return Err(VideoError::Rejected(format!(
                    "Microsoft Teams refused to create the meeting (403: {}); the organizer needs an application access policy granting the app",
                    reason(&answer)
                )))
            }
            (s, ..) => return Err(VideoError::Rejected(format!("Microsoft Teams refused to create the meeting ({s}: {})", reason(&answer)))),
        };
        if let Some(public) = &self.public_url {
            if let Err(e) = self.subscribe(credentials, tenant, &meeting.external_id, public).await {
                // Nothing half-created: the meeting goes again.
                let path = format!("/users/{organizer}/onlineMeetings/{}", meeting.external_id);
                if let Err(gone) = self.graph(credentials, Method::DELETE, &path, Value::Null).await {
                    tracing::warn!(error = %gone, "a Teams meeting whose subscription failed could not be deleted");
                }
                return Err(e);
            }
        }
        Ok(meeting)
    }

    /// Graph notifies Confer of the meeting's recordings (it first checks that Confer's webhook
    /// echoes its validation token).
    async fn subscribe(&self, credentials: &ProviderCredentials, tenant: &str, meeting_id: &str, public: &str) -> Result<(), VideoError> {
        let resource = format!("communications/onlineMeetings/{meeting_id}/recordings");
        let refused = ("the meeting's recordings", "OnlineMeetingRecording.Read.All");
        self.subscribe_to(credentials, tenant, public, &resource, meeting_id, refused).await
    }

    /// Graph notifies Confer of the organisation's call records (a record is written once a
    /// call ends: who took part, when), for the meetings' end and attendees. A no-op without a
    /// public address.
    pub async fn watch_call_records(&self, credentials: &ProviderCredentials, tenant: &str) -> Result<(), VideoError> {
        let Some(public) = &self.public_url else { return Ok(()) };
        let refused = ("call records", "CallRecords.Read.All");
        self.subscribe_to(credentials, tenant, public, CALL_RECORDS, CALL_RECORDS, refused).await
    }

    /// One change notification subscription to `resource` (`created` changes), its
    /// `clientState` bound to the tenant and `scope`; `refused` names what Confer would be told
    /// of and the permission the app then lacks.
    async fn subscribe_to(
        &self,
        credentials: &ProviderCredentials,
        tenant: &str,
        public: &str,
        resource: &str,
        scope: &str,
        (what, permission): (&str, &str),
    ) -> Result<(), VideoError> {
        let App { client_secret, .. } = app(credentials)?;
        let url = format!("{public}/v1/webhooks/teams/{tenant}");
        let body = json!({
            "changeType": "created",
            "notificationUrl": url,
            "lifecycleNotificationUrl": url,
            "resource": resource,
            "includeResourceData": false,
            "expirationDateTime": rfc3339(time::OffsetDateTime::now_utc() + time::Duration::minutes(SUBSCRIPTION_MINUTES)),
            "clientState": client_state(client_secret, tenant, scope),
        });
        let (status, answer) = self.graph(credentials, Method::POST, "/subscriptions", body).await?;
        match status {
            200 | 201 => Ok(()),
            s => Err(VideoError::Rejected(format!(
                "Microsoft Teams refused to notify Confer of {what} ({s}: {}); the app needs {permission}",
                reason(&answer)
            ))),
        }
    }

    /// Extends a subscription Graph asks to have reauthorized.
    pub async fn renew(&self, credentials: &ProviderCredentials, subscription_id: &str) -> Result<(), VideoError> {
        let body = json!({
            "expirationDateTime": rfc3339(time::OffsetDateTime::now_utc() + time::Duration::minutes(SUBSCRIPTION_MINUTES)),
        });
        let (status, answer) = self.graph(credentials, Method::PATCH, &format!("/subscriptions/{subscription_id}"), body).await?;
        match status {
            200..=299 => Ok(()),
            s => Err(VideoError::Rejected(format!("Microsoft Teams refused to renew a subscription ({s}: {})", reason(&answer)))),
        }
    }

    /// A call record: the online meeting it was (found by its join link) and who took part.
    pub async fn call_record(&self, credentials: &ProviderCredentials, record_id: &str) -> Result<Option<MeetingReport>, VideoError> {
        let (status, record) =
            self.graph(credentials, Method::GET, &format!("/communications/callRecords/{record_id}"), Value::Null).await?;
        match status {
            200 => {}
            404 => return Ok(None),
            s => return Err(VideoError::Rejected(format!("Microsoft Teams refused to read a call record ({s}: {})", reason(&record)))),
        }
        let Some(join_url) = record.get("joinWebUrl").and_then(Value::as_str) else { return Ok(None) };
        let organizer = app(credentials)?.organizer.to_string();
        let filter = format!("JoinWebUrl eq '{}'", join_url.replace('\'', "''"));
        let path = format!("/users/{organizer}/onlineMeetings?$filter={}", urlencoding(&filter));
        let (status, found) = self.graph(credentials, Method::GET, &path, Value::Null).await?;
        if status != 200 {
            return Err(VideoError::Rejected(format!("Microsoft Teams refused to find the meeting ({status}: {})", reason(&found))));
        }
        let Some(meeting_id) = found.pointer("/value/0/id").and_then(Value::as_str) else { return Ok(None) };
        let participants = record
            .get("participants")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(|p| {
                        ["user", "guest", "phone", "application"]
                            .iter()
                            .find_map(|kind| p.pointer(&format!("/{kind}/displayName")).and_then(Value::as_str))
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(MeetingReport {
            meeting_id: meeting_id.to_string(),
            started_at: record.get("startDateTime").and_then(Value::as_str).map(str::to_string),
            ended_at: record.get("endDateTime").and_then(Value::as_str).map(str::to_string),
            participants,
        }))
    }

    /// A recording's content, with the app's token.
    pub async fn download(
        &self,
        credentials: &ProviderCredentials,
        file: &ProviderFile,
        max_bytes: u64,
        to: &std::path::Path,
    ) -> Result<u64, DownloadError> {
        let token =
            self.token(&app(credentials).map_err(|e| DownloadError::Refused(e.to_string()))?, false).await.map_err(|e| match e {
                VideoError::Rejected(why) => DownloadError::Refused(why),
                other => DownloadError::Unavailable(other.to_string()),
            })?;
        download_with_retry("Microsoft Teams", self.backoff, || self.downloads.get(&file.download_url).bearer_auth(&token), max_bytes, to)
            .await
    }

    /// Where a recording of `meeting_id` is fetched from.
    pub fn recording_url(&self, credentials: &ProviderCredentials, meeting_id: &str, recording_id: &str) -> Option<String> {
        let App { organizer, .. } = app(credentials).ok()?;
        Some(format!("{}/users/{organizer}/onlineMeetings/{meeting_id}/recordings/{recording_id}/content", self.graph_url))
    }
}

/// The organisation's call records, as a subscription's resource (and `clientState` scope).
pub const CALL_RECORDS: &str = "communications/callRecords";

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The `clientState` of a meeting's subscription: only Graph, told it at subscription, and
/// Confer, holding the app's secret, know it.
pub fn client_state(client_secret: &str, tenant: &str, meeting_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("confer-teams:{tenant}:{meeting_id}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The meeting and recording a notification's `resource` names:
/// `communications/onlineMeetings('{meeting}')/recordings('{recording}')` (or with slashes).
pub fn recording_resource(resource: &str) -> Option<(String, String)> {
    let rest = resource.trim_start_matches('/').strip_prefix("communications/onlineMeetings")?;
    let (meeting, rest) = part(rest)?;
    let rest = rest.strip_prefix("/recordings")?;
    let (recording, rest) = part(rest)?;
    (rest.is_empty() && !meeting.is_empty() && !recording.is_empty()).then_some((meeting, recording))
}

fn part(s: &str) -> Option<(String, &str)> {
    if let Some(r) = s.strip_prefix("('") {
        let end = r.find("')")?;
        Some((r[..end].to_string(), &r[end + 2..]))
    } else {
        let r = s.strip_prefix('/')?;
        let end = r.find('/').unwrap_or(r.len());
        Some((r[..end].to_string(), &r[end..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_resources_name_the_meeting_and_the_recording() {
        assert_eq!(
            recording_resource("communications/onlineMeetings('MSo1N2Y5')/recordings('VjEj')"),
            Some(("MSo1N2Y5".into(), "VjEj".into()))
        );
        assert_eq!(recording_resource("communications/onlineMeetings/MSo1N2Y5/recordings/VjEj"), Some(("MSo1N2Y5".into(), "VjEj".into())));
        assert_eq!(recording_resource("communications/onlineMeetings('MSo1N2Y5')/transcripts('VjEj')"), None);
        assert_eq!(recording_resource("users/x/onlineMeetings('a')/recordings('b')"), None);
        assert_eq!(client_state("secret", "acme", "m1").len(), 64);
        assert_ne!(client_state("secret", "acme", "m1"), client_state("secret", "globex", "m1"));
    }
}
