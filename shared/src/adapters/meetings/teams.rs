//! Microsoft Teams, through Microsoft Graph with application credentials: an access token from
//! `POST {login}/{directory}/oauth2/v2.0/token` (`grant_type=client_credentials`, scope
//! `https://graph.microsoft.com/.default`), kept until a minute before it expires; meetings
//! created with `POST /users/{organizer}/onlineMeetings` (`OnlineMeetings.ReadWrite.All`, and an
//! application access policy granted to the organizer). Graph offers no way to end an online
//! meeting for everyone: a Teams meeting ends when its last attendee leaves. Throttling (429,
//! `Retry-After`) and 5xx are tried again; refusals name Teams and Graph's reason.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use super::{clients, send, TokenCache};
use crate::domain::provider::ProviderCredentials;
use crate::ports::meetings::ExternalMeeting;
use crate::ports::video::VideoError;

pub const LOGIN_URL: &str = "https://login.microsoftonline.com";
pub const GRAPH_URL: &str = "https://graph.microsoft.com/v1.0";
pub const ENV_LOGIN_URL: &str = "CONFER_TEAMS_LOGIN_URL";
pub const ENV_GRAPH_URL: &str = "CONFER_TEAMS_GRAPH_URL";
/// How long a meeting is booked for (Teams keeps its link working after that).
const MEETING_MINUTES: i64 = 60;

pub struct Teams {
    login_url: String,
    graph_url: String,
    http: reqwest::Client,
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
    pub fn new(login_url: &str, graph_url: &str) -> Self {
        Teams {
            login_url: login_url.trim_end_matches('/').to_string(),
            graph_url: graph_url.trim_end_matches('/').to_string(),
            http: clients().0,
            tokens: TokenCache::default(),
            backoff: Duration::from_millis(500),
        }
    }

    async fn token(&self, app: &App<'_>, fresh: bool) -> Result<String, VideoError> {
        let key = format!("{}:{}", app.directory_id, app.client_id);
        if !fresh {
            if let Some(token) = self.tokens.get(&key).await {
                return Ok(token);
            }
        }
        let url = format!("{}/{}/oauth2/v2.0/token", self.login_url, app.directory_id);
        let form = [
            ("client_id", app.client_id),
            ("client_secret", app.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ];
        let (status, body) = send("Microsoft Teams", self.backoff, reason, || self.http.post(&url).form(&form)).await?;
        match (status, body.get("access_token").and_then(Value::as_str)) {
            (200, Some(token)) => {
                self.tokens.put(key, token.to_string(), body.get("expires_in").and_then(Value::as_u64)).await;
                Ok(token.to_string())
            }
            _ => Err(VideoError::Rejected(format!(
                "Microsoft Teams refused the tenant's app credentials ({status}: {}); check the directory id, client id and secret",
                reason(&body)
            ))),
        }
    }

    async fn graph(&self, credentials: &ProviderCredentials, method: Method, path: &str, body: Value) -> Result<(u16, Value), VideoError> {
        let app = app(credentials)?;
        let url = format!("{}{path}", self.graph_url);
        for fresh in [false, true] {
            let token = self.token(&app, fresh).await?;
            let (status, answer) =
                send("Microsoft Teams", self.backoff, reason, || self.http.request(method.clone(), &url).bearer_auth(&token).json(&body))
                    .await?;
            if status == 401 && !fresh {
                continue;
            }
            return Ok((status, answer));
        }
        unreachable!("the loop returns on its second pass")
    }

    pub async fn create(&self, credentials: &ProviderCredentials, topic: &str) -> Result<ExternalMeeting, VideoError> {
        let organizer = app(credentials)?.organizer.to_string();
        let now = time::OffsetDateTime::now_utc();
        let at = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let body = json!({
            "subject": topic,
            "startDateTime": at(now),
            "endDateTime": at(now + time::Duration::minutes(MEETING_MINUTES)),
            // The customer comes from outside the organisation: straight in, no lobby.
            "lobbyBypassSettings": { "scope": "everyone", "isDialInBypassEnabled": true },
            "allowRecording": true,
        });
        let (status, answer) = self.graph(credentials, Method::POST, &format!("/users/{organizer}/onlineMeetings"), body).await?;
        let id = answer.get("id").and_then(Value::as_str);
        let join_url = answer.get("joinWebUrl").and_then(Value::as_str);
        match (status, id, join_url) {
            (200 | 201, Some(id), Some(url)) => Ok(ExternalMeeting { external_id: id.to_string(), join_url: url.to_string(), room: None }),
            (200 | 201, ..) => Err(VideoError::Unavailable("Microsoft Teams created a meeting without an id or join link".into())),
            (403, ..) => Err(VideoError::Rejected(format!(
                "Microsoft Teams refused to create the meeting (403: {}); the organizer needs an application access policy granting the app",
                reason(&answer)
            ))),
            (s, ..) => Err(VideoError::Rejected(format!("Microsoft Teams refused to create the meeting ({s}: {})", reason(&answer)))),
        }
    }
}
