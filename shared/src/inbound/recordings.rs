//! Recordings' inbound events: final files arriving in the recordings bucket (S3), Amazon
//! Transcribe's job state changes and Chime media pipelines' state changes (EventBridge).

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Event;
use serde::Deserialize;
use serde_json::Value;

use super::s3::decoded_key;
use super::Outcome;
use crate::app::recordings::{pipeline, transcribe};
use crate::app::App;
use crate::error::AppError;

pub const TRANSCRIBE_SOURCE: &str = "aws.transcribe";
pub const TRANSCRIBE_DETAIL_TYPE: &str = "Transcribe Job State Change";
/// `detail.TranscriptionJobStatus` values the rule forwards.
pub const TRANSCRIBE_STATUSES: &[&str] = &["COMPLETED", "FAILED"];

pub const PIPELINE_SOURCE: &str = "aws.chime";
pub const PIPELINE_DETAIL_TYPE: &str = "Chime Media Pipeline State Change";
/// `detail.eventType` values the rule forwards.
pub const PIPELINE_EVENT_TYPES: &[&str] = &["chime:MediaPipelineDeleted", "chime:MediaPipelinePermanentFailure"];

/// Each final recording file starts its transcription (`recordings-transcribe`). A record that
/// fails for a transient reason is reported for retry.
pub async fn final_files(app: Arc<App>, event: S3Event) -> Outcome {
    let mut outcome = Outcome::default();
    for (i, record) in event.records.iter().enumerate() {
        let Some(raw) = record.s3.object.key.as_deref() else { continue };
        let key = decoded_key(raw);
        let bucket = record.s3.bucket.name.clone().unwrap_or_default();
        let size = record.s3.object.size.unwrap_or(0).max(0) as u64;
        if let Err(e) = transcribe::on_final_object(&app, &bucket, &key, size).await {
            tracing::error!(key = %key, error = %e, "a final recording file could not be handled; to be retried");
            outcome.failed.push(i);
        }
    }
    outcome
}

/// The `detail` of a Transcribe job state change.
#[derive(Debug, Clone, Deserialize)]
pub struct JobStateChange {
    #[serde(rename = "TranscriptionJobName")]
    pub job_name: String,
    #[serde(rename = "TranscriptionJobStatus")]
    pub status: String,
}

/// A Transcribe job finished (`recordings-transcribed`): its transcript is read and stored.
pub async fn job_state_changed(app: Arc<App>, event: EventBridgeEvent<Value>) -> Result<(), AppError> {
    if event.source != TRANSCRIBE_SOURCE || event.detail_type != TRANSCRIBE_DETAIL_TYPE {
        tracing::warn!(source = %event.source, detail_type = %event.detail_type, "not a Transcribe job state change; ignored");
        return Ok(());
    }
    let change: JobStateChange = match serde_json::from_value(event.detail) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, id = ?event.id, "a Transcribe event without the documented detail; ignored");
            return Ok(());
        }
    };
    tracing::info!(job = %change.job_name, status = %change.status, "transcription job state");
    settle(transcribe::on_job_state(&app, &change.job_name).await)
}

/// The `detail` of a media pipeline state change.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStateChange {
    pub event_type: String,
    pub media_pipeline_id: String,
}

/// A capture pipeline was deleted (the recording stopped): its chunks are concatenated; or it
/// failed for good (`recordings-pipeline-events`).
pub async fn pipeline_state_changed(app: Arc<App>, event: EventBridgeEvent<Value>) -> Result<(), AppError> {
    if event.source != PIPELINE_SOURCE || event.detail_type != PIPELINE_DETAIL_TYPE {
        tracing::warn!(source = %event.source, detail_type = %event.detail_type, "not a media pipeline state change; ignored");
        return Ok(());
    }
    let change: PipelineStateChange = match serde_json::from_value(event.detail) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, id = ?event.id, "a media pipeline event without the documented detail; ignored");
            return Ok(());
        }
    };
    let region = event.region.clone().unwrap_or_default();
    let account = event.account.clone().unwrap_or_default();
    let arn = format!("arn:aws:chime:{region}:{account}:media-pipeline/{}", change.media_pipeline_id);
    settle(pipeline::on_state(&app, &change.media_pipeline_id, &arn, &change.event_type).await)
}

/// Only a backend failure is worth a retry; anything else is logged and acknowledged.
fn settle(result: Result<(), AppError>) -> Result<(), AppError> {
    match result {
        Err(e) if !e.is_retryable() => {
            tracing::error!(error = %e, "an event that cannot be applied; acknowledged");
            Ok(())
        }
        other => other,
    }
}
