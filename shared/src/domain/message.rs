//! Chat messages.

use serde::{Deserialize, Serialize};

use super::limits::*;
use super::principal::ParticipantRef;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Text,
    Image,
    Audio,
    File,
    /// A video call started or ended (`call` says which); not sent by clients.
    Call,
}

impl From<crate::media::MediaKind> for MessageKind {
    fn from(k: crate::media::MediaKind) -> Self {
        match k {
            crate::media::MediaKind::Image => MessageKind::Image,
            crate::media::MediaKind::Audio => MessageKind::Audio,
            crate::media::MediaKind::File => MessageKind::File,
        }
    }
}

/// The media of an `image`, `audio` or `file` message. URLs are signed when the message is
/// read or delivered, valid for a limited time (`urls_expire_at`); they are never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageAttachment {
    pub id: String,
    pub file_name: String,
    /// The type verified from the bytes.
    pub content_type: String,
    pub size: u64,
    #[serde(flatten)]
    pub media: crate::domain::attachment::MediaInfo,
    #[serde(flatten)]
    pub urls: crate::domain::attachment::DownloadUrls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    #[schema(value_type = super::MessageId)]
    pub id: String,
    #[schema(value_type = super::SessionId)]
    pub session_id: String,
    /// Position in the session's one order: 1 for its first message, then each committed
    /// message exactly one more. History is ordered by it; a client that holds every number up
    /// to N has missed nothing up to N.
    #[schema(minimum = 1)]
    pub seq: u64,
    pub sender: ParticipantRef,
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    pub client_message_id: String,
    pub kind: MessageKind,
    /// The text; for media, the caption (possibly empty).
    #[schema(max_length = 4000)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<MessageAttachment>,
    /// For `call` messages: the call this entry records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::domain::call::CallSummary>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// Validates chat text: not blank, at most [`MAX_TEXT_CHARS`] characters, no control characters
/// other than line breaks and tabs.
pub fn validate_text(text: &str) -> Result<String, AppError> {
    if text.trim().is_empty() {
        return Err(AppError::validation("text must not be empty"));
    }
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(AppError::validation(format!("text has {n} characters; the limit is {MAX_TEXT_CHARS}")));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(AppError::validation("text must not contain control characters"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(validate_text("hello\nworld").is_ok());
        assert!(validate_text("   ").is_err());
        assert!(validate_text(&"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(validate_text(&"é".repeat(MAX_TEXT_CHARS + 1)).is_err());
        assert!(validate_text("bell\u{7}").is_err());
    }
}
