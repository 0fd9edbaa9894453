//! Cloud recordings: Amazon Chime SDK media pipelines. Starting a recording creates a media
//! capture pipeline on the call's meeting into the recordings bucket (`capture/<tenant>/<rec>`:
//! the mixed audio and a composited video); stopping deletes it; when Chime reports it deleted
//! (`inbound::recordings`), a media concatenation pipeline joins the captured chunks into one
//! audio file and one composited video under `recordings/<tenant>/<rec>/final`, whose arrival
//! starts the transcription. SDK types stay here.

use async_trait::async_trait;
use aws_sdk_chimesdkmediapipelines::error::ProvideErrorMetadata;
use aws_sdk_chimesdkmediapipelines::types::{
    ArtifactsConcatenationConfiguration, ArtifactsConcatenationState, ArtifactsConfiguration, ArtifactsState,
    AudioArtifactsConcatenationState, AudioArtifactsConfiguration, AudioConcatenationConfiguration, AudioMuxType,
    ChimeSdkMeetingConcatenationConfiguration, ChimeSdkMeetingConfiguration, CompositedVideoArtifactsConfiguration,
    CompositedVideoConcatenationConfiguration, ConcatenationSink, ConcatenationSinkType, ConcatenationSource, ConcatenationSourceType,
    ContentArtifactsConfiguration, ContentConcatenationConfiguration, DataChannelConcatenationConfiguration, LayoutOption,
    MediaCapturePipelineSourceConfiguration, MediaPipelineSinkType, MediaPipelineSourceType, MeetingEventsConcatenationConfiguration,
    ResolutionOption, S3BucketSinkConfiguration, TranscriptionMessagesConcatenationConfiguration, VideoArtifactsConfiguration,
    VideoConcatenationConfiguration,
};
use aws_sdk_chimesdkmediapipelines::Client;
use serde_json::Value;

use crate::domain::recording::RecordingMode;
use crate::ports::recorder::{objects, AssembledFile, Recorder, RecorderError, RecordingRef, TrackChunks};

#[derive(Clone)]
pub struct ChimeRecorder {
    client: Client,
    bucket: String,
}

impl ChimeRecorder {
    pub fn new(config: &aws_config::SdkConfig, bucket: String) -> Self {
        Self::with_client(Client::new(config), bucket)
    }

    pub fn with_client(client: Client, bucket: String) -> Self {
        ChimeRecorder { client, bucket }
    }

    fn s3_arn(&self, prefix: &str) -> String {
        format!("arn:aws:s3:::{}/{prefix}", self.bucket)
    }
}

fn failure(operation: &str, e: impl ProvideErrorMetadata + std::fmt::Debug, not_found: bool, bad_request: bool) -> RecorderError {
    let message = e.message().map(str::to_string).unwrap_or_else(|| format!("{e:?}"));
    if not_found {
        return RecorderError::Gone;
    }
    if bad_request {
        return RecorderError::Rejected(format!("Chime refused {operation}: {message}"));
    }
    tracing::warn!(operation, code = e.code().unwrap_or_default(), message, "Chime media pipelines call failed");
    RecorderError::Unavailable(format!("Chime {operation}: {message}"))
}

fn built<T>(r: Result<T, aws_sdk_chimesdkmediapipelines::error::BuildError>) -> Result<T, RecorderError> {
    r.map_err(|e| RecorderError::Rejected(e.to_string()))
}

/// What the capture records: the mixed audio and a composited video of everyone (no separate
/// video per attendee, no content share track).
fn capture_artifacts() -> Result<ArtifactsConfiguration, RecorderError> {
    Ok(ArtifactsConfiguration::builder()
        .audio(built(AudioArtifactsConfiguration::builder().mux_type(AudioMuxType::AudioOnly).build())?)
        .video(built(VideoArtifactsConfiguration::builder().state(ArtifactsState::Disabled).build())?)
        .content(built(ContentArtifactsConfiguration::builder().state(ArtifactsState::Disabled).build())?)
        .composited_video(
            CompositedVideoArtifactsConfiguration::builder().layout(LayoutOption::GridView).resolution(ResolutionOption::Hd).build(),
        )
        .build())
}

