//! Recording a call: a participating agent starts and stops it; every participant is told
//! (`call` frames `recording_started` / `recording_stopped`), and the session's history keeps who
//! did. The recording itself lives on in `app::recordings`.

use std::collections::BTreeMap;

use super::*;
use crate::app::recordings::store::{Recordings, StoredRecording};
use crate::app::recordings::{self, assemble};
use crate::domain::recording::{CallRecording, Recording, RecordingMode, RecordingStatus, TranscriptState};
use crate::domain::{RecordingId, Role};
use crate::ports::recorder::{RecorderError, RecordingRef};

/// What stopping may say: the chunks the recording browser uploaded per track.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopRecording {
    #[serde(default, deserialize_with = "whole_counts")]
    #[schema(schema_with = chunk_counts)]
    pub chunks: Option<BTreeMap<String, u64>>,
}

/// Chunk counts, each a JSON integer also when written with a zero fraction.
fn whole_counts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, u64>>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "crate::domain::whole_number")] u64);
    let counts = <Option<BTreeMap<String, Whole>> as Deserialize>::deserialize(d)?;
    Ok(counts.map(|m| m.into_iter().map(|(k, v)| (k, v.0)).collect()))
}

/// `{"<kind>.<id>": count}`: at most 16 tracks, each 0 to [`MAX_CHUNKS`] chunks.
fn chunk_counts() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let count = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).maximum(Some(MAX_CHUNKS as f64));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The chunks uploaded per track (`agent.<id>`, `customer.<id>`)"))
        .property_names(Some(ObjectBuilder::new().schema_type(Type::String).pattern(Some(crate::domain::recording::TRACK_PATTERN))))
        .additional_properties(Some(count))
        .max_properties(Some(16))
        .build()
}

fn recorder_error(e: RecorderError) -> AppError {
    match e {
        RecorderError::NotAvailable => AppError::NotAvailable("call recording"),
        RecorderError::Rejected(why) => AppError::validation(why),
        RecorderError::Gone => AppError::Conflict("the call's meeting has already ended".into()),
        RecorderError::Unavailable(why) => AppError::internal(format!("recorder: {why}")),
    }
}

fn require_agent(p: &Principal) -> AppResult<()> {
    match p.role {
        Role::Agent | Role::Admin => Ok(()),
        Role::Customer => Err(AppError::Forbidden("only the business's agents record calls".into())),
    }
}

fn recording_summary(call: &Call, event: &str, by: &ParticipantRef, recording_id: &str) -> CallSummary {
    CallSummary {
        call_id: call.id.clone(),
        event: event.into(),
        quality: call.quality,
        started_at: call.started_at.clone(),
        ended_at: None,
        duration_seconds: None,
        participants: present(call),
        by: Some(by.clone()),
        recording_id: Some(recording_id.to_string()),
        provider: None,
        join_url: None,
    }
}

/// Starts recording the session's call (`true`), or answers the running recording (`false`).
pub async fn start_recording(app: &App, p: &Principal, session_id: &str) -> AppResult<(bool, Recording)> {
    require_agent(p)?;
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    open(&session)?;
    let me = p.participant();
    let repo = Recordings::new(app, &p.tenant);
    for _ in 0..ATTEMPTS {
        let mut stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
        if let Some(running) = &stored.call.recording {
            let id = RecordingId::parse(&running.recording_id)?;
            let recording = repo.get(&id).await?.ok_or(AppError::NotFound("recording"))?;
            return Ok((false, recording.recording));
        }
        if !present(&stored.call).contains(&me) {
            return Err(AppError::Conflict("join the call before recording it".into()));
        }
        let id = RecordingId::generate();
        let reference = RecordingRef { tenant: p.tenant.to_string(), session_id: session_id.to_string(), recording_id: id.to_string() };
        let pipeline_id = app.recorder.start(&reference, stored.meeting.as_ref()).await.map_err(recorder_error)?;
        let now = now_rfc3339();
        let recording = Recording {
            id: id.to_string(),
            session_id: session_id.to_string(),
            customer_id: session.customer_id.clone(),
            call_id: stored.call.id.clone(),
            mode: app.recorder.mode(),
            status: RecordingStatus::Recording,
            started_by: me.clone(),
            started_at: now.clone(),
            stopped_by: None,
            stopped_at: None,
            duration_ms: None,
            tracks: Vec::new(),
            media: Vec::new(),
            failure: None,
            transcript: TranscriptState::pending(),
            provider: None,
        };
        let record = StoredRecording {
            recording: recording.clone(),
            version: 0,
            pipeline_id: pipeline_id.clone(),
            expected_chunks: BTreeMap::new(),
            chunks_reported: false,
            speaker_names: BTreeMap::new(),
            assembling: false,
            media_keys: BTreeMap::new(),
        };
        let read_version = stored.version;
        stored.version += 1;
        stored.call.recording = Some(CallRecording { recording_id: id.to_string(), started_by: me.clone(), started_at: now });
        let content = Content {
            sender: me.clone(),
            client_message_id: format!("recording-{id}-started"),
            kind: MessageKind::Call,
            text: String::new(),
            attachment: None,
            call: Some(recording_summary(&stored.call, "recording_started", &me, id.as_str())),
        };
        let extra = |_: &Message| -> AppResult<Vec<TransactOp>> {
            let mut ops = repo.create_ops(&record)?;
            ops.push(TransactOp::Put {
                item: to_item(&stored, &keys::active_call(&p.tenant, &session_id), &[("entity", "call".into())])?,
                condition: Some(Condition::Equals("version".into(), read_version.into())),
            });
            Ok(ops)
        };
        match append(app, &p.tenant, &session_id, content, extra, |_| Vec::new()).await {
            Ok(Appended::Stored { message, session, unpublished }) => {
                after_append(app, &p.tenant, &message, &session, unpublished).await;
                announce(app, &p.tenant, &session, "recording_started", &stored.call, Some(me)).await;
                tracing::info!(recording_id = %id, call_id = %stored.call.id, mode = ?recording.mode, "recording started");
                return Ok((true, recording));
            }
            // The call changed meanwhile (a join, another recording): look again.
            Ok(Appended::Refused) | Err(AppError::Conflict(_)) => {
                stop_pipeline(app, pipeline_id.as_deref()).await;
                continue;
            }
            Ok(Appended::Closed) => {
                stop_pipeline(app, pipeline_id.as_deref()).await;
                return Err(AppError::SessionClosed);
            }
            Err(e) => {
                stop_pipeline(app, pipeline_id.as_deref()).await;
                return Err(e);
            }
        }
    }
    Err(AppError::Conflict("the call is changing; try again".into()))
}

