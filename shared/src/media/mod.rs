//! Media verification for multimedia chat: images, voice messages and files.
//!
//! Pure functions over byte slices, no I/O. [`verify`] takes what a participant uploaded and the
//! content type they declared, and either rejects it with a stable code or returns what may be
//! shown and served to the other participants: the real content type (read from the bytes, never
//! taken from the declaration), dimensions or duration, a thumbnail, and — for images — a copy
//! without location or other metadata to serve instead of the upload. docs/media.md describes
//! the allow-list and every check.

mod allow;
mod audio;
mod document;
mod heif;
mod image;
mod video;

use serde::{Deserialize, Serialize};

use crate::domain::limits::{MAX_AUDIO_BYTES, MAX_FILE_BYTES, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES};

pub use allow::{allowed_types, kind_of_declared};
pub use video::VideoInfo;

/// What an upload is, as chat shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// JPEG, PNG, WebP, GIF, HEIC/HEIF.
    Image,
    /// Voice messages and other audio: WebM/Opus, Ogg/Opus, AAC (MP4 or ADTS), MP3, WAV.
    Audio,
    /// PDF, plain text, CSV, Office documents, ZIP.
    File,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::File => "file",
        }
    }
}

/// Largest upload of a kind, in bytes (docs/limits.md).
pub fn max_bytes(kind: MediaKind) -> u64 {
    match kind {
        MediaKind::Image => MAX_IMAGE_BYTES,
        MediaKind::Audio => MAX_AUDIO_BYTES,
        MediaKind::File => MAX_FILE_BYTES,
    }
}

/// An upload that passed verification, and what was learnt from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub kind: MediaKind,
    /// The real type, read from the bytes: e.g. `image/jpeg`, `audio/webm`, `application/pdf`,
    /// `text/plain; charset=utf-8`.
    pub content_type: String,
    /// Images: pixel size as displayed (after any EXIF orientation or HEIF rotation).
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Audio: playing time.
    pub duration_ms: Option<u64>,
    /// Images a decoder exists for (all but HEIC/HEIF): a JPEG whose longest side is at most
    /// `THUMBNAIL_MAX_SIDE`.
    pub thumbnail: Option<Vec<u8>>,
    /// What to serve to participants instead of the upload, when that differs: images
    /// re-encoded (orientation applied, all metadata gone) or scrubbed in place (HEIC/HEIF, GIF).
    /// `None` when the upload itself is safe to serve.
    pub served: Option<Vec<u8>>,
    /// Content type of `served` (set exactly when `served` is).
    pub served_content_type: Option<String>,
    /// Plain text and CSV files, and PDFs with a text layer: their text, for search (at most
    /// [`MAX_FILE_TEXT_CHARS`] characters, whitespace runs folded).
    pub text: Option<String>,
}

/// Most characters of a file's text kept for search.
pub const MAX_FILE_TEXT_CHARS: usize = 32_000;

/// Why an upload was refused: a stable `code` (listed in docs/media.md) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    /// The declared content type is not on the allow-list.
    pub const TYPE_NOT_ALLOWED: &'static str = "type_not_allowed";
    /// The bytes are not what was declared (or not an allowed type at all).
    pub const TYPE_MISMATCH: &'static str = "type_mismatch";
    /// Larger than its kind's limit.
    pub const TOO_LARGE: &'static str = "too_large";
    /// The declared type, but damaged, truncated or undecodable.
    pub const CORRUPT: &'static str = "corrupt";
    /// An image over the pixel or side limit (refused before its pixels are decoded).
    pub const TOO_MANY_PIXELS: &'static str = "too_many_pixels";
    /// No bytes at all.
    pub const EMPTY: &'static str = "empty";

    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Rejection { code, message: message.into() }
    }
    pub(crate) fn mismatch(message: impl Into<String>) -> Self {
        Self::new(Self::TYPE_MISMATCH, message)
    }
    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        Self::new(Self::CORRUPT, message)
    }
}

