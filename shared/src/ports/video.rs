//! Video: the media side of a session's call. Locally peer-to-peer WebRTC (Confer relays the
//! signalling itself); in the cloud Amazon Chime SDK meetings.

use async_trait::async_trait;

use crate::domain::call::{CallProvider, JoinInfo, Quality};
use crate::domain::ParticipantRef;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VideoError {
    #[error("this deployment has no video calls")]
    NotAvailable,
    /// The provider refused the request as invalid (never retried).
    #[error("{0}")]
    Rejected(String),
    /// The provider's meeting is gone (ended by itself or by someone else).
    #[error("the meeting has ended")]
    Gone,
    /// Busy or briefly unavailable: worth retrying.
    #[error("video provider unavailable: {0}")]
    Unavailable(String),
}

/// The call a provider request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRef {
    pub tenant: String,
    pub session_id: String,
    pub call_id: String,
}

/// A new call's provider side: its meeting (kept with the call) and the starter's join.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub meeting: Option<serde_json::Value>,
    /// The provider's own meeting id, where its events name the meeting by it.
    pub external_id: Option<String>,
    pub join: JoinInfo,
}

#[async_trait]
pub trait VideoProvider: Send + Sync + 'static {
    fn provider(&self) -> CallProvider;
    /// The highest preset a call started at `start` can reach.
    fn max_quality(&self, start: Quality) -> Quality;
    async fn create(&self, call: &CallRef, quality: Quality, starter: &ParticipantRef) -> Result<Created, VideoError>;
    /// The join information of `who` (`peers`: who is in the call now).
    async fn join(
        &self,
        meeting: Option<&serde_json::Value>,
        who: &ParticipantRef,
        peers: Vec<ParticipantRef>,
    ) -> Result<JoinInfo, VideoError>;
    /// Ends the provider's meeting; one already gone is not an error.
    async fn end(&self, meeting: Option<&serde_json::Value>) -> Result<(), VideoError>;
}

/// The video port of a runtime without calls.
pub struct NoVideo;

#[async_trait]
impl VideoProvider for NoVideo {
    fn provider(&self) -> CallProvider {
        CallProvider::Webrtc
    }
    fn max_quality(&self, start: Quality) -> Quality {
        start
    }
    async fn create(&self, _: &CallRef, _: Quality, _: &ParticipantRef) -> Result<Created, VideoError> {
        Err(VideoError::NotAvailable)
    }
    async fn join(&self, _: Option<&serde_json::Value>, _: &ParticipantRef, _: Vec<ParticipantRef>) -> Result<JoinInfo, VideoError> {
        Err(VideoError::NotAvailable)
    }
    async fn end(&self, _: Option<&serde_json::Value>) -> Result<(), VideoError> {
        Err(VideoError::NotAvailable)
    }
}
