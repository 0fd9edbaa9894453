//! Transcription, driven by storage: a final file under `recordings/` starts it (local: the
//! speech engine on a participant's track; cloud: an Amazon Transcribe job on the concatenated
//! audio), and the job's completion stores the transcript. Every step is idempotent: a repeated
//! notification finds its work done.

use std::collections::BTreeMap;

use serde_json::json;

use super::store::{Recordings, StoredRecording, TranscriptHeader};
use crate::app::{settings, App};
use crate::domain::recording::{track_object_name, MediaFile, RecordingStatus, TranscriptState, TranscriptStatus};
use crate::domain::{RecordingId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::ports::recorder::objects::{self, FinalObject};
use crate::ports::table::StoreError;
use crate::ports::transcriber::TranscribeError;
use crate::ports::transcription::{self, JobRequest, JobState, LanguageChoice, Speakers, TranscriptionError};
use crate::transcript::{Transcript, Turn, Word};

/// Voices Transcribe tells apart in one mixed recording (a 1:1 call, with room for a second
/// agent or a customer's companion).
pub const MAX_SPEAKERS: u8 = 4;
/// The largest Transcribe output read back.
pub const MAX_TRANSCRIPT_BYTES: u64 = 64 * 1024 * 1024;

/// Handles one final object (`recordings-transcribe`). `Err` only for what a retry may fix.
pub async fn on_final_object(app: &App, bucket: &str, key: &str, size: u64) -> AppResult<()> {
    let Some(object) = objects::parse_final(key) else {
        tracing::debug!(key, "not a final recording file");
        return Ok(());
    };
    let (tenant, recording) = match &object {
        FinalObject::Track { tenant, recording, .. }
        | FinalObject::Mixed { tenant, recording }
        | FinalObject::Audio { tenant, recording }
        | FinalObject::Video { tenant, recording } => (tenant, recording),
    };
    let (Ok(tenant), Ok(id)) = (TenantId::parse(tenant), RecordingId::parse(recording)) else {
        tracing::warn!(key, "a recordings object outside Confer's layout");
        return Ok(());
    };
    let Some(stored) = Recordings::new(app, &tenant).get(&id).await? else {
        tracing::warn!(key, "a file for a recording Confer does not know");
        return Ok(());
    };
    match object {
        FinalObject::Track { track, .. } => transcribe_track(app, &tenant, &id, stored, key, &track).await,
        FinalObject::Mixed { .. } => Ok(()),
        FinalObject::Audio { .. } => pipeline_audio(app, &tenant, &id, bucket, key, size).await,
        FinalObject::Video { .. } => pipeline_video(app, &tenant, &id, key, size).await,
    }
}

fn finished(stored: &StoredRecording) -> bool {
    matches!(stored.recording.transcript.status, TranscriptStatus::Ready | TranscriptStatus::Unavailable | TranscriptStatus::Failed)
}

/// Changes the recording's transcript state (once), with its event in the same write where the
/// runtime allows.
async fn set_transcript(
    app: &App,
    tenant: &TenantId,
    id: &RecordingId,
    state: TranscriptState,
    event: impl Fn(&StoredRecording) -> Option<EventEnvelope>,
) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    for _ in 0..16 {
        let Some(mut stored) = repo.get(id).await? else { return Ok(()) };
        if finished(&stored) || stored.recording.transcript == state {
            return Ok(());
        }
        stored.recording.transcript = state.clone();
        let op = repo.replace_op(&mut stored)?;
        let result = match event(&stored) {
            Some(e) => app.transact_with_event(vec![op], e).await,
            None => app.table.transact_write(vec![op]).await.map(|()| None),
        };
        match result {
            Ok(unpublished) => {
                if let Some(e) = unpublished {
                    app.publish(e).await;
                }
                super::notify(app, tenant, &stored.recording).await;
                tracing::info!(recording_id = %id, status = ?state.status, reason = ?state.reason, "transcript state changed");
                return Ok(());
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("the recording is changing; try again".into()))
}

fn state(status: TranscriptStatus, reason: Option<String>) -> TranscriptState {
    TranscriptState { status, reason, language: None, turns: None }
}

/// The language the local engine transcribes in: the tenant's, or its one model's (English)
/// when the tenant asks for identification, which it cannot do.
fn local_language(choice: LanguageChoice) -> String {
    match choice {
        LanguageChoice::Fixed(code) => code,
        LanguageChoice::Identify { .. } | LanguageChoice::IdentifyMultiple { .. } => "en-US".into(),
    }
}

async fn transcribe_track(
    app: &App,
    tenant: &TenantId,
    id: &RecordingId,
    stored: StoredRecording,
    key: &str,
    object_name: &str,
) -> AppResult<()> {
    if finished(&stored) {
        return Ok(());
    }
    let repo = Recordings::new(app, tenant);
    if repo.track_turns(id, object_name).await?.is_some() {
        return complete_tracks(app, tenant, id).await;
    }
    let Some(info) = repo.track(id, object_name).await? else {
        tracing::warn!(key, "a track the recording browser never announced");
        return Ok(());
    };
    let Some(path) = app.recordings.local_file(key) else {
        return set_transcript(
            app,
            tenant,
            id,
            state(TranscriptStatus::Unavailable, Some("the track is not stored on this machine".into())),
            |_| None,
        )
        .await;
    };
    let language = local_language(settings::load(app, tenant).await?.transcription.choice());
    set_transcript(app, tenant, id, state(TranscriptStatus::Processing, None), |_| None).await?;
    match app.transcriber.transcribe(&path, &language).await {
        Ok(words) => {
            let words = words
                .into_iter()
                .map(|w| Word {
                    speaker: info.track.clone(),
                    start_ms: w.start_ms + info.offset_ms,
                    end_ms: w.end_ms + info.offset_ms,
                    text: w.text,
                    confidence: w.confidence,
                    punctuation: false,
                    language: None,
                })
                .collect();
            let turns = Transcript::from_words(words, Some(language), false).turns;
            tracing::info!(recording_id = %id, track = %info.track, turns = turns.len(), "track transcribed");
            repo.put_track_turns(id, object_name, &turns).await?;
            complete_tracks(app, tenant, id).await
        }
        Err(TranscribeError::NotConfigured(why)) | Err(TranscribeError::UnsupportedLanguage(why)) => {
            set_transcript(app, tenant, id, state(TranscriptStatus::Unavailable, Some(why)), |_| None).await
        }
        Err(TranscribeError::Unreadable(why)) => {
            let reason = format!("the track {} cannot be read: {why}", info.track);
            set_transcript(app, tenant, id, state(TranscriptStatus::Failed, Some(reason)), |_| None).await
        }
        Err(e @ TranscribeError::Engine(_)) => Err(AppError::internal(e)),
    }
}

/// When every track of the recording is transcribed, their turns become the transcript.
async fn complete_tracks(app: &App, tenant: &TenantId, id: &RecordingId) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    let Some(stored) = repo.get(id).await? else { return Ok(()) };
    if stored.recording.status != RecordingStatus::Available || finished(&stored) {
        return Ok(());
    }
    let mut turns: Vec<Turn> = Vec::new();
    let mut known = BTreeMap::new();
    for track in &stored.recording.tracks {
        let Some(mut t) = repo.track_turns(id, &track_object_name(&track.participant)).await? else { return Ok(()) };
        turns.append(&mut t);
        known.insert(track.track.clone(), (track.name.clone(), Some(track.participant.clone())));
    }
    turns.sort_by_key(|t| (t.start_ms, t.end_ms));
    let mut speakers: Vec<String> = Vec::new();
    for t in &turns {
        if !speakers.contains(&t.speaker) {
            speakers.push(t.speaker.clone());
        }
    }
    let language = turns.iter().find_map(|t| t.language.clone()).or_else(|| Some("en-US".to_string()));
    let header = TranscriptHeader { language: language.clone(), speakers, turns: turns.len(), redacted: false, known };
    store_ready(app, tenant, id, header, &turns).await
}

async fn store_ready(app: &App, tenant: &TenantId, id: &RecordingId, header: TranscriptHeader, turns: &[Turn]) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    repo.put_transcript(id, None, &header, turns).await?;
    // What is stored wins (a concurrent writer may have stored the same first).
    let header = repo.transcript_header(id, None).await?.unwrap_or(header);
    let ready =
        TranscriptState { status: TranscriptStatus::Ready, reason: None, language: header.language.clone(), turns: Some(header.turns) };
    let names: Vec<String> = header.speakers.clone();
    set_transcript(app, tenant, id, ready, |s| {
        Some(EventEnvelope::new(
            types::TRANSCRIPT_READY,
            tenant,
            format!("{}:transcript.ready", s.recording.id),
            json!({
                "recording_id": s.recording.id, "session_id": s.recording.session_id, "customer_id": s.recording.customer_id,
                "language": header.language, "turns": header.turns, "speakers": names,
            }),
        ))
    })
    .await
}

