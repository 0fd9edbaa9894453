//! Amazon Transcribe batch jobs (`StartTranscriptionJob`, `GetTranscriptionJob`).

use async_trait::async_trait;
use aws_sdk_transcribe::types::{LanguageCode, Media, MediaFormat, Settings, TranscriptionJobStatus};
use aws_sdk_transcribe::Client;

use crate::ports::transcription::{JobRequest, JobStarted, JobState, LanguageChoice, Speakers, TranscriptionError, TranscriptionJobs};

#[derive(Clone)]
pub struct AmazonTranscribe {
    client: Client,
}

impl AmazonTranscribe {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        AmazonTranscribe { client: Client::new(config) }
    }
}

#[async_trait]
impl TranscriptionJobs for AmazonTranscribe {
    async fn start(&self, job: &JobRequest) -> Result<JobStarted, TranscriptionError> {
        let settings = match job.speakers {
            Speakers::Labels(n) => Settings::builder().show_speaker_labels(true).max_speaker_labels(i32::from(n.clamp(2, 30))).build(),
            Speakers::Channels => Settings::builder().channel_identification(true).build(),
        };
        let mut request = self
            .client
            .start_transcription_job()
            .transcription_job_name(&job.name)
            .media(Media::builder().media_file_uri(&job.media_uri).build())
            .media_format(MediaFormat::from(job.media_format.as_str()))
            .output_bucket_name(&job.output_bucket)
            .output_key(&job.output_key)
            .settings(settings);
        // Exactly one of the three language parameters.
        request = match &job.language {
            LanguageChoice::Fixed(code) => request.language_code(LanguageCode::from(code.as_str())),
            LanguageChoice::Identify { options } => {
                options.iter().fold(request.identify_language(true), |r, o| r.language_options(LanguageCode::from(o.as_str())))
            }
            LanguageChoice::IdentifyMultiple { options } => {
                options.iter().fold(request.identify_multiple_languages(true), |r, o| r.language_options(LanguageCode::from(o.as_str())))
            }
        };
        match request.send().await {
            Ok(_) => Ok(JobStarted::Started),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_conflict_exception() => Ok(JobStarted::AlreadyExists),
                Some(s) if s.is_bad_request_exception() => Err(TranscriptionError::Rejected(s.to_string())),
                _ => Err(TranscriptionError::Backend(aws_sdk_transcribe::error::DisplayErrorContext(&e).to_string())),
            },
        }
    }

    async fn state(&self, name: &str) -> Result<JobState, TranscriptionError> {
        let out =
            self.client.get_transcription_job().transcription_job_name(name).send().await.map_err(|e| match e.as_service_error() {
                Some(s) if s.is_not_found_exception() => TranscriptionError::NotFound,
                // Transcribe answers an unknown job name with BadRequest ("couldn't be found").
                Some(s) if s.is_bad_request_exception() && s.to_string().contains("couldn't be found") => TranscriptionError::NotFound,
                _ => TranscriptionError::Backend(aws_sdk_transcribe::error::DisplayErrorContext(&e).to_string()),
            })?;
        let job = out.transcription_job().ok_or(TranscriptionError::NotFound)?;
        Ok(match job.transcription_job_status() {
            Some(TranscriptionJobStatus::Completed) => JobState::Completed {
                transcript_uri: job.transcript().and_then(|t| t.transcript_file_uri()).unwrap_or_default().to_string(),
                language: job.language_code().map(|l| l.as_str().to_string()),
            },
            Some(TranscriptionJobStatus::Failed) => JobState::Failed { reason: job.failure_reason().unwrap_or("failed").to_string() },
            _ => JobState::Running,
        })
    }
}