async fn stop_pipeline(app: &App, pipeline_id: Option<&str>) {
    if let Some(id) = pipeline_id {
        match app.recorder.stop(id).await {
            Ok(()) | Err(RecorderError::Gone) => {}
            Err(e) => tracing::warn!(pipeline_id = id, error = %e, "a capture pipeline could not be stopped"),
        }
    }
}

/// Stops the recording of the session's call.
pub async fn stop_recording(app: &App, p: &Principal, session_id: &str, input: StopRecording) -> AppResult<Recording> {
    require_agent(p)?;
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    if let Some(chunks) = &input.chunks {
        if chunks.len() > 16 || chunks.iter().any(|(t, n)| crate::domain::recording::parse_track_name(t).is_none() || *n > MAX_CHUNKS) {
            return Err(AppError::validation(format!("chunks names at most 16 tracks (<kind>.<id>), each with 0 to {MAX_CHUNKS} chunks")));
        }
    }
    stop_running(app, &p.tenant, &session, &p.participant(), input.chunks).await?.ok_or(AppError::NotRecording)
}

/// Chunks a track may have: 24 hours at 2 seconds each.
pub const MAX_CHUNKS: u64 = 43_200;

/// Stops the call's recording, if one runs: the call forgets it, the recording is `processing`,
/// the history says who stopped it. `None` when nothing was being recorded.
pub(crate) async fn stop_running(
    app: &App,
    tenant: &TenantId,
    session: &Session,
    by: &ParticipantRef,
    chunks: Option<BTreeMap<String, u64>>,
) -> AppResult<Option<Recording>> {
    let session_id = SessionId::parse(&session.id)?;
    let repo = Recordings::new(app, tenant);
    for _ in 0..ATTEMPTS {
        let Some(mut stored) = active(app, tenant, &session_id).await? else { return Ok(None) };
        let Some(running) = stored.call.recording.take() else { return Ok(None) };
        let id = RecordingId::parse(&running.recording_id)?;
        let Some(mut record) = repo.get(&id).await? else { return Ok(None) };
        let now = now_rfc3339();
        record.recording.status = RecordingStatus::Processing;
        record.recording.stopped_by = Some(by.clone());
        record.recording.stopped_at = Some(now.clone());
        if let Some(chunks) = &chunks {
            record.chunks_reported = true;
            record.expected_chunks = chunks
                .iter()
                .filter_map(|(t, n)| {
                    crate::domain::recording::parse_track_name(t).map(|p| (crate::domain::recording::track_object_name(&p), *n))
                })
                .collect();
        }
        let read_version = stored.version;
        stored.version += 1;
        let record_op = repo.replace_op(&mut record.clone())?;
        let call_op = TransactOp::Put {
            item: to_item(&stored, &keys::active_call(tenant, &session_id), &[("entity", "call".into())])?,
            condition: Some(Condition::Equals("version".into(), read_version.into())),
        };
        record.version += 1;
        let sender = if session.participants.iter().any(|x| x.who == *by) { by.clone() } else { running.started_by.clone() };
        let content = Content {
            sender,
            client_message_id: format!("recording-{id}-stopped"),
            kind: MessageKind::Call,
            text: String::new(),
            attachment: None,
            call: Some(recording_summary(&stored.call, "recording_stopped", by, id.as_str())),
        };
        let ops = vec![record_op.clone(), call_op.clone()];
        let written = match append(app, tenant, &session_id, content, |_| Ok(ops.clone()), |_| Vec::new()).await {
            Ok(Appended::Stored { message, session, unpublished }) => {
                after_append(app, tenant, &message, &session, unpublished).await;
                true
            }
            Ok(Appended::Refused) | Err(AppError::Conflict(_)) => false,
            // A closed session keeps no new history; the records still change.
            Ok(Appended::Closed) => match app.table.transact_write(ops).await {
                Ok(()) => true,
                Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => false,
                Err(e) => return Err(e.into()),
            },
            Err(e) => return Err(e),
        };
        if !written {
            continue;
        }
        stop_pipeline(app, record.pipeline_id.as_deref()).await;
        announce(app, tenant, session, "recording_stopped", &stored.call, Some(by.clone())).await;
        tracing::info!(recording_id = %id, call_id = %stored.call.id, "recording stopped");
        if record.recording.mode == RecordingMode::Browser {
            assemble::schedule(app.clone(), tenant.clone(), id.clone());
        }
        recordings::notify(app, tenant, &record.recording).await;
        return Ok(Some(record.recording));
    }
    Err(AppError::Conflict("the call is changing; try again".into()))
}
