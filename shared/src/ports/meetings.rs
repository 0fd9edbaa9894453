//! Meetings in the customer's own video app (Zoom, Jitsi): created for a session's call with the
//! tenant's credentials, joined by a link, ended with the call.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::ports::video::{CallRef, VideoError};

/// A meeting in a provider's app, as Confer keeps it with the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalMeeting {
    /// The provider's id of the meeting (what its webhooks name).
    pub external_id: String,
    /// The link anyone in the session joins by (posted in the chat).
    pub join_url: String,
    /// Jitsi's room name (joining with a token names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// Who is joining, for a provider that names its attendees (a Jitsi token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    pub id: String,
    pub name: String,
    /// Agents host; customers attend.
    pub host: bool,
}

/// A file of a finished recording, in the provider's storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderFile {
    /// The provider's id of the file.
    pub id: String,
    pub download_url: String,
    /// `m4a`, `mp4`, … (lower case).
    pub extension: String,
    /// The size the provider announced (downloads stop past the limit whatever it says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Whose voice the file holds, as the provider names them (a participant's own audio);
    /// `None` for everyone's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// When the file begins, after the recording's first file begins.
    #[serde(default)]
    pub offset_ms: u64,
}

/// What an app reports of a meeting once it has ended (a Teams call record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingReport {
    /// The app's id of the meeting.
    pub meeting_id: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// Who took part, by the names the app shows.
    pub participants: Vec<String>,
}

/// Why a download did not complete.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DownloadError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The provider refused (its authorisation expired, the file is gone): never retried.
    #[error("{0}")]
    Refused(String),
    /// Worth another try later.
    #[error("{0}")]
    Unavailable(String),
}

#[async_trait]
pub trait MeetingApps: Send + Sync + 'static {
    /// Creates the meeting of `call`, titled `topic`. Nothing is left behind when it fails.
    async fn create(&self, credentials: &ProviderCredentials, call: &CallRef, topic: &str) -> Result<ExternalMeeting, VideoError>;
    /// The link `who` joins by (the meeting's own, or one carrying a token naming them).
    fn join_url(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting, who: &Attendee) -> Result<String, VideoError>;
    /// Ends the meeting for everyone; one already over is not an error.
    async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError>;
    /// After a tenant connects the app: what it reports organisation-wide is sent to Confer
    /// (Teams: call records). Nothing for most apps.
    async fn watch(&self, _credentials: &ProviderCredentials, _tenant: &str) -> Result<(), VideoError> {
        Ok(())
    }
    /// Extends a notification subscription the app asks to have renewed.
    async fn renew(&self, _credentials: &ProviderCredentials, _subscription: &str) -> Result<(), VideoError> {
        Ok(())
    }
    /// What the app reports of an ended meeting, by the id its notification gave.
    async fn meeting_report(&self, _credentials: &ProviderCredentials, _id: &str) -> Result<Option<MeetingReport>, VideoError> {
        Ok(None)
    }
    /// Where the provider serves a recording its notification named by id only (Teams).
    fn recording_url(&self, _credentials: &ProviderCredentials, _meeting_id: &str, _recording_id: &str) -> Option<String> {
        None
    }
    /// Where the provider keeps a recording it announced by name (Meet: a Drive file).
    async fn recording_file(&self, _credentials: &ProviderCredentials, _recording: &str) -> Result<Option<String>, VideoError> {
        Ok(None)
    }
    /// Whether a pushed notification's bearer token is the provider's, for these credentials
    /// (Meet's Pub/Sub push); why not otherwise.
    async fn verify_push(&self, _credentials: &ProviderCredentials, _token: &str) -> Result<(), String> {
        Err("this app does not push events".into())
    }
    /// Streams a recording file into `to`, at most `max_bytes`, with the provider's download
    /// authorisation (`grant`: the one its notification carried) or else the tenant's
    /// credentials. Answers the bytes written; nothing is left in `to` on failure.
    async fn download(
        &self,
        provider: ExternalProvider,
        credentials: Option<&ProviderCredentials>,
        file: &ProviderFile,
        grant: Option<&str>,
        max_bytes: u64,
        to: &std::path::Path,
    ) -> Result<u64, DownloadError>;
}
