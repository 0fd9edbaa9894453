//! Meetings in the customer's own video app (Zoom, Jitsi): created for a session's call with the
//! tenant's credentials, joined by a link, ended with the call.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::provider::ProviderCredentials;
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

#[async_trait]
pub trait MeetingApps: Send + Sync + 'static {
    /// Creates the meeting of `call`, titled `topic`. Nothing is left behind when it fails.
    async fn create(&self, credentials: &ProviderCredentials, call: &CallRef, topic: &str) -> Result<ExternalMeeting, VideoError>;
    /// The link `who` joins by (the meeting's own, or one carrying a token naming them).
    fn join_url(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting, who: &Attendee) -> Result<String, VideoError>;
    /// Ends the meeting for everyone; one already over is not an error.
    async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError>;
}
