//! Recording a call's media. In the cloud, Amazon Chime SDK media pipelines capture the meeting
//! into the recordings bucket and then concatenate the captured chunks into final files; locally
//! the recording agent's browser uploads each participant's track in chunks and the local adapter
//! assembles them. Final files land under `recordings/`, where the storage trigger takes over.

use async_trait::async_trait;

use crate::domain::recording::RecordingMode;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecorderError {
    #[error("this deployment does not record calls")]
    NotAvailable,
    /// The provider refused the request (never retried).
    #[error("{0}")]
    Rejected(String),
    /// The meeting or pipeline is already gone.
    #[error("the meeting or pipeline has ended")]
    Gone,
    #[error("recorder: {0}")]
    Unavailable(String),
}

/// The recording a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRef {
    pub tenant: String,
    pub session_id: String,
    pub recording_id: String,
}

/// A track to assemble: its storage name and how many chunks the browser reported (`None`: as
/// many as arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackChunks {
    pub object_name: String,
    pub expected: Option<u64>,
}

/// A final file the local assembly wrote (its key in the recordings store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledFile {
    /// The track's storage name, or `mixed`.
    pub object_name: String,
    pub key: String,
    pub content_type: String,
    pub size: u64,
    pub duration_ms: Option<u64>,
}

#[async_trait]
pub trait Recorder: Send + Sync + 'static {
    fn mode(&self) -> RecordingMode;
    /// Starts capturing the call's meeting; the pipeline's id (`None` where the browser records).
    async fn start(&self, recording: &RecordingRef, meeting: Option<&serde_json::Value>) -> Result<Option<String>, RecorderError>;
    /// Stops the capture pipeline (a pipeline already gone is not an error).
    async fn stop(&self, pipeline_id: &str) -> Result<(), RecorderError>;
    /// Joins a finished capture's chunks into final files under `recordings/`; the concatenation
    /// pipeline's id.
    async fn concatenate(&self, recording: &RecordingRef, capture_pipeline_arn: &str) -> Result<String, RecorderError>;
    /// Browser recordings: each track's chunks into one file, and everyone mixed into one
    /// (`mixed`). Tracks without any chunk are left out.
    async fn assemble(&self, recording: &RecordingRef, tracks: &[TrackChunks]) -> Result<Vec<AssembledFile>, RecorderError>;
    /// Whether every expected chunk of these tracks has arrived.
    async fn chunks_complete(&self, recording: &RecordingRef, tracks: &[TrackChunks]) -> bool;
    /// Raises the storage notifications of files the runtime wrote itself (the local runtime;
    /// S3 notifies by itself in the cloud).
    fn announce(&self, _files: &[AssembledFile]) {}
}

/// A runtime that does not record.
pub struct NoRecorder;

#[async_trait]
impl Recorder for NoRecorder {
    fn mode(&self) -> RecordingMode {
        RecordingMode::Browser
    }
    async fn start(&self, _: &RecordingRef, _: Option<&serde_json::Value>) -> Result<Option<String>, RecorderError> {
        Err(RecorderError::NotAvailable)
    }
    async fn stop(&self, _: &str) -> Result<(), RecorderError> {
        Err(RecorderError::NotAvailable)
    }
    async fn concatenate(&self, _: &RecordingRef, _: &str) -> Result<String, RecorderError> {
        Err(RecorderError::NotAvailable)
    }
    async fn assemble(&self, _: &RecordingRef, _: &[TrackChunks]) -> Result<Vec<AssembledFile>, RecorderError> {
        Err(RecorderError::NotAvailable)
    }
    async fn chunks_complete(&self, _: &RecordingRef, _: &[TrackChunks]) -> bool {
        false
    }
}

/// Object keys of recordings (in the recordings bucket, or the data directory's `recordings/`).
pub mod objects {
    /// The storage trigger watches this prefix: final files only.
    pub const FINAL_PREFIX: &str = "recordings/";

