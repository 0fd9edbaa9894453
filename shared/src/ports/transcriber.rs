//! Speech to text on one participant's track (the local runtime records each participant apart,
//! so each speaker is separate by construction). The cloud transcribes whole recordings with
//! Amazon Transcribe instead (batch jobs, read back with `transcript::transcribe`).

use std::path::Path;

use async_trait::async_trait;

/// A recognised word, in milliseconds from the start of its track.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    pub text: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub confidence: f32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TranscribeError {
    /// No engine here: the recording is kept and its transcript marked unavailable, with this reason.
    #[error("no speech engine is configured: {0}")]
    NotConfigured(String),
    #[error("{0}")]
    UnsupportedLanguage(String),
    /// The audio cannot be decoded.
    #[error("the recording cannot be read: {0}")]
    Unreadable(String),
    #[error("speech engine: {0}")]
    Engine(String),
}

#[async_trait]
pub trait Transcriber: Send + Sync + 'static {
    /// The words of the audio file at `audio` (any format the engine's decoder reads), in
    /// `language` (BCP 47, e.g. `en-US`). Silence gives no words, not an error.
    async fn transcribe(&self, audio: &Path, language: &str) -> Result<Vec<Recognised>, TranscribeError>;
}

/// A runtime without a speech engine: says why, never invents a transcript.
pub struct NoTranscriber(pub String);

#[async_trait]
impl Transcriber for NoTranscriber {
    async fn transcribe(&self, _: &Path, _: &str) -> Result<Vec<Recognised>, TranscribeError> {
        Err(TranscribeError::NotConfigured(self.0.clone()))
    }
}
