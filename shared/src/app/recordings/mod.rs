//! Recordings after the call (docs/recordings.md): local assembly of the browser's tracks, the
//! storage trigger that transcribes final files, the transcript and its translations, and
//! reading all of it. Starting and stopping a recording is part of the call (`calls::recording`).

pub mod assemble;
pub mod chunks;
pub mod pipeline;
pub mod read;
pub mod store;
pub mod transcribe;
pub mod transcripts;

use super::connections::deliver;
use super::sessions::load;
use super::App;
use crate::domain::recording::Recording;
use crate::domain::{ParticipantRef, SessionId, TenantId};
use crate::ws::protocol::ServerFrame;

/// Tells the session's agents that a recording changed (`recording` frame). Best effort: a
/// failure is logged, never returned.
pub async fn notify(app: &App, tenant: &TenantId, recording: &Recording) {
    let session = match SessionId::parse(&recording.session_id) {
        Ok(id) => load(app, tenant, &id).await,
        Err(e) => Err(e),
    };
    let session = match session {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => return tracing::warn!(error = %e, recording_id = %recording.id, "recording frame not sent"),
    };
    let agents: Vec<ParticipantRef> =
        session.participants.iter().map(|x| x.who.clone()).filter(|w| matches!(w, ParticipantRef::Agent(_))).collect();
    let frame = ServerFrame::Recording { session_id: session.id.clone(), recording: recording.clone() }.to_bytes();
    if let Err(e) = deliver(app, tenant, &agents, &frame, None).await {
        tracing::warn!(error = %e, recording_id = %recording.id, "recording frame not delivered");
    }
}