/// What the concatenation joins: the audio and the composited video.
fn concatenated_artifacts() -> Result<ArtifactsConcatenationConfiguration, RecorderError> {
    let off = ArtifactsConcatenationState::Disabled;
    Ok(ArtifactsConcatenationConfiguration::builder()
        .audio(built(AudioConcatenationConfiguration::builder().state(AudioArtifactsConcatenationState::Enabled).build())?)
        .video(built(VideoConcatenationConfiguration::builder().state(off.clone()).build())?)
        .content(built(ContentConcatenationConfiguration::builder().state(off.clone()).build())?)
        .data_channel(built(DataChannelConcatenationConfiguration::builder().state(off.clone()).build())?)
        .transcription_messages(built(TranscriptionMessagesConcatenationConfiguration::builder().state(off.clone()).build())?)
        .meeting_events(built(MeetingEventsConcatenationConfiguration::builder().state(off).build())?)
        .composited_video(built(CompositedVideoConcatenationConfiguration::builder().state(ArtifactsConcatenationState::Enabled).build())?)
        .build())
}

#[async_trait]
impl Recorder for ChimeRecorder {
    fn mode(&self) -> RecordingMode {
        RecordingMode::Pipeline
    }

    async fn start(&self, r: &RecordingRef, meeting: Option<&Value>) -> Result<Option<String>, RecorderError> {
        let arn = meeting
            .and_then(|m| m.get("MeetingArn"))
            .and_then(Value::as_str)
            .ok_or_else(|| RecorderError::Rejected("the call has no Chime meeting to record".into()))?;
        let out = self
            .client
            .create_media_capture_pipeline()
            .source_type(MediaPipelineSourceType::ChimeSdkMeeting)
            .source_arn(arn)
            .sink_type(MediaPipelineSinkType::S3Bucket)
            .sink_arn(self.s3_arn(&objects::capture_prefix(&r.tenant, &r.recording_id)))
            .client_request_token(&r.recording_id)
            .chime_sdk_meeting_configuration(ChimeSdkMeetingConfiguration::builder().artifacts_configuration(capture_artifacts()?).build())
            .send()
            .await
            .map_err(|e| {
                let bad = e.as_service_error().is_some_and(|s| s.is_bad_request_exception());
                failure("CreateMediaCapturePipeline", e, false, bad)
            })?;
        let id = out
            .media_capture_pipeline()
            .and_then(|p| p.media_pipeline_id())
            .ok_or_else(|| RecorderError::Unavailable("Chime returned no media pipeline id".into()))?;
        Ok(Some(id.to_string()))
    }

    async fn stop(&self, pipeline_id: &str) -> Result<(), RecorderError> {
        match self.client.delete_media_capture_pipeline().media_pipeline_id(pipeline_id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let (nf, bad) = match e.as_service_error() {
                    Some(s) => (s.is_not_found_exception(), s.is_bad_request_exception()),
                    None => (false, false),
                };
                match failure("DeleteMediaCapturePipeline", e, nf, bad) {
                    RecorderError::Gone => Ok(()),
                    other => Err(other),
                }
            }
        }
    }

    async fn concatenate(&self, r: &RecordingRef, capture_pipeline_arn: &str) -> Result<String, RecorderError> {
        let source = built(
            ConcatenationSource::builder()
                .r#type(ConcatenationSourceType::MediaCapturePipeline)
                .media_capture_pipeline_source_configuration(built(
                    MediaCapturePipelineSourceConfiguration::builder()
                        .media_pipeline_arn(capture_pipeline_arn)
                        .chime_sdk_meeting_configuration(
                            ChimeSdkMeetingConcatenationConfiguration::builder().artifacts_configuration(concatenated_artifacts()?).build(),
                        )
                        .build(),
                )?)
                .build(),
        )?;
        let sink = built(
            ConcatenationSink::builder()
                .r#type(ConcatenationSinkType::S3Bucket)
                .s3_bucket_sink_configuration(built(
                    S3BucketSinkConfiguration::builder()
                        .destination(self.s3_arn(&objects::final_prefix(&r.tenant, &r.recording_id)))
                        .build(),
                )?)
                .build(),
        )?;
        let out = self
            .client
            .create_media_concatenation_pipeline()
            .sources(source)
            .sinks(sink)
            .client_request_token(format!("{}-final", r.recording_id))
            .send()
            .await
            .map_err(|e| {
                let bad = e.as_service_error().is_some_and(|s| s.is_bad_request_exception());
                failure("CreateMediaConcatenationPipeline", e, false, bad)
            })?;
        Ok(out.media_concatenation_pipeline().and_then(|p| p.media_pipeline_id()).unwrap_or_default().to_string())
    }

    async fn assemble(&self, _: &RecordingRef, _: &[TrackChunks]) -> Result<Vec<AssembledFile>, RecorderError> {
        Err(RecorderError::NotAvailable)
    }

    async fn chunks_complete(&self, _: &RecordingRef, _: &[TrackChunks]) -> bool {
        false
    }
}
