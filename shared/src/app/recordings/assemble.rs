//! Local recordings after the stop: each track's chunks become one file, all tracks one mixed
//! file; the recording becomes `available` (`recording.available`), and the final files' storage
//! notifications start their transcription.

use std::time::Duration;

use serde_json::json;

use super::store::{Recordings, StoredRecording};
use crate::app::App;
use crate::domain::recording::{MediaFile, RecordingStatus, Track, TranscriptState, TranscriptStatus};
use crate::domain::{CustomerId, ParticipantRef, RecordingId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::ports::recorder::{RecordingRef, TrackChunks};
use crate::ports::table::StoreError;

/// How long after a stop the chunks still in flight may arrive, when the browser did not say
/// how many it sent (the call ended, the tab closed).
pub const GRACE: Duration = Duration::from_secs(10);

/// Whether chunks are no longer accepted.
pub fn begun(stored: &StoredRecording) -> bool {
    stored.assembling
}

fn reference(tenant: &TenantId, stored: &StoredRecording) -> RecordingRef {
    RecordingRef { tenant: tenant.to_string(), session_id: stored.recording.session_id.clone(), recording_id: stored.recording.id.clone() }
}

async fn chunk_list(app: &App, tenant: &TenantId, stored: &StoredRecording) -> AppResult<Vec<TrackChunks>> {
    let id = RecordingId::parse(&stored.recording.id)?;
    let tracks = Recordings::new(app, tenant).tracks(&id).await?;
    Ok(tracks
        .into_iter()
        .map(|t| TrackChunks { expected: stored.expected_chunks.get(&t.object_name).copied(), object_name: t.object_name })
        .collect())
}

/// Assembles the recording once its chunks are in: at once when every chunk the browser
/// reported has arrived, otherwise after [`GRACE`].
pub fn schedule(app: App, tenant: TenantId, id: RecordingId) {
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + GRACE;
        loop {
            let complete = match Recordings::new(&app, &tenant).get(&id).await {
                Ok(Some(stored)) if stored.chunks_reported => match chunk_list(&app, &tenant, &stored).await {
                    Ok(list) => {
                        list.iter().all(|t| t.expected.is_some()) && app.recorder.chunks_complete(&reference(&tenant, &stored), &list).await
                    }
                    Err(_) => false,
                },
                Ok(Some(_)) => false,
                Ok(None) | Err(_) => return,
            };
            if complete || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if let Err(e) = run(&app, &tenant, &id).await {
            tracing::error!(recording_id = %id, error = %e, "recording assembly failed");
        }
    });
}

/// Finishes a recording that was stopped, but not yet assembled, when Confer last stopped: a
/// half-done assembly starts again (it rewrites the same files), a waiting one is scheduled.
/// Recordings in any other state are left as they are.
pub async fn resume(app: App, tenant: TenantId, id: RecordingId) -> AppResult<bool> {
    let repo = Recordings::new(&app, &tenant);
    let Some((_, changed)) = repo
        .update(&id, |s| {
            if s.recording.status != RecordingStatus::Processing {
                return Ok(false);
            }
            s.assembling = false;
            Ok(true)
        })
        .await?
    else {
        return Ok(false);
    };
    if changed {
        tracing::info!(recording_id = %id, "resuming the assembly of a stopped recording");
        schedule(app, tenant, id);
    }
    Ok(changed)
}

/// Display names of a recording's participants: customers by their profile, agents by their
/// directory entry (their id where the directory does not know them).
pub async fn participant_name(app: &App, tenant: &TenantId, who: &ParticipantRef) -> String {
    match who {
        ParticipantRef::Customer(id) => {
            let Ok(cid) = CustomerId::parse(id) else { return id.clone() };
            match app.table.get(&crate::keys::customer(tenant, &cid)).await {
                Ok(Some(item)) => item.get("name").and_then(|v| v.as_str()).unwrap_or(id).to_string(),
                _ => id.clone(),
            }
        }
        ParticipantRef::Agent(id) => match app.agents.list(tenant.as_str()).await {
            Ok(agents) => agents.into_iter().find(|a| a.id == *id).map(|a| a.username).unwrap_or_else(|| id.clone()),
            Err(_) => id.clone(),
        },
    }
}

