//! The allow-list: which declared content types Confer accepts, what each may really be, and how
//! the real type is read from the bytes.

use super::{document, MediaKind, Rejection};

/// A format Confer accepts, as read from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
    /// HEIC/HEIF (ISOBMFF with a HEIC brand).
    Heif,
    /// WebM (Matroska with the `webm` doctype).
    Webm,
    Ogg,
    /// An ISO base media file (MP4/M4A).
    Mp4,
    /// Raw AAC in ADTS frames.
    Adts,
    Mp3,
    Wav,
    Pdf,
    /// Plain text: UTF-8 without NUL bytes (no magic number; declared as text/plain).
    Text,
    /// Comma-separated values: as plain text (declared as text/csv).
    Csv,
    /// OOXML packages: ZIPs with `[Content_Types].xml` and the application's part folder.
    Docx,
    Xlsx,
    Pptx,
    /// Legacy Office: OLE compound files with the application's main stream.
    Doc,
    Xls,
    Ppt,
    Zip,
}

impl Format {
    /// The canonical content type Confer records and serves the format under.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Heif => "image/heic",
            Format::Webm => "audio/webm",
            Format::Ogg => "audio/ogg",
            Format::Mp4 => "audio/mp4",
            Format::Adts => "audio/aac",
            Format::Mp3 => "audio/mpeg",
            Format::Wav => "audio/wav",
            Format::Pdf => "application/pdf",
            Format::Text => "text/plain; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Format::Doc => "application/msword",
            Format::Xls => "application/vnd.ms-excel",
            Format::Ppt => "application/vnd.ms-powerpoint",
            Format::Zip => "application/zip",
        }
    }
}

use Format::*;
use MediaKind::{Audio, File, Image};

const AAC: &[Format] = &[Mp4, Adts];
const ZIP: &[Format] = &[Zip, Docx, Xlsx, Pptx];

/// Every declared content type Confer accepts: its kind and the real formats it may be.
/// docs/media.md has the same table.
const ALLOWED: &[(&str, MediaKind, &[Format])] = &[
    ("image/jpeg", Image, &[Jpeg]),
    ("image/jpg", Image, &[Jpeg]),
    ("image/png", Image, &[Png]),
    ("image/webp", Image, &[Webp]),
    ("image/gif", Image, &[Gif]),
    ("image/heic", Image, &[Heif]),
    ("image/heif", Image, &[Heif]),
    // What MediaRecorder records in Chrome, Edge and Firefox.
    ("audio/webm", Audio, &[Webm]),
    // Some recorders label audio-only WebM as video; accepted when it holds no video track.
    ("video/webm", Audio, &[Webm]),
    ("audio/ogg", Audio, &[Ogg]),
    ("audio/opus", Audio, &[Ogg]),
    // What Safari's MediaRecorder and phones' voice recorders write.
    ("audio/mp4", Audio, AAC),
    ("audio/x-m4a", Audio, AAC),
    ("audio/m4a", Audio, AAC),
    ("audio/aac", Audio, AAC),
    ("audio/x-aac", Audio, AAC),
    ("audio/mpeg", Audio, &[Mp3]),
    ("audio/mp3", Audio, &[Mp3]),
    ("audio/wav", Audio, &[Wav]),
    ("audio/x-wav", Audio, &[Wav]),
    ("audio/wave", Audio, &[Wav]),
    ("audio/vnd.wave", Audio, &[Wav]),
    ("application/pdf", File, &[Pdf]),
    ("text/plain", File, &[Text]),
    ("text/csv", File, &[Csv]),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", File, &[Docx]),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", File, &[Xlsx]),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", File, &[Pptx]),
    ("application/msword", File, &[Doc]),
    ("application/vnd.ms-excel", File, &[Xls]),
    ("application/vnd.ms-powerpoint", File, &[Ppt]),
    // An OOXML document is a ZIP too.
    ("application/zip", File, ZIP),
    // What Windows browsers declare for .zip.
    ("application/x-zip-compressed", File, ZIP),
];

/// A declared content type found on the allow-list.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    /// The declared type without parameters, lower-cased.
    pub essence: String,
    pub kind: MediaKind,
    /// The format the declaration names (the first it may be).
    pub format: Format,
    accepts: &'static [Format],
}

impl Declared {
    /// Whether bytes read as `real` agree with this declaration.
    pub fn accepts(&self, real: Sniffed) -> bool {
        match real {
            Sniffed::Format(format) => self.accepts.contains(&format),
            // Text has no magic number: whatever no signature matched is checked as text later.
            Sniffed::Unknown => self.is_text(),
            // A script is text.
            Sniffed::Other("text/x-shellscript") => self.is_text(),
            Sniffed::Other(_) => false,
        }
    }

    fn is_text(&self) -> bool {
        matches!(self.format, Text | Csv)
    }
}

/// The declared content type's entry on the allow-list. Matching ignores case, surrounding blanks
/// and parameters (`audio/webm;codecs=opus` is `audio/webm`).
pub(crate) fn declared(content_type: &str) -> Result<Declared, Rejection> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match ALLOWED.iter().find(|(name, ..)| *name == essence) {
        Some(&(_, kind, accepts)) => Ok(Declared { essence, kind, format: accepts[0], accepts }),
        None => Err(Rejection::new(
            Rejection::TYPE_NOT_ALLOWED,
            if essence.is_empty() {
                "no content type was declared".to_string()
            } else {
                format!("{essence} is not an accepted type (docs/media.md lists them)")
            },
        )),
    }
}

/// The allow-list: the kind a declared content type is accepted as.
/// Every accepted declared type (lower case, without parameters) and its kind.
pub fn allowed_types() -> impl Iterator<Item = (&'static str, MediaKind)> {
    ALLOWED.iter().map(|(name, kind, _)| (*name, *kind))
}

pub fn kind_of_declared(content_type: &str) -> Result<MediaKind, Rejection> {
    declared(content_type).map(|d| d.kind)
}

/// What the bytes really are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// An accepted format.
    Format(Format),
    /// A recognised type Confer does not accept (its MIME type).
    Other(&'static str),
    /// No known signature (text, or unknown binary).
    Unknown,
}

impl Sniffed {
    /// For a rejection's message.
    pub fn describe(self) -> Option<&'static str> {
        match self {
            Sniffed::Format(format) => Some(format.content_type()),
            Sniffed::Other(mime) => Some(mime),
            Sniffed::Unknown => None,
        }
    }
}

/// Reads the real type from the bytes (their signatures; ZIPs and OLE files by their directory).
pub(crate) fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Sniffed::Format(document::zip_format(bytes));
    }
    if bytes.starts_with(&document::OLE_MAGIC) {
        return document::ole_format(bytes).map_or(Sniffed::Other("application/x-ole-storage"), Sniffed::Format);
    }
    let Some(kind) = infer::get(bytes) else {
        return Sniffed::Unknown;
    };
    Sniffed::Format(match kind.mime_type() {
        "image/jpeg" => Jpeg,
        "image/png" => Png,
        "image/webp" => Webp,
        "image/gif" => Gif,
        "image/heif" => Heif,
        "video/webm" => Webm,
        "audio/ogg" | "audio/opus" => Ogg,
        // MP4 files with an audio brand, and those with a general one (video/mp4) whose tracks
        // are checked to be audio only.
        "audio/m4a" | "video/mp4" => Mp4,
        "audio/aac" => Adts,
        "audio/mpeg" => Mp3,
        "audio/x-wav" => Wav,
        "application/pdf" => Pdf,
        other => return Sniffed::Other(other),
    })
}
