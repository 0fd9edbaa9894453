//! The WebSocket protocol (docs/asyncapi.yaml): client actions in, frames out.

use serde::{Deserialize, Serialize};

use crate::domain::message::Message;
use crate::domain::ParticipantRef;
use crate::error::AppError;

/// Subprotocol a client may request; the token may ride along as `bearer.<jwt>`.
pub const SUBPROTOCOL: &str = "confer.v1";
pub const BEARER_PROTOCOL_PREFIX: &str = "bearer.";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendAction {
    pub action: String,
    pub session_id: String,
    pub client_message_id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AckAction {
    pub action: String,
    pub session_id: String,
    /// Every message of the session up to this sequence number has been received.
    pub up_to_seq: u64,
}

/// `read`: the caller has seen every message up to `up_to_seq`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadAction {
    pub action: String,
    pub session_id: String,
    pub up_to_seq: u64,
}

/// `typing`: the caller is typing in the session (relayed, never stored).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingAction {
    pub action: String,
    pub session_id: String,
}

/// `signal`: WebRTC signalling for the session's call (local runtime), relayed to `to` only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalAction {
    pub action: String,
    pub session_id: String,
    pub to: ParticipantRef,
    pub kind: SignalKind,
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    Offer,
    Answer,
    Candidate,
    Hangup,
    /// A participant who has not joined turns the call down (to its caller).
    Decline,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// A new message in one of the recipient's sessions.
    Message {
        message: Message,
    },
    /// The sender's message is stored; `duplicate` when this was a resend of a stored message.
    Ack {
        client_message_id: String,
        message: Message,
        duplicate: bool,
    },
    /// A participant received (`delivered`) or has seen (`read`) every message up to `up_to_seq`.
    Receipt {
        session_id: String,
        participant: ParticipantRef,
        status: String,
        up_to_seq: u64,
    },
    /// Another participant is typing.
    Typing {
        session_id: String,
        participant: ParticipantRef,
    },
    /// Another participant of the session came online (their first connection) or went offline
    /// (their last one closed).
    Presence {
        session_id: String,
        participant: ParticipantRef,
        online: bool,
    },
    /// A session the recipient takes part in was opened or closed.
    Session {
        session: crate::app::sessions::SessionListItem,
    },
    /// A recording of the session's calls changed (to the session's agents): it became
    /// available, failed, or its transcript changed state.
    Recording {
        session_id: String,
        recording: crate::domain::recording::Recording,
    },
    /// The session's call changed: `started`, `joined`, `left`, `ended`, `quality`,
    /// `recording_started` or `recording_stopped`.
    Call {
        event: String,
        session_id: String,
        call: crate::domain::call::Call,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<ParticipantRef>,
    },
    /// Signalling from another participant of the call.
    Signal {
        session_id: String,
        call_id: String,
        from: ParticipantRef,
        kind: SignalKind,
        data: serde_json::Map<String, serde_json::Value>,
    },
    /// An announcement arrived in the recipient's inbox (customers).
    Announcement {
        announcement: crate::domain::announcement::InboxEntry,
    },
    Pong,
    Error {
        code: String,
        message: String,
        /// The refused frame's `client_message_id`, or a refused upload's `client_upload_id`.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_message_id: Option<String>,
        /// A refused upload (`attachment_rejected`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment_id: Option<String>,
    },
}

impl ServerFrame {
    pub fn error(e: &AppError, client_message_id: Option<String>) -> Self {
        ServerFrame::Error { code: e.code().to_string(), message: e.public_message(), client_message_id, attachment_id: None }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The action named by a frame, as API Gateway's route selection `$request.body.action` sees it.
pub fn route_key_of(body: &str) -> &'static str {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        action: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_str::<Probe>(body).ok().and_then(|p| p.action) {
        Some(a) if a == "send" => "send",
        Some(a) if a == "ack" => "ack",
        Some(a) if a == "read" => "read",
        Some(a) if a == "typing" => "typing",
        Some(a) if a == "signal" => "signal",
        _ => "$default",
    }
}

/// Pulls a client message id out of a frame that failed validation, so the error can name it.
pub fn client_message_id_of(body: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("client_message_id")?
        .as_str()
        .map(|s| s.chars().take(crate::domain::limits::MAX_CLIENT_MESSAGE_ID).collect())
}
