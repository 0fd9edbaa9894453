//! Recordings of calls and what they become: tracks and final media, a transcript of speaker
//! turns, translations (docs/recordings.md).

use serde::{Deserialize, Serialize};

use super::ParticipantRef;

/// How a recording's media reaches storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordingMode {
    /// The recording agent's browser uploads each participant's track in chunks (confer-local).
    Browser,
    /// Chime SDK media pipelines capture the meeting and concatenate it (the cloud).
    Pipeline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordingStatus {
    Recording,
    /// Stopped; the final files are being made.
    Processing,
    /// The final media can be played.
    Available,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TranscriptStatus {
    Pending,
    Processing,
    Ready,
    /// No engine can transcribe it here (the reason says why); the recording is kept.
    Unavailable,
    Failed,
}

/// One participant's recorded track (local recordings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Track {
    /// `<kind>.<id>` of the participant, as clients name it.
    pub track: String,
    pub participant: ParticipantRef,
    /// The participant's display name when the recording was made.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A final media file of a recording: `mixed` (everyone), or a participant's track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaFile {
    pub track: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranscriptState {
    pub status: TranscriptStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<usize>,
}

impl TranscriptState {
    pub fn pending() -> Self {
        TranscriptState { status: TranscriptStatus::Pending, reason: None, language: None, turns: None }
    }
}

/// A recording as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recording {
    #[schema(value_type = super::RecordingId)]
    pub id: String,
    #[schema(value_type = super::SessionId)]
    pub session_id: String,
    #[schema(value_type = super::CustomerId)]
    pub customer_id: String,
    #[schema(value_type = super::CallId)]
    pub call_id: String,
    pub mode: RecordingMode,
    pub status: RecordingStatus,
    pub started_by: ParticipantRef,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<ParticipantRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub stopped_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub tracks: Vec<Track>,
    #[serde(default)]
    pub media: Vec<MediaFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub transcript: TranscriptState,
    /// The video app that made the recording, for one imported from it (docs/providers.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<super::provider::ExternalProvider>,
}

/// What the call shows while it is being recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecording {
    #[schema(value_type = super::RecordingId)]
    pub recording_id: String,
    pub started_by: ParticipantRef,
    #[schema(format = DateTime)]
    pub started_at: String,
}

/// A track name's pattern in the OpenAPI document.
pub const TRACK_PATTERN: &str = "^(agent|customer)\\.[A-Za-z0-9._@:+-]{1,128}$";
/// A language tag's pattern in the OpenAPI document ([`valid_language`]).
pub const LANGUAGE_PATTERN: &str = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$";

/// `<kind>.<id>`: how clients name a participant's track.
pub fn track_name(p: &ParticipantRef) -> String {
    match p {
        ParticipantRef::Agent(id) => format!("agent.{id}"),
        ParticipantRef::Customer(id) => format!("customer.{id}"),
    }
}

pub fn parse_track_name(s: &str) -> Option<ParticipantRef> {
    let (kind, id) = s.split_once('.')?;
    if id.is_empty() {
        return None;
    }
    match kind {
        "agent" => Some(ParticipantRef::Agent(id.to_string())),
        "customer" => Some(ParticipantRef::Customer(id.to_string())),
        _ => None,
    }
}

/// A storage-safe name for a participant's track: the track name when it is already made of
/// `A-Z a-z 0-9 . _ -` (customer ids, most agent ids), otherwise its kind and a digest.
pub fn track_object_name(p: &ParticipantRef) -> String {
    let name = track_name(p);
    if name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) && name.len() <= 120 {
        return name;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let kind = if matches!(p, ParticipantRef::Agent(_)) { "agent" } else { "customer" };
    format!("{kind}.h{hex}")
}

/// A BCP 47 language tag as Confer accepts it: `en`, `en-US`, `zh-Hans`, `pt-BR` (2 or 3 letters,
/// then up to two subtags of 2 to 8 letters or digits).
pub fn valid_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or("");
    if !(2..=3).contains(&first.len()) || !first.chars().all(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    rest.len() <= 2 && rest.iter().all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_names_read_back_and_unsafe_ids_become_digests() {
        let ann = ParticipantRef::Agent("ann".into());
        assert_eq!(track_name(&ann), "agent.ann");
        assert_eq!(parse_track_name("agent.ann"), Some(ann.clone()));
        assert_eq!(parse_track_name("customer.cus_1"), Some(ParticipantRef::Customer("cus_1".into())));
        assert_eq!(parse_track_name("robot.x"), None);
        assert_eq!(parse_track_name("agent."), None);
        assert_eq!(track_object_name(&ann), "agent.ann");
        let mail = ParticipantRef::Agent("ann@example.com".into());
        let name = track_object_name(&mail);
        assert!(name.starts_with("agent.h") && name.len() == "agent.h".len() + 24, "{name}");
        assert_ne!(name, track_object_name(&ParticipantRef::Agent("bob@example.com".into())));
    }

    #[test]
    fn languages_are_bcp47_tags() {
        for ok in ["en", "en-US", "es", "zh-Hans", "pt-BR", "fil"] {
            assert!(valid_language(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "en-US-x-y-z", "1n"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }
}
