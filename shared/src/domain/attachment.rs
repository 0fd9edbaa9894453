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
    /// What verification read from the bytes (once ready).
    #[serde(flatten)]
    pub media: MediaInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionReason>,
    /// The message it became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_seq: Option<u64>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<String>,
}

/// What verification reads from an upload's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaInfo {
    /// Images: pixels across, as shown (EXIF orientation applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Audio: its length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub has_thumbnail: bool,
}

/// Short-lived signed URLs of a ready attachment: signed when it is read or delivered, never
/// stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DownloadUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub urls_expire_at: Option<String>,
}

/// A request to upload one file into a session.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The client's idempotency key: a retried request returns the same attachment.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_upload_id: String,
    /// Shown to the other participants and used for downloads: not blank, no control
    /// characters, no `/` or `\\`.
    #[schema(schema_with = schema::file_name)]
    pub file_name: String,
    /// One of the allowed types (docs/media.md), in any case, with any parameters
    /// (`audio/webm;codecs=opus`). The upload must carry it as sent.
    pub content_type: String,
    /// Exact size in bytes, from 1 to the limit of the type's kind.
    #[serde(deserialize_with = "super::whole_number")]
    #[schema(minimum = 1)]
    pub size: u64,
    /// Shown with the media: no control characters but line breaks and tabs.
    #[serde(default)]
    #[schema(schema_with = schema::caption)]
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
    /// Checks a chat upload (the allow-list of docs/media.md).
    pub fn check(self) -> Result<CheckedUpload, AppError> {
        self.check_with(|t| media::kind_of_declared(t).map(media::max_bytes))
    }

    /// The checks of [`check`](Self::check) with another list of accepted types: `limit_of`
    /// answers a declared type's size limit or refuses it. `kind` is the chat kind the type has,
    /// or `File` for types chat does not take (an announcement's video).
    pub fn check_with(self, limit_of: impl Fn(&str) -> Result<u64, media::Rejection>) -> Result<CheckedUpload, AppError> {
        let client_upload_id = super::ids::parse_client_message_id(&self.client_upload_id)
            .map_err(|_| AppError::validation("client_upload_id must be 1-64 letters, digits, - or _"))?;
        // Lengths count the value as sent.
        if self.file_name.chars().count() > MAX_FILE_NAME_CHARS {
            return Err(AppError::validation(format!("file_name is longer than {MAX_FILE_NAME_CHARS} characters")));
        }
        let file_name = self.file_name.trim().to_string();
        if file_name.is_empty() {
            return Err(AppError::validation("file_name must not be blank"));
        }
        if file_name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\')) {
            return Err(AppError::validation("file_name must not contain control characters or path separators"));
        }
        let content_type = self.content_type.trim().to_ascii_lowercase();
        let limit = limit_of(&content_type).map_err(|r| AppError::validation(r.message))?;
        let kind = media::kind_of_declared(&content_type).unwrap_or(MediaKind::File);
        if self.size == 0 {
            return Err(AppError::validation("size must be at least 1 byte"));
        }
        if self.size > limit {
            return Err(AppError::validation(format!("{content_type} takes at most {limit} bytes, not {}", self.size)));
        }
        if self.caption.as_deref().is_some_and(|c| c.chars().count() > MAX_TEXT_CHARS) {
            return Err(AppError::validation(format!("caption is longer than {MAX_TEXT_CHARS} characters")));
        }
        let caption = match self.caption.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(super::message::validate_text(c)?),
        };
        Ok(CheckedUpload { client_upload_id, file_name, content_type, kind, size: self.size, caption })
    }
}

