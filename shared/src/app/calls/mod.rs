//! A session's video call (docs/calls.md): at most one active call per session, between its
//! participants. The active call is one item (`META#CALL`, read with the session); starting and
//! ending it are each a `call` message in the session's order, written in the same transaction.
//! The media runs through the video port: WebRTC locally (signalling relayed here), Chime in the
//! cloud (whose meeting events arrive through [`provider_event`]).

pub mod apps;
mod provider;
mod recording;
mod signal;

pub use provider::{provider_event, ProviderReport};
pub use recording::{start_recording, stop_recording, StopRecording, MAX_CHUNKS};
pub use signal::signal;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::connections::deliver;
use super::messages::{append, Appended, Content};
use super::sessions::{can_read, load};
use super::{from_item, to_item, App};
use crate::domain::call::{seconds_between, Call, CallParticipant, CallPatch, CallState, CallSummary, CallWithJoin, NewCall};
use crate::domain::limits::{MAX_SIGNAL_CANDIDATE_BYTES, MAX_SIGNAL_FRAME_BYTES, MAX_SIGNAL_SDP_BYTES};
use crate::domain::message::{Message, MessageKind};
use crate::domain::session::{Session, SessionStatus};
use crate::domain::{now_rfc3339, CallId, ParticipantRef, Principal, SessionId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::ports::table::{Condition, StoreError, TransactOp};
use crate::ports::video::{CallRef, VideoError};
use crate::ws::protocol::{ServerFrame, SignalAction, SignalKind};

/// The stored call: what clients see, the provider's meeting, and a version for conditional
/// writes (joins and leaves of several participants race).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredCall {
    #[serde(flatten)]
    call: Call,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    meeting: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(default)]
    version: u64,
}

/// Where a provider's meeting events find their call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeetingRef {
    pub tenant: String,
    pub session_id: String,
    pub call_id: String,
}

/// Attempts at a conditional change of the call before giving up with `conflict`.
const ATTEMPTS: usize = 16;

fn video_error(e: VideoError) -> AppError {
    match e {
        VideoError::NotAvailable => AppError::NotAvailable("video calls"),
        VideoError::Rejected(why) => AppError::validation(why),
        VideoError::Gone => AppError::Conflict("the call's meeting has already ended".into()),
        VideoError::Unavailable(why) => AppError::internal(format!("video provider: {why}")),
    }
}

