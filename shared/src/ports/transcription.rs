//! Batch transcription of a whole recording in the cloud (Amazon Transcribe): a job per
//! recording, named from it, so a repeated storage trigger starts nothing new; its output is read
//! back with `transcript::transcribe::parse`.

use async_trait::async_trait;

/// Which language the recording is in: exactly one of Transcribe's `LanguageCode`,
/// `IdentifyLanguage` and `IdentifyMultipleLanguages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageChoice {
    /// The tenant's language, e.g. `en-US`.
    Fixed(String),
    /// One language, identified among `options` (none: any).
    Identify { options: Vec<String> },
    /// Several languages in one recording, identified among `options`.
    IdentifyMultiple { options: Vec<String> },
}

/// How speakers are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speakers {
    /// Diarization: up to this many voices in one channel (2 to 30).
    Labels(u8),
    /// One channel per speaker (a recording made of each participant's track).
    Channels,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// Deterministic: from the recording (`[0-9a-zA-Z._-]`, at most 200 characters).
    pub name: String,
    /// `s3://bucket/key` of the recording.
    pub media_uri: String,
    /// `mp4`, `webm`, `ogg`, `wav`, `mp3`, `flac`, `amr`, `m4a`.
    pub media_format: String,
    pub language: LanguageChoice,
    pub speakers: Speakers,
    pub output_bucket: String,
    pub output_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStarted {
    Started,
    /// A job of this name exists already (a repeated trigger): nothing new was started.
    AlreadyExists,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Running,
    Completed { transcript_uri: String, language: Option<String> },
    Failed { reason: String },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TranscriptionError {
    #[error("{0}")]
    Rejected(String),
    #[error("no such transcription job")]
    NotFound,
    #[error("transcription service: {0}")]
    Backend(String),
}

#[async_trait]
pub trait TranscriptionJobs: Send + Sync + 'static {
    async fn start(&self, job: &JobRequest) -> Result<JobStarted, TranscriptionError>;
    async fn state(&self, name: &str) -> Result<JobState, TranscriptionError>;
}

/// A transcription job name for a recording: Transcribe's alphabet only, at most 200 characters.
pub fn job_name(tenant: &str, recording_id: &str) -> String {
    let name: String = format!("confer-{tenant}-{recording_id}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    name.chars().take(200).collect()
}

/// A runtime without batch transcription (the local runtime transcribes tracks itself).
pub struct NoTranscriptionJobs;

#[async_trait]
impl TranscriptionJobs for NoTranscriptionJobs {
    async fn start(&self, _: &JobRequest) -> Result<JobStarted, TranscriptionError> {
        Err(TranscriptionError::Backend("this deployment has no batch transcription".into()))
    }
    async fn state(&self, _: &str) -> Result<JobState, TranscriptionError> {
        Err(TranscriptionError::Backend("this deployment has no batch transcription".into()))
    }
}

/// The tenant and recording a job name was made from ([`job_name`] in reverse).
pub fn parse_job_name(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("confer-")?;
    let (tenant, recording) = rest.rsplit_once('-')?;
    (!tenant.is_empty() && recording.starts_with("rec_")).then(|| (tenant.to_string(), recording.to_string()))
}