    /// A chunk the browser uploads.
    pub fn chunk(tenant: &str, recording: &str, track: &str, seq: u64) -> String {
        format!("chunks/{tenant}/{recording}/{track}/{seq:06}.webm")
    }
    pub fn chunks_of(tenant: &str, recording: &str, track: &str) -> String {
        format!("chunks/{tenant}/{recording}/{track}/")
    }
    /// Where Chime's capture pipeline writes (outside the trigger's prefix).
    pub fn capture_prefix(tenant: &str, recording: &str) -> String {
        format!("capture/{tenant}/{recording}")
    }
    /// A participant's assembled track (local).
    pub fn track(tenant: &str, recording: &str, track: &str) -> String {
        format!("recordings/{tenant}/{recording}/tracks/{track}.webm")
    }
    /// A participant's track imported from a video app, in the app's format (`m4a`, `mp4`).
    pub fn track_file(tenant: &str, recording: &str, track: &str, extension: &str) -> String {
        format!("recordings/{tenant}/{recording}/tracks/{track}.{extension}")
    }
    /// Extensions a track's file may have.
    pub const TRACK_EXTENSIONS: &[&str] = &["webm", "m4a", "mp4"];
    pub fn mixed(tenant: &str, recording: &str) -> String {
        format!("recordings/{tenant}/{recording}/mixed.webm")
    }
    /// Where the concatenation pipeline writes (`…/audio/…`, `…/composited-video/…`).
    pub fn final_prefix(tenant: &str, recording: &str) -> String {
        format!("recordings/{tenant}/{recording}/final")
    }
    /// Amazon Transcribe's output of the recording.
    pub fn transcript_output(tenant: &str, recording: &str) -> String {
        format!("transcripts/{tenant}/{recording}.json")
    }

    /// What a final object under `recordings/` is.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum FinalObject {
        Track {
            tenant: String,
            recording: String,
            track: String,
        },
        Mixed {
            tenant: String,
            recording: String,
        },
        /// The concatenated audio (cloud).
        Audio {
            tenant: String,
            recording: String,
        },
        /// The concatenated composited video (cloud).
        Video {
            tenant: String,
            recording: String,
        },
    }

    pub fn parse_final(key: &str) -> Option<FinalObject> {
        let rest = key.strip_prefix(FINAL_PREFIX)?;
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [t, r, "tracks", file] => {
                let (track, extension) = file.rsplit_once('.')?;
                if !TRACK_EXTENSIONS.contains(&extension) || track.is_empty() {
                    return None;
                }
                Some(FinalObject::Track { tenant: t.to_string(), recording: r.to_string(), track: track.to_string() })
            }
            [t, r, "mixed.webm"] => Some(FinalObject::Mixed { tenant: t.to_string(), recording: r.to_string() }),
            [t, r, "final", "audio", file] if !file.is_empty() => {
                Some(FinalObject::Audio { tenant: t.to_string(), recording: r.to_string() })
            }
            [t, r, "final", "composited-video", file] if !file.is_empty() => {
                Some(FinalObject::Video { tenant: t.to_string(), recording: r.to_string() })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::objects::*;

    #[test]
    fn final_objects_are_told_apart_by_their_keys() {
        let t = |k: &str| parse_final(k);
        assert_eq!(
            t(&track("acme", "rec_1", "agent.ann")),
            Some(FinalObject::Track { tenant: "acme".into(), recording: "rec_1".into(), track: "agent.ann".into() })
        );
        assert_eq!(t(&mixed("acme", "rec_1")), Some(FinalObject::Mixed { tenant: "acme".into(), recording: "rec_1".into() }));
        assert_eq!(
            t("recordings/acme/rec_1/final/audio/2026-12-04-10-00-00.mp4"),
            Some(FinalObject::Audio { tenant: "acme".into(), recording: "rec_1".into() })
        );
        assert_eq!(
            t("recordings/acme/rec_1/final/composited-video/x.mp4"),
            Some(FinalObject::Video { tenant: "acme".into(), recording: "rec_1".into() })
        );
        assert_eq!(t("recordings/acme/rec_1/final/meeting-events/x.txt"), None);
        assert_eq!(
            t(&track_file("acme", "rec_1", "customer.cus_1", "m4a")),
            Some(FinalObject::Track { tenant: "acme".into(), recording: "rec_1".into(), track: "customer.cus_1".into() })
        );
        assert_eq!(t("recordings/acme/rec_1/tracks/agent.ann.txt"), None);
        assert_eq!(t("recordings/acme/rec_1/tracks/.m4a"), None);
        assert_eq!(t(&chunk("acme", "rec_1", "agent.ann", 3)), None);
        assert_eq!(chunk("acme", "rec_1", "agent.ann", 3), "chunks/acme/rec_1/agent.ann/000003.webm");
    }
}
