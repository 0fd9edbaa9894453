//! Cloud recordings: when Chime reports a recording's capture pipeline deleted (the recording
//! stopped, or the meeting ended), a concatenation pipeline joins the captured chunks into final
//! files under `recordings/`; a pipeline that failed for good fails its recording.

use super::store::Recordings;
use crate::app::App;
use crate::domain::recording::{RecordingStatus, TranscriptState, TranscriptStatus};
use crate::domain::{RecordingId, TenantId};
use crate::error::{AppError, AppResult};
use crate::ports::recorder::{RecorderError, RecordingRef};

/// Applies a pipeline's state change. Pipelines Confer does not know (or concatenation
/// pipelines it started itself) are acknowledged.
pub async fn on_state(app: &App, pipeline_id: &str, pipeline_arn: &str, event_type: &str) -> AppResult<()> {
    let Some(reference) = Recordings::pipeline(app, pipeline_id).await? else {
        tracing::info!(pipeline_id, event_type, "a media pipeline Confer does not know");
        return Ok(());
    };
    let tenant = TenantId::parse(&reference.tenant)?;
    let id = RecordingId::parse(&reference.recording_id)?;
    let repo = Recordings::new(app, &tenant);
    match event_type {
        "chime:MediaPipelineDeleted" => {
            // Claim the concatenation once; a repeated event finds it claimed.
            let Some((stored, claimed)) = repo
                .update(&id, |s| {
                    if s.assembling || s.pipeline_id.as_deref() != Some(pipeline_id) {
                        return Ok(false);
                    }
                    s.assembling = true;
                    if s.recording.status == RecordingStatus::Recording {
                        s.recording.status = RecordingStatus::Processing;
                    }
                    Ok(true)
                })
                .await?
            else {
                return Ok(());
            };
            if !claimed {
                return Ok(());
            }
            let r =
                RecordingRef { tenant: tenant.to_string(), session_id: stored.recording.session_id.clone(), recording_id: id.to_string() };
            match app.recorder.concatenate(&r, pipeline_arn).await {
                Ok(concatenation) => {
                    tracing::info!(recording_id = %id, capture = pipeline_id, concatenation = %concatenation, "concatenation started");
                    Ok(())
                }
                Err(RecorderError::Rejected(why)) => {
                    fail(app, &tenant, &id, format!("the recording could not be concatenated: {why}")).await
                }
                Err(e) => {
                    // Give the claim back, so the retry concatenates.
                    repo.update(&id, |s| {
                        s.assembling = false;
                        Ok(true)
                    })
                    .await?;
                    Err(AppError::internal(e))
                }
            }
        }
        "chime:MediaPipelinePermanentFailure" => fail(app, &tenant, &id, "the media pipeline failed".into()).await,
        _ => Ok(()),
    }
}

async fn fail(app: &App, tenant: &TenantId, id: &RecordingId, why: String) -> AppResult<()> {
    let updated = Recordings::new(app, tenant)
        .update(id, |s| {
            if matches!(s.recording.status, RecordingStatus::Available | RecordingStatus::Failed) {
                return Ok(false);
            }
            s.recording.status = RecordingStatus::Failed;
            s.recording.failure = Some(why.clone());
            s.recording.transcript = TranscriptState {
                status: TranscriptStatus::Unavailable,
                reason: Some("nothing was recorded".into()),
                language: None,
                turns: None,
            };
            Ok(true)
        })
        .await?;
    if let Some((stored, true)) = updated {
        tracing::warn!(recording_id = %id, reason = %why, "recording failed");
        super::notify(app, tenant, &stored.recording).await;
    }
    Ok(())
}
