//! Video calls: at most one active call per session, between its participants (docs/calls.md).

use serde::{Deserialize, Serialize};

use super::principal::ParticipantRef;

/// A call's video quality preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema, Default)]
pub enum Quality {
    #[default]
    #[serde(rename = "480p")]
    P480,
    #[serde(rename = "720p")]
    P720,
    #[serde(rename = "1080p")]
    P1080,
    #[serde(rename = "4k")]
    K4,
}

impl Quality {
    pub const ALL: [Quality; 4] = [Quality::P480, Quality::P720, Quality::P1080, Quality::K4];

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::P480 => "480p",
            Quality::P720 => "720p",
            Quality::P1080 => "1080p",
            Quality::K4 => "4k",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Active,
    Ended,
}

/// Who runs a call's media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallProvider {
    /// Peer to peer in the browsers, signalled over Confer's WebSocket (confer-local).
    Webrtc,
    /// An Amazon Chime SDK meeting.
    Chime,
    /// A meeting in the tenant's Zoom account, joined in Zoom.
    Zoom,
    /// A Jitsi room, joined in Jitsi.
    Jitsi,
    /// A Microsoft Teams online meeting, joined in Teams.
    Teams,
    /// A Google Meet space, joined in Meet.
    Meet,
}

impl CallProvider {
    /// The customer's own video app the call runs in, if it is one.
    pub fn external(self) -> Option<super::provider::ExternalProvider> {
        match self {
            CallProvider::Zoom => Some(super::provider::ExternalProvider::Zoom),
            CallProvider::Jitsi => Some(super::provider::ExternalProvider::Jitsi),
            CallProvider::Teams => Some(super::provider::ExternalProvider::Teams),
            CallProvider::Meet => Some(super::provider::ExternalProvider::Meet),
            CallProvider::Webrtc | CallProvider::Chime => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallProvider::Webrtc => "webrtc",
            CallProvider::Chime => "chime",
            CallProvider::Zoom => "zoom",
            CallProvider::Jitsi => "jitsi",
            CallProvider::Teams => "teams",
            CallProvider::Meet => "meet",
        }
    }
}

impl From<super::provider::ExternalProvider> for CallProvider {
    fn from(p: super::provider::ExternalProvider) -> Self {
        match p {
            super::provider::ExternalProvider::Zoom => CallProvider::Zoom,
            super::provider::ExternalProvider::Jitsi => CallProvider::Jitsi,
            super::provider::ExternalProvider::Teams => CallProvider::Teams,
            super::provider::ExternalProvider::Meet => CallProvider::Meet,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallParticipant {
    pub who: ParticipantRef,
    #[schema(format = DateTime)]
    pub joined_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub left_at: Option<String>,
}

/// A call as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Call {
    #[schema(value_type = super::CallId)]
    pub id: String,
    #[schema(value_type = super::SessionId)]
    pub session_id: String,
    pub provider: CallProvider,
    pub state: CallState,
    pub quality: Quality,
    /// The highest preset this call allows (a Chime meeting's features are fixed at creation).
    pub max_quality: Quality,
    pub started_by: ParticipantRef,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[serde(default)]
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub duration_seconds: Option<u64>,
    /// Everyone who joined, in the order they first joined; `left_at` once they left.
    pub participants: Vec<CallParticipant>,
    /// Set while the call is being recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<super::recording::CallRecording>,
    /// For a call in the customer's own video app: the meeting's link (each person's own, with
    /// their token where the app uses one, comes with their join).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

/// What a browser needs to take part in the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum JoinInfo {
    Webrtc {
        ice_servers: Vec<IceServer>,
        /// Participants in the call now: the newcomer sends each an offer.
        peers: Vec<ParticipantRef>,
    },
    Chime {
        /// Chime's `Meeting`, for `MeetingSessionConfiguration`.
        #[schema(value_type = Object)]
        meeting: serde_json::Value,
        /// Chime's `Attendee` of the caller (with its join token).
        #[schema(value_type = Object)]
        attendee: serde_json::Value,
    },
    /// Joined in Zoom: open the link.
    Zoom { join_url: String },
    /// Joined in Jitsi: open the link (it carries the caller's token where the server checks tokens).
    Jitsi { join_url: String },
    /// Joined in Microsoft Teams: open the link.
    Teams { join_url: String },
    /// Joined in Google Meet: open the link.
    Meet { join_url: String },
}

/// A STUN or TURN server, in `RTCIceServer`'s shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallWithJoin {
    pub call: Call,
    pub join: JoinInfo,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    #[serde(default)]
    pub quality: Option<Quality>,
    /// Where the call runs: Confer's own video (`integrated`) or one of the tenant's enabled
    /// video apps; the tenant's default when absent.
    #[serde(default)]
    pub provider: Option<super::provider::CallApp>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallPatch {
    pub quality: Quality,
}

/// What a `call` message in the session's history says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallSummary {
    #[schema(value_type = super::CallId)]
    pub call_id: String,
    /// `started`, `ended`, `recording_started` or `recording_stopped`.
    pub event: String,
    pub quality: Quality,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
    /// Who took part (for `ended`), or who started it.
    pub participants: Vec<ParticipantRef>,
    /// Who started or stopped the recording (`recording_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<ParticipantRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::RecordingId>)]
    pub recording_id: Option<String>,
    /// For a call in the customer's own video app (`started`): the app and the meeting's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<super::provider::ExternalProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
}

/// Seconds between two timestamps Confer wrote (`YYYY-MM-DDTHH:MM:SS.mmmZ`), never negative.
pub fn seconds_between(from: &str, to: &str) -> u64 {
    let parse = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
    match (parse(from), parse(to)) {
        (Some(a), Some(b)) => (b - a).whole_seconds().max(0) as u64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_read_and_write_as_their_names_and_order_by_size() {
        for q in Quality::ALL {
            assert_eq!(serde_json::to_value(q).unwrap(), q.as_str());
            assert_eq!(serde_json::from_value::<Quality>(q.as_str().into()).unwrap(), q);
        }
        assert!(serde_json::from_value::<Quality>("8k".into()).is_err());
        assert!(Quality::P480 < Quality::P720 && Quality::P1080 < Quality::K4);
        assert_eq!(Quality::default(), Quality::P480);
    }

    #[test]
    fn durations_come_from_the_stored_times() {
        assert_eq!(seconds_between("2026-12-04T10:00:00.000Z", "2026-12-04T10:03:12.500Z"), 192);
        assert_eq!(seconds_between("2026-12-04T10:00:00.000Z", "2026-12-04T09:00:00.000Z"), 0);
    }
}