/// The upload request's fields as the OpenAPI document states them: exactly what `check` accepts.
pub(crate) mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::Object;

    use super::super::customer::fields::{CONTROL, SPACE};
    use super::{MAX_FILE_NAME_CHARS, MAX_TEXT_CHARS};

    pub fn file_name_pattern() -> String {
        let bad = format!("{CONTROL}/\\\\");
        format!("^[{SPACE}]*[^{bad}]*[^{SPACE}{bad}][^{bad}]*[{SPACE}]*$")
    }

    pub fn file_name() -> Object {
        ObjectBuilder::new().schema_type(Type::String).max_length(Some(MAX_FILE_NAME_CHARS)).pattern(Some(file_name_pattern())).build()
    }

    /// Line breaks and tabs, and no other control character once the blanks around it are
    /// trimmed.
    pub fn caption_pattern() -> String {
        let bad = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";
        format!("^[{SPACE}]*(?:[^{bad}{SPACE}](?:[^{bad}]*[^{bad}{SPACE}])?)?[{SPACE}]*$")
    }

    pub fn caption() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .max_length(Some(MAX_TEXT_CHARS))
            .pattern(Some(caption_pattern()))
            .build()
    }

    /// A pattern matching the declared types of `names` as the server matches them: any case,
    /// blanks around, parameters after `;`.
    pub fn content_type_pattern<'a>(names: impl Iterator<Item = &'a str>) -> String {
        let alternatives: Vec<String> = names
            .map(|name| {
                name.chars()
                    .map(|c| match c {
                        'a'..='z' => format!("[{c}{}]", c.to_ascii_uppercase()),
                        '.' | '+' | '/' | '-' => format!("\\{c}"),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        format!("^[{SPACE}]*(?:{})[{SPACE}]*(?:;[\\s\\S]*)?$", alternatives.join("|"))
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
        assert!(matches!(upload("a.png", "image/png", media::max_bytes(MediaKind::Image) + 1).check(), Err(AppError::Validation(_))));
        assert!(upload("a.pdf", "application/pdf", media::max_bytes(MediaKind::Image) + 1).check().is_ok(), "each kind has its limit");
        assert!(matches!(upload("../etc/passwd", "image/png", 1).check(), Err(AppError::Validation(_))));
        assert!(matches!(upload("", "image/png", 1).check(), Err(AppError::Validation(_))));
        assert!(matches!(upload(&"x".repeat(256), "image/png", 1).check(), Err(AppError::Validation(_))));
        let mut bad_id = upload("a.png", "image/png", 1);
        bad_id.client_upload_id = "no spaces".into();
        assert!(bad_id.check().is_err());
    }

    /// The document's patterns accept exactly what `check` accepts.
    #[test]
    fn the_documented_patterns_agree_with_the_checks() {
        let full = |p: String| regex::Regex::new(&p).unwrap();
        let names = full(schema::file_name_pattern());
        for name in [
            "a.png",
            " spaced name.pdf ",
            "ré sumé.pdf",
            "a\u{a0}",
            "x",
            "../etc",
            "a/b",
            "a\\b",
            "",
            "   ",
            "tab\tin",
            "nul\0",
            "\u{85}",
            "a\u{9f}b",
        ] {
            let ok = upload(name, "image/png", 1).check().is_ok();
            assert_eq!(names.is_match(name), ok, "file name {name:?}: check says {ok}");
        }
        let captions = full(schema::caption_pattern());
        for caption in ["", "   ", "line\nbreak\tand tab", "bell\u{7}", "c1\u{85}", "é"] {
            let mut u = upload("a.png", "image/png", 1);
            u.caption = Some(caption.into());
            assert_eq!(captions.is_match(caption), u.check().is_ok(), "caption {caption:?}");
        }
        let types = full(schema::content_type_pattern(media::allowed_types().map(|(n, _)| n)));
        for ct in [
            "image/png",
            "IMAGE/PNG",
            " audio/webm;codecs=opus",
            "audio/webm ; codecs=opus\n",
            "text/html",
            "image/pngx",
            "image/png/",
            "",
            "application/vnd.ms-excel",
            "application/vnd-ms-excel",
        ] {
            assert_eq!(types.is_match(ct), media::kind_of_declared(ct).is_ok(), "content type {ct:?}");
        }
    }

    #[test]
    fn sizes_are_whole_numbers_however_written() {
        let parse = |size: &str| {
            serde_json::from_str::<NewUpload>(&format!(
                r#"{{"client_upload_id":"u","file_name":"a","content_type":"image/png","size":{size}}}"#
            ))
            .map(|u| u.size)
        };
        assert_eq!(parse("1024").unwrap(), 1024);
        assert_eq!(parse("1024.0").unwrap(), 1024);
        assert_eq!(parse("1e3").unwrap(), 1000);
        assert!(parse("10.5").is_err() && parse("-1").is_err() && parse("\"1\"").is_err());
    }

    #[test]
    fn only_raster_images_and_audio_are_inline() {
        assert!(inline_safe("image/png") && inline_safe("audio/webm"));
        assert!(
            !inline_safe("image/svg+xml") && !inline_safe("text/html") && !inline_safe("application/pdf") && !inline_safe("image/heic")
        );
    }
}
