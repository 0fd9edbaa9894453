//! Media sent in a session: an image, a voice message or a file. An attachment is requested
//! (pending), uploaded through a signed URL, verified from its bytes by the storage trigger, and
//! then either becomes a message (ready) or is refused (rejected) — never both.

use serde::{Deserialize, Serialize};

use super::limits::{MAX_FILE_NAME_CHARS, MAX_TEXT_CHARS};
use super::principal::ParticipantRef;
use crate::error::AppError;
use crate::media::{self, MediaKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttachmentStatus {
    /// Waiting for its upload (and the upload's verification).
    Pending,
    /// Verified; its message is in the session.
    Ready,
    /// Refused by verification; nothing points at it and its bytes are deleted.
    Rejected,
}

impl AttachmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentStatus::Pending => "pending",
            AttachmentStatus::Ready => "ready",
            AttachmentStatus::Rejected => "rejected",
        }
    }
}

/// Why verification refused an upload: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectionReason {
    /// `type_not_allowed`, `type_mismatch`, `too_large`, `size_mismatch`, `corrupt`,
    /// `too_many_pixels`, `empty`, `session_closed`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub session_id: String,
    pub customer_id: String,
    pub uploader: ParticipantRef,
    pub client_upload_id: String,
    pub file_name: String,
    pub kind: MediaKind,
    /// The type the client declared (the upload must carry it).
    pub declared_type: String,
    /// Bytes, as declared (the upload must be exactly this long).
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    pub status: AttachmentStatus,
    /// The type verified from the bytes: what downloads are served as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub has_thumbnail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionReason>,
    /// The message it became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_seq: Option<u64>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<String>,
}

/// A request to upload one file into a session.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The client's idempotency key: a retried request returns the same attachment.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_upload_id: String,
    #[schema(min_length = 1, max_length = 255)]
    pub file_name: String,
    /// One of the allowed types (docs/media.md).
    pub content_type: String,
    /// Exact size in bytes, within the kind's limit.
    #[schema(minimum = 1)]
    pub size: u64,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub caption: Option<String>,
}

/// A valid upload request: its kind, and the cleaned name, type and caption.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedUpload {
    pub client_upload_id: String,
    pub file_name: String,
    pub content_type: String,
    pub kind: MediaKind,
    pub size: u64,
    pub caption: Option<String>,
}

impl NewUpload {
    pub fn check(self) -> Result<CheckedUpload, AppError> {
        let client_upload_id = super::ids::parse_client_message_id(&self.client_upload_id)
            .map_err(|_| AppError::validation("client_upload_id must be 1-64 letters, digits, - or _"))?;
        let file_name = self.file_name.trim().to_string();
        let n = file_name.chars().count();
        if n == 0 || n > MAX_FILE_NAME_CHARS {
            return Err(AppError::validation(format!("file_name must be 1 to {MAX_FILE_NAME_CHARS} characters")));
        }
        if file_name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\')) {
            return Err(AppError::validation("file_name must not contain control characters or path separators"));
        }
        let content_type = self.content_type.trim().to_ascii_lowercase();
        let kind = media::kind_of_declared(&content_type).map_err(|r| AppError::validation(r.message))?;
        let limit = media::max_bytes(kind);
        if self.size == 0 {
            return Err(AppError::validation("size must be at least 1 byte"));
        }
        if self.size > limit {
            return Err(AppError::PayloadTooLarge { actual: self.size as usize, limit: limit as usize });
        }
        let caption = match self.caption.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if c.chars().count() > MAX_TEXT_CHARS => {
                return Err(AppError::validation(format!("caption is longer than {MAX_TEXT_CHARS} characters")))
            }
            Some(c) => Some(super::message::validate_text(c)?),
        };
        Ok(CheckedUpload { client_upload_id, file_name, content_type, kind, size: self.size, caption })
    }
}

/// Whether a browser may show this type inline: raster images and audio. Everything else
/// downloads as an attachment, so no uploaded page (HTML, SVG, PDF with scripts) ever renders
/// from Confer's origin.
pub fn inline_safe(content_type: &str) -> bool {
    matches!(content_type, "image/jpeg" | "image/png" | "image/gif" | "image/webp")
        || (content_type.starts_with("audio/") && !content_type.contains("xml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(name: &str, ct: &str, size: u64) -> NewUpload {
        NewUpload { client_upload_id: "u-1".into(), file_name: name.into(), content_type: ct.into(), size, caption: None }
    }

    #[test]
    fn upload_requests_are_checked_against_the_allow_list_and_limits() {
        let ok = upload(" photo.png ", "Image/PNG", 1000).check().unwrap();
        assert_eq!((ok.file_name.as_str(), ok.content_type.as_str(), ok.kind), ("photo.png", "image/png", MediaKind::Image));
        assert!(matches!(upload("a.html", "text/html", 10).check(), Err(AppError::Validation(_))));
        assert!(matches!(upload("a.png", "image/png", 0).check(), Err(AppError::Validation(_))));
        assert!(matches!(
            upload("a.png", "image/png", media::max_bytes(MediaKind::Image) + 1).check(),
            Err(AppError::PayloadTooLarge { .. })
        ));
        assert!(matches!(upload("../etc/passwd", "image/png", 1).check(), Err(AppError::Validation(_))));
        assert!(matches!(upload("", "image/png", 1).check(), Err(AppError::Validation(_))));
        assert!(matches!(upload(&"x".repeat(256), "image/png", 1).check(), Err(AppError::Validation(_))));
        let mut bad_id = upload("a.png", "image/png", 1);
        bad_id.client_upload_id = "no spaces".into();
        assert!(bad_id.check().is_err());
    }

    #[test]
    fn only_raster_images_and_audio_are_inline() {
        assert!(inline_safe("image/png") && inline_safe("audio/webm"));
        assert!(
            !inline_safe("image/svg+xml") && !inline_safe("text/html") && !inline_safe("application/pdf") && !inline_safe("image/heic")
        );
    }
}