/// The concatenated audio arrived (cloud): the recording is available and Transcribe starts.
async fn pipeline_audio(app: &App, tenant: &TenantId, id: &RecordingId, bucket: &str, key: &str, size: u64) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    let media = MediaFile { track: "audio".into(), content_type: "audio/mp4".into(), size };
    let mut event = None;
    for _ in 0..16 {
        let Some(mut stored) = repo.get(id).await? else { return Ok(()) };
        if stored.recording.status == RecordingStatus::Available && stored.media_keys.contains_key("audio") {
            break;
        }
        stored.recording.status = RecordingStatus::Available;
        stored.recording.media.retain(|m| m.track != "audio");
        stored.recording.media.push(media.clone());
        stored.media_keys.insert("audio".into(), key.to_string());
        if stored.recording.transcript.status == TranscriptStatus::Pending {
            stored.recording.transcript = state(TranscriptStatus::Processing, None);
        }
        let op = repo.replace_op(&mut stored)?;
        match app.transact_with_event(vec![op], super::assemble::available_event(tenant, &stored)).await {
            Ok(unpublished) => {
                event = unpublished;
                super::notify(app, tenant, &stored.recording).await;
                break;
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(e) = event {
        app.publish(e).await;
    }
    let settings = settings::load(app, tenant).await?;
    let format = key.rsplit('.').next().unwrap_or("mp4").to_ascii_lowercase();
    let job = JobRequest {
        name: transcription::job_name(tenant.as_str(), id.as_str()),
        media_uri: format!("s3://{bucket}/{key}"),
        media_format: format,
        language: settings.transcription.choice(),
        speakers: Speakers::Labels(MAX_SPEAKERS),
        output_bucket: bucket.to_string(),
        output_key: objects::transcript_output(tenant.as_str(), id.as_str()),
    };
    match app.transcription.start(&job).await {
        Ok(started) => {
            tracing::info!(recording_id = %id, job = %job.name, ?started, "transcription job");
            Ok(())
        }
        Err(TranscriptionError::Rejected(why)) => {
            set_transcript(
                app,
                tenant,
                id,
                state(TranscriptStatus::Failed, Some(format!("Amazon Transcribe refused the job: {why}"))),
                |_| None,
            )
            .await
        }
        Err(e) => Err(AppError::internal(e)),
    }
}

/// The composited video arrived (cloud): it is the recording's `mixed` media.
async fn pipeline_video(app: &App, tenant: &TenantId, id: &RecordingId, key: &str, size: u64) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    let updated = repo
        .update(id, |s| {
            if s.media_keys.get("mixed").map(String::as_str) == Some(key) {
                return Ok(false);
            }
            s.recording.media.retain(|m| m.track != "mixed");
            s.recording.media.insert(0, MediaFile { track: "mixed".into(), content_type: "video/mp4".into(), size });
            s.media_keys.insert("mixed".into(), key.to_string());
            Ok(true)
        })
        .await?;
    if let Some((stored, true)) = updated {
        super::notify(app, tenant, &stored.recording).await;
    }
    Ok(())
}

/// A Transcribe job changed state (`recordings-transcribed`). `Err` only for what a retry may fix.
pub async fn on_job_state(app: &App, job_name: &str) -> AppResult<()> {
    let Some((tenant, recording)) = transcription::parse_job_name(job_name) else {
        tracing::info!(job_name, "a transcription job Confer did not start");
        return Ok(());
    };
    let (Ok(tenant), Ok(id)) = (TenantId::parse(&tenant), RecordingId::parse(&recording)) else { return Ok(()) };
    let Some(stored) = Recordings::new(app, &tenant).get(&id).await? else { return Ok(()) };
    if finished(&stored) {
        return Ok(());
    }
    match app.transcription.state(job_name).await {
        Ok(JobState::Running) => Ok(()),
        Ok(JobState::Failed { reason }) => {
            set_transcript(app, &tenant, &id, state(TranscriptStatus::Failed, Some(format!("Amazon Transcribe: {reason}"))), |_| None).await
        }
        Ok(JobState::Completed { .. }) => {
            let key = objects::transcript_output(tenant.as_str(), id.as_str());
            let bytes = match app.recordings.read(&key, MAX_TRANSCRIPT_BYTES).await {
                Ok(Some(b)) => b,
                Ok(None) => return Err(AppError::internal(format!("the transcription output {key} is not there yet"))),
                Err(crate::ports::BlobError::TooLarge { .. }) => {
                    let why = format!("the transcription output is over {MAX_TRANSCRIPT_BYTES} bytes");
                    return set_transcript(app, &tenant, &id, state(TranscriptStatus::Failed, Some(why)), |_| None).await;
                }
                Err(e) => return Err(AppError::internal(e)),
            };
            match crate::transcript::transcribe::parse(&bytes) {
                Ok(t) => {
                    let header = TranscriptHeader {
                        language: t.language.clone(),
                        speakers: t.speakers.clone(),
                        turns: t.turns.len(),
                        redacted: t.redacted,
                        known: BTreeMap::new(),
                    };
                    store_ready(app, &tenant, &id, header, &t.turns).await
                }
                Err(e) => {
                    let why = format!("the transcription output cannot be read: {e}");
                    set_transcript(app, &tenant, &id, state(TranscriptStatus::Failed, Some(why)), |_| None).await
                }
            }
        }
        Err(TranscriptionError::NotFound) => Ok(()),
        Err(e) => Err(AppError::internal(e)),
    }
}