/// The session, when the caller takes part in it (the same answers as for the session itself).
async fn session_for(app: &App, p: &Principal, id: &SessionId) -> AppResult<Session> {
    let session = load(app, &p.tenant, id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    let me = p.participant();
    if !session.participants.iter().any(|x| x.who == me) {
        return Err(AppError::NotAParticipant);
    }
    Ok(session)
}

fn open(session: &Session) -> AppResult<()> {
    if session.status == SessionStatus::Closed {
        return Err(AppError::SessionClosed);
    }
    Ok(())
}

async fn active(app: &App, tenant: &TenantId, session: &SessionId) -> AppResult<Option<StoredCall>> {
    match app.table.get(&keys::active_call(tenant, session)).await? {
        Some(item) => Ok(Some(from_item(item)?)),
        None => Ok(None),
    }
}

fn everyone(session: &Session) -> Vec<ParticipantRef> {
    session.participants.iter().map(|x| x.who.clone()).collect()
}

/// Who is in the call now.
fn present(call: &Call) -> Vec<ParticipantRef> {
    call.participants.iter().filter(|x| x.left_at.is_none()).map(|x| x.who.clone()).collect()
}

/// Everyone who took part, once each, in the order they first joined.
fn took_part(call: &Call) -> Vec<ParticipantRef> {
    let mut seen = Vec::new();
    for x in &call.participants {
        if !seen.contains(&x.who) {
            seen.push(x.who.clone());
        }
    }
    seen
}

async fn announce(app: &App, tenant: &TenantId, session: &Session, event: &str, call: &Call, participant: Option<ParticipantRef>) {
    let frame = ServerFrame::Call { event: event.into(), session_id: session.id.clone(), call: call.clone(), participant }.to_bytes();
    if let Err(e) = deliver(app, tenant, &everyone(session), &frame, None).await {
        tracing::warn!(error = %e, session_id = %session.id, event, "call frame not delivered");
    }
}

fn call_event(event_type: &str, tenant: &TenantId, call: &Call, id: String, mut data: Value) -> EventEnvelope {
    data["call"] = serde_json::to_value(call).unwrap_or_default();
    EventEnvelope::new(event_type, tenant, id, data)
}

/// Pushes a stored history message to the session's participants and publishes its events.
async fn after_append(app: &App, tenant: &TenantId, message: &Message, session: &Session, unpublished: Vec<EventEnvelope>) {
    let frame = ServerFrame::Message { message: message.clone() }.to_bytes();
    if let Err(e) = deliver(app, tenant, &everyone(session), &frame, None).await {
        tracing::warn!(error = %e, session_id = %session.id, "call message not delivered");
    }
    for event in unpublished {
        app.publish(event).await;
    }
}

/// Starts a call in the session, or answers the running one (`false`): the caller's join either way.
pub async fn start(app: &App, p: &Principal, session_id: &str, input: NewCall) -> AppResult<(bool, CallWithJoin)> {
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    open(&session)?;
    if let Some(running) = active(app, &p.tenant, &session_id).await? {
        return Ok((false, join_stored(app, p, &session, running).await?));
    }
    let quality = input.quality.unwrap_or_default();
    let video = chosen_video(app, &p.tenant, input.provider).await?;
    let provider = video.provider();
    let call_id = CallId::generate();
    let me = p.participant();
    let call_ref = CallRef { tenant: p.tenant.to_string(), session_id: session_id.to_string(), call_id: call_id.to_string() };
    let created = video.create(&call_ref, quality, &me).await.map_err(|e| apps::app_error(provider, e))?;
    // A call in a video app: its link goes into the history, for both sides.
    let join_url = provider.external().and_then(|_| created.meeting.as_ref()?.get("join_url")?.as_str().map(str::to_string));
    let now = now_rfc3339();
    let call = Call {
        id: call_id.to_string(),
        session_id: session_id.to_string(),
        provider,
        state: CallState::Active,
        quality,
        max_quality: video.max_quality(quality),
        started_by: me.clone(),
        started_at: now.clone(),
        ended_at: None,
        duration_seconds: None,
        participants: vec![CallParticipant { who: me.clone(), joined_at: now.clone(), left_at: None }],
        recording: None,
        join_url: join_url.clone(),
    };
    let stored = StoredCall { call: call.clone(), meeting: created.meeting.clone(), external_id: created.external_id.clone(), version: 1 };
    let summary = CallSummary {
        call_id: call.id.clone(),
        event: "started".into(),
        quality,
        started_at: now,
        ended_at: None,
        duration_seconds: None,
        participants: vec![me.clone()],
        by: None,
        recording_id: None,
        provider: provider.external(),
        join_url,
    };
    let content = Content {
        sender: me.clone(),
        client_message_id: format!("call-{}-started", call.id),
        kind: MessageKind::Call,
        text: String::new(),
        attachment: None,
        call: Some(summary),
    };
    let extra = |_: &Message| -> AppResult<Vec<TransactOp>> {
        let item = to_item(&stored, &keys::active_call(&p.tenant, &session_id), &[("entity", "call".into())])?;
        let mut ops = vec![TransactOp::Put { item, condition: Some(Condition::NotExists) }];
        if let Some(external) = &stored.external_id {
            let reference = MeetingRef { tenant: p.tenant.to_string(), session_id: session_id.to_string(), call_id: call.id.clone() };
            let item = to_item(&reference, &keys::provider_meeting(provider, external), &[("entity", "provider_meeting".into())])?;
            ops.push(TransactOp::Put { item, condition: None });
        }
        Ok(ops)
    };
    let started = call_event(types::MEETING_STARTED, &p.tenant, &call, format!("{}:started", call.id), json!({ "started_by": me }));
    match append(app, &p.tenant, &session_id, content, extra, |_| vec![started.clone()]).await? {
        Appended::Stored { message, session, unpublished } => {
            after_append(app, &p.tenant, &message, &session, unpublished).await;
            announce(app, &p.tenant, &session, "started", &call, Some(me)).await;
            tracing::info!(call_id = %call.id, session_id = %session_id, quality = quality.as_str(), "call started");
            Ok((true, CallWithJoin { call, join: created.join }))
        }
        // Another participant started one at the same moment: theirs is the session's call.
        Appended::Refused => {
            discard_meeting(video.as_ref(), created.meeting.as_ref()).await;
            let running =
                active(app, &p.tenant, &session_id).await?.ok_or_else(|| AppError::Conflict("the call changed; start it again".into()))?;
            Ok((false, join_stored(app, p, &session, running).await?))
        }
        Appended::Closed => {
            discard_meeting(video.as_ref(), created.meeting.as_ref()).await;
            Err(AppError::SessionClosed)
        }
    }
}

/// The video a new call runs on: the one asked for, else the tenant's default; a video app must
/// be enabled in the tenant's settings and connected.
async fn chosen_video(
    app: &App,
    tenant: &TenantId,
    asked: Option<crate::domain::provider::CallApp>,
) -> AppResult<std::sync::Arc<dyn crate::ports::video::VideoProvider>> {
    let video = super::settings::load(app, tenant).await?.video;
    let Some(external) = asked.unwrap_or(video.default).external() else { return Ok(app.video.clone()) };
    if !video.providers.contains(&external) {
        return Err(AppError::ProviderNotConnected(format!(
            "{} is not enabled for this tenant: an admin enables it in the settings (video.providers)",
            external.title()
        )));
    }
    apps::video_of(app, tenant, external.into()).await
}

async fn discard_meeting(video: &dyn crate::ports::video::VideoProvider, meeting: Option<&Value>) {
    if let Err(e) = video.end(meeting).await {
        tracing::warn!(error = %e, "an unused meeting could not be ended; the provider ends it when idle");
    }
}

/// The active call of the session.
pub async fn get(app: &App, p: &Principal, session_id: &str) -> AppResult<Call> {
    let session_id = SessionId::parse(session_id)?;
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    Ok(active(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("call"))?.call)
}

/// The caller's join information for the session's active call; they count as in the call.
pub async fn join(app: &App, p: &Principal, session_id: &str) -> AppResult<CallWithJoin> {
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    open(&session)?;
    let stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
    join_stored(app, p, &session, stored).await
}

async fn join_stored(app: &App, p: &Principal, session: &Session, stored: StoredCall) -> AppResult<CallWithJoin> {
    let me = p.participant();
    let peers: Vec<_> = present(&stored.call).into_iter().filter(|w| *w != me).collect();
    let provider = stored.call.provider;
    let video = apps::video_of(app, &p.tenant, provider).await?;
    let join = video.join(stored.meeting.as_ref(), &me, peers).await.map_err(|e| apps::app_error(provider, e))?;
    let call = attend(app, &p.tenant, session, &stored.call.id, &me, true).await?;
    Ok(CallWithJoin { call, join })
}

/// The caller leaves the call; the last one to leave ends it.
pub async fn leave(app: &App, p: &Principal, session_id: &str) -> AppResult<Call> {
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    let stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
    attend(app, &p.tenant, &session, &stored.call.id, &p.participant(), false).await
}

/// Records that `who` joined or left the call `call_id`: a frame and an event when it changed
/// anything; the call ends when nobody is left in it.
async fn attend(app: &App, tenant: &TenantId, session: &Session, call_id: &str, who: &ParticipantRef, joined: bool) -> AppResult<Call> {
    let session_id = SessionId::parse(&session.id)?;
    for _ in 0..ATTEMPTS {
        let Some(mut stored) = active(app, tenant, &session_id).await? else {
            return Err(AppError::NoActiveCall);
        };
        if stored.call.id != call_id {
            return Err(AppError::NoActiveCall);
        }
        let now = now_rfc3339();
        let changed = if joined { mark_joined(&mut stored.call, who, &now) } else { mark_left(&mut stored.call, who, &now) };
        if !changed {
            return Ok(stored.call);
        }
        if !joined && present(&stored.call).is_empty() {
            return finish(app, tenant, session, stored, Some(who.clone()), "everyone left").await;
        }
        let version = stored.version;
        stored.version += 1;
        let item = to_item(&stored, &keys::active_call(tenant, &session_id), &[("entity", "call".into())])?;
        match app.table.put(item, Some(Condition::Equals("version".into(), version.into()))).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
        let (frame, event_type, word) =
            if joined { ("joined", types::MEETING_ATTENDEE_JOINED, "joined") } else { ("left", types::MEETING_ATTENDEE_LEFT, "left") };
        announce(app, tenant, session, frame, &stored.call, Some(who.clone())).await;
        let id = format!("{}:{}:{word}:{}", stored.call.id, who.key_segment(), stored.version);
        app.publish(call_event(event_type, tenant, &stored.call, id, json!({ "participant": who }))).await;
        return Ok(stored.call);
    }
    Err(AppError::Conflict("the call is changing; try again".into()))
}

/// The participant's last connection closed: in a call whose media runs between browsers
/// (WebRTC), they are out of it. Chime reports its own attendees' departures. Best effort.
pub async fn left_with_last_connection(app: &App, tenant: &TenantId, session: &Session, who: &ParticipantRef) {
    let Ok(session_id) = SessionId::parse(&session.id) else { return };
    let result = match active(app, tenant, &session_id).await {
        // Only a call whose media runs between browsers: Chime and the video apps report their own.
        Ok(Some(stored)) if stored.call.provider == crate::domain::call::CallProvider::Webrtc && present(&stored.call).contains(who) => {
            attend(app, tenant, session, &stored.call.id, who, false).await.map(|_| ())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, session_id = %session.id, "a disconnected participant could not be taken out of the call");
    }
}

fn mark_joined(call: &mut Call, who: &ParticipantRef, now: &str) -> bool {
    if call.participants.iter().any(|x| x.who == *who && x.left_at.is_none()) {
        return false;
    }
    call.participants.push(CallParticipant { who: who.clone(), joined_at: now.to_string(), left_at: None });
    true
}

fn mark_left(call: &mut Call, who: &ParticipantRef, now: &str) -> bool {
    match call.participants.iter_mut().find(|x| x.who == *who && x.left_at.is_none()) {
        Some(x) => {
            x.left_at = Some(now.to_string());
            true
        }
        None => false,
    }
}

/// Ends the call for everyone.
pub async fn end(app: &App, p: &Principal, session_id: &str) -> AppResult<Call> {
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    let stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
    finish(app, &p.tenant, &session, stored, Some(p.participant()), "ended by a participant").await
}

/// Ends the session's active call, if any (the session is closing).
pub async fn end_for_session(app: &App, tenant: &TenantId, session: &Session, by: &ParticipantRef) -> AppResult<()> {
    let session_id = SessionId::parse(&session.id)?;
    if let Some(stored) = active(app, tenant, &session_id).await? {
        finish(app, tenant, session, stored, Some(by.clone()), "the session closed").await?;
    }
    Ok(())
}

/// Ends the provider's meeting and the call: the active item goes, the ended record and the
/// `ended` history message are written in one transaction. Ending twice changes nothing.
async fn finish(
    app: &App,
    tenant: &TenantId,
    session: &Session,
    stored: StoredCall,
    by: Option<ParticipantRef>,
    reason: &str,
) -> AppResult<Call> {
    let mut stored = stored;
    if stored.call.recording.is_some() {
        let stopper = by.clone().unwrap_or_else(|| stored.call.recording.as_ref().map(|r| r.started_by.clone()).expect("recording"));
        recording::stop_running(app, tenant, session, &stopper, None).await?;
        let session_id = SessionId::parse(&session.id)?;
        match active(app, tenant, &session_id).await? {
            Some(now) if now.call.id == stored.call.id => stored = now,
            _ => return ended_record(app, tenant, &session_id, &CallId::parse(&stored.call.id)?).await,
        }
    }
    let ending = match apps::video_of(app, tenant, stored.call.provider).await {
        Ok(video) => video.end(stored.meeting.as_ref()).await,
        Err(e) => Err(VideoError::Unavailable(e.to_string())),
    };
    match ending {
        Ok(()) | Err(VideoError::Gone) => {}
        Err(e) => tracing::warn!(error = %e, call_id = %stored.call.id, "the provider's meeting could not be ended; it ends when idle"),
    }
    let session_id = SessionId::parse(&session.id)?;
    let call_id = CallId::parse(&stored.call.id)?;
    let now = now_rfc3339();
    let mut call = stored.call.clone();
    call.state = CallState::Ended;
    call.ended_at = Some(now.clone());
    call.duration_seconds = Some(seconds_between(&call.started_at, &now));
    for x in call.participants.iter_mut().filter(|x| x.left_at.is_none()) {
        x.left_at = Some(now.clone());
    }
    let ended = StoredCall {
        call: call.clone(),
        meeting: stored.meeting.clone(),
        external_id: stored.external_id.clone(),
        version: stored.version + 1,
    };
    let summary = CallSummary {
        call_id: call.id.clone(),
        event: "ended".into(),
        quality: call.quality,
        started_at: call.started_at.clone(),
        ended_at: call.ended_at.clone(),
        duration_seconds: call.duration_seconds,
        participants: took_part(&call),
        by: None,
        recording_id: call.recording.as_ref().map(|r| r.recording_id.clone()),
        provider: call.provider.external(),
        join_url: None,
    };
    let sender = by.clone().filter(|b| session.participants.iter().any(|x| x.who == *b)).unwrap_or_else(|| call.started_by.clone());
    let content = Content {
        sender,
        client_message_id: format!("call-{}-ended", call.id),
        kind: MessageKind::Call,
        text: String::new(),
        attachment: None,
        call: Some(summary),
    };
    let records = || -> AppResult<Vec<TransactOp>> {
        Ok(vec![
            TransactOp::Delete {
                key: keys::active_call(tenant, &session_id),
                condition: Some(Condition::Equals("id".into(), call.id.clone().into())),
            },
            TransactOp::Put {
                item: to_item(&ended, &keys::call(tenant, &session_id, &call_id), &[("entity", "call".into())])?,
                condition: None,
            },
        ])
    };
    let event = call_event(
        types::MEETING_ENDED,
        tenant,
        &call,
        format!("{}:ended", call.id),
        json!({ "ended_by": by, "reason": reason, "participants": took_part(&call) }),
    );
    match append(app, tenant, &session_id, content, |_| records(), |_| vec![event.clone()]).await? {
        Appended::Stored { message, session, unpublished } => {
            after_append(app, tenant, &message, &session, unpublished).await;
        }
        // Ended by someone else first: theirs is the record.
        Appended::Refused => return ended_record(app, tenant, &session_id, &call_id).await,
        // The session closed without the call's end in its history: the records still change.
        Appended::Closed => match app.transact_with_events(records()?, vec![event]).await {
            Ok(unpublished) => {
                for e in unpublished {
                    app.publish(e).await;
                }
            }
            Err(StoreError::TransactionCancelled { .. }) => return ended_record(app, tenant, &session_id, &call_id).await,
            Err(e) => return Err(e.into()),
        },
    }
    announce(app, tenant, session, "ended", &call, by).await;
    tracing::info!(call_id = %call.id, session_id = %session.id, reason, duration_seconds = call.duration_seconds, "call ended");
    Ok(call)
}

async fn ended_record(app: &App, tenant: &TenantId, session_id: &SessionId, call_id: &CallId) -> AppResult<Call> {
    let item = app.table.get(&keys::call(tenant, session_id, call_id)).await?.ok_or(AppError::NotFound("call"))?;
    Ok(from_item::<StoredCall>(item)?.call)
}

/// Changes the call's quality preset, within what the call allows.
pub async fn set_quality(app: &App, p: &Principal, session_id: &str, patch: CallPatch) -> AppResult<Call> {
    let session_id = SessionId::parse(session_id)?;
    let session = session_for(app, p, &session_id).await?;
    open(&session)?;
    for _ in 0..ATTEMPTS {
        let mut stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
        if patch.quality > stored.call.max_quality {
            return Err(AppError::QualityUnavailable(format!(
                "this call allows up to {}; start a new call at {} for more",
                stored.call.max_quality.as_str(),
                patch.quality.as_str()
            )));
        }
        if stored.call.quality == patch.quality {
            return Ok(stored.call);
        }
        let version = stored.version;
        stored.version += 1;
        stored.call.quality = patch.quality;
        let item = to_item(&stored, &keys::active_call(&p.tenant, &session_id), &[("entity", "call".into())])?;
        match app.table.put(item, Some(Condition::Equals("version".into(), version.into()))).await {
            Ok(()) => {
                announce(app, &p.tenant, &session, "quality", &stored.call, Some(p.participant())).await;
                return Ok(stored.call);
            }
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("the call is changing; try again".into()))
}