/// Verifies uploaded bytes against their declared content type and derives their metadata.
///
/// In order: the declared type must be on the allow-list (`type_not_allowed`); the upload must
/// not be empty (`empty`) nor over its kind's size limit (`too_large`); the real type, read from
/// the bytes, must be allowed and agree with the declaration (`type_mismatch`); then the content
/// must parse (`corrupt`; images over the pixel limits: `too_many_pixels`).
pub fn verify(declared_content_type: &str, bytes: &[u8]) -> Result<Verified, Rejection> {
    let declared = allow::declared(declared_content_type)?;
    if bytes.is_empty() {
        return Err(Rejection::new(Rejection::EMPTY, "the upload is empty"));
    }
    let limit = max_bytes(declared.kind);
    if bytes.len() as u64 > limit {
        return Err(Rejection::new(
            Rejection::TOO_LARGE,
            format!("{} bytes exceed the limit of {limit} bytes for {} uploads", bytes.len(), declared.kind.as_str()),
        ));
    }
    let real = allow::sniff(bytes);
    if !declared.accepts(real) {
        return Err(Rejection::mismatch(match real.describe() {
            Some(what) => format!("declared {}, but the bytes are {what}", declared.essence),
            None => format!("declared {}, but the bytes are not of that type", declared.essence),
        }));
    }
    match declared.kind {
        MediaKind::Image => image::verify(real, bytes),
        MediaKind::Audio => audio::verify(real, bytes),
        MediaKind::File => document::verify(declared.format, real, bytes),
    }
}

/// What an announcement may carry: a video or an audio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnnouncementMediaKind {
    /// MP4 (H.264, HEVC, AV1 …) or WebM (VP8, VP9, AV1), with or without sound.
    Video,
    /// Every audio type chat accepts (docs/media.md).
    Audio,
}

/// Declared types an announcement's video may have, and the formats each may really be.
const VIDEO_TYPES: &[(&str, allow::Format)] =
    &[("video/mp4", allow::Format::Mp4), ("video/quicktime", allow::Format::Mp4), ("video/webm", allow::Format::Webm)];

/// The declared video types an announcement accepts.
pub fn announcement_video_types() -> impl Iterator<Item = &'static str> {
    VIDEO_TYPES.iter().map(|(name, _)| *name)
}

/// The kind and limit of an announcement's declared media type.
pub fn announcement_kind_of_declared(content_type: &str) -> Result<(AnnouncementMediaKind, u64), Rejection> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if VIDEO_TYPES.iter().any(|(name, _)| *name == essence) {
        return Ok((AnnouncementMediaKind::Video, MAX_VIDEO_BYTES));
    }
    match allow::declared(content_type) {
        Ok(d) if d.kind == MediaKind::Audio => Ok((AnnouncementMediaKind::Audio, MAX_AUDIO_BYTES)),
        _ => Err(Rejection::new(
            Rejection::TYPE_NOT_ALLOWED,
            format!("{essence} is not a video or audio type an announcement may carry (docs/announcements.md lists them)"),
        )),
    }
}

/// An announcement's media that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAnnouncementMedia {
    pub kind: AnnouncementMediaKind,
    pub content_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// [`verify`] for an announcement's video or audio: the same order of checks, the same codes.
pub fn verify_announcement_media(declared_content_type: &str, bytes: &[u8]) -> Result<VerifiedAnnouncementMedia, Rejection> {
    let (kind, limit) = announcement_kind_of_declared(declared_content_type)?;
    if bytes.is_empty() {
        return Err(Rejection::new(Rejection::EMPTY, "the upload is empty"));
    }
    if bytes.len() as u64 > limit {
        return Err(Rejection::new(Rejection::TOO_LARGE, format!("{} bytes exceed the limit of {limit} bytes", bytes.len())));
    }
    match kind {
        AnnouncementMediaKind::Audio => {
            let v = verify(declared_content_type, bytes)?;
            Ok(VerifiedAnnouncementMedia { kind, content_type: v.content_type, width: None, height: None, duration_ms: v.duration_ms })
        }
        AnnouncementMediaKind::Video => {
            let essence = declared_content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            let expected = VIDEO_TYPES.iter().find(|(name, _)| *name == essence).map(|(_, f)| *f);
            let real = allow::sniff(bytes);
            if real != allow::Sniffed::Format(expected.unwrap_or(allow::Format::Mp4)) {
                return Err(Rejection::mismatch(match real.describe() {
                    Some(what) => format!("declared {essence}, but the bytes are {what}"),
                    None => format!("declared {essence}, but the bytes are not of that type"),
                }));
            }
            let v = video::verify(real, bytes)?;
            Ok(VerifiedAnnouncementMedia {
                kind,
                content_type: v.content_type.to_string(),
                width: v.width,
                height: v.height,
                duration_ms: Some(v.duration_ms),
            })
        }
    }
}

#[cfg(test)]
mod tests;