/// Assembles a stopped browser recording (once: a second run finds it begun).
pub async fn run(app: &App, tenant: &TenantId, id: &RecordingId) -> AppResult<()> {
    let repo = Recordings::new(app, tenant);
    let Some((stored, changed)) = repo
        .update(id, |s| {
            if s.recording.status != RecordingStatus::Processing || s.assembling {
                return Ok(false);
            }
            s.assembling = true;
            Ok(true)
        })
        .await?
    else {
        return Ok(());
    };
    if !changed {
        return Ok(());
    }
    let list = chunk_list(app, tenant, &stored).await?;
    let infos = repo.tracks(id).await?;
    let assembled = app.recorder.assemble(&reference(tenant, &stored), &list).await;
    let mut tracks = Vec::new();
    let mut media = Vec::new();
    let mut media_keys = std::collections::BTreeMap::new();
    let mut failure = None;
    let mut files = Vec::new();
    match assembled {
        Ok(f) => files = f,
        Err(e) => failure = Some(format!("the recording could not be assembled: {e}")),
    }
    for f in &files {
        if f.object_name == "mixed" {
            media.insert(0, MediaFile { track: "mixed".into(), content_type: f.content_type.clone(), size: f.size });
            media_keys.insert("mixed".to_string(), f.key.clone());
            continue;
        }
        let Some(info) = infos.iter().find(|i| i.object_name == f.object_name) else { continue };
        media_keys.insert(info.track.clone(), f.key.clone());
        media.push(MediaFile { track: info.track.clone(), content_type: f.content_type.clone(), size: f.size });
        tracks.push(Track {
            track: info.track.clone(),
            participant: info.participant.clone(),
            name: participant_name(app, tenant, &info.participant).await,
            content_type: f.content_type.clone(),
            size: f.size,
            duration_ms: f.duration_ms,
        });
    }
    if failure.is_none() && tracks.is_empty() {
        failure = Some("no part of the recording reached storage".into());
    }
    let duration = files.iter().filter_map(|f| f.duration_ms).max();
    let mut event = None;
    for _ in 0..16 {
        let mut current = repo.get(id).await?.ok_or(AppError::NotFound("recording"))?;
        current.recording.tracks = tracks.clone();
        current.recording.media = media.clone();
        current.media_keys = media_keys.clone();
        current.recording.duration_ms = duration;
        match &failure {
            Some(why) => {
                current.recording.status = RecordingStatus::Failed;
                current.recording.failure = Some(why.clone());
                current.recording.transcript = TranscriptState {
                    status: TranscriptStatus::Unavailable,
                    reason: Some("nothing was recorded".into()),
                    language: None,
                    turns: None,
                };
            }
            None => current.recording.status = RecordingStatus::Available,
        }
        let op = repo.replace_op(&mut current)?;
        let available = failure.is_none().then(|| available_event(tenant, &current));
        let result = match available.clone() {
            Some(e) => app.transact_with_event(vec![op], e).await,
            None => app.table.transact_write(vec![op]).await.map(|()| None),
        };
        match result {
            Ok(unpublished) => {
                event = unpublished;
                super::notify(app, tenant, &current.recording).await;
                tracing::info!(recording_id = %id, tracks = tracks.len(), ?duration, failed = failure.is_some(), "recording assembled");
                break;
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(e) = event {
        app.publish(e).await;
    }
    // The final files' notifications start their transcription (S3 raises them in the cloud).
    app.recorder.announce(&files);
    Ok(())
}

pub fn available_event(tenant: &TenantId, stored: &StoredRecording) -> EventEnvelope {
    let r = &stored.recording;
    EventEnvelope::new(
        types::RECORDING_AVAILABLE,
        tenant,
        format!("{}:available", r.id),
        json!({
            "recording_id": r.id, "session_id": r.session_id, "customer_id": r.customer_id, "call_id": r.call_id,
            "duration_ms": r.duration_ms, "tracks": r.tracks, "media": r.media,
        }),
    )
}
