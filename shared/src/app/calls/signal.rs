//! WebRTC signalling in the local runtime: offers, answers, candidates, hang-up and decline,
//! relayed only between participants of the session's active call.

use super::*;

/// Relays a WebRTC signalling frame to one other participant of the session's call.
pub async fn signal(app: &App, p: &Principal, action: SignalAction, raw_len: usize) -> AppResult<bool> {
    if raw_len > MAX_SIGNAL_FRAME_BYTES {
        return Err(AppError::validation(format!("a signal frame is at most {MAX_SIGNAL_FRAME_BYTES} bytes")));
    }
    validate_signal(&action)?;
    let session_id = SessionId::parse(&action.session_id)?;
    let session = session_for(app, p, &session_id).await?;
    let me = p.participant();
    let stored = active(app, &p.tenant, &session_id).await?.ok_or(AppError::NoActiveCall)?;
    let here = present(&stored.call);
    // A decline comes from someone not (yet) in the call; everything else only between people in it.
    let sender_ok = action.kind == SignalKind::Decline || here.contains(&me);
    if !sender_ok || !here.contains(&action.to) || action.to == me {
        return Err(AppError::NotAParticipant);
    }
    let frame = ServerFrame::Signal {
        session_id: session.id.clone(),
        call_id: stored.call.id.clone(),
        from: me,
        kind: action.kind,
        data: action.data,
    }
    .to_bytes();
    deliver(app, &p.tenant, std::slice::from_ref(&action.to), &frame, None).await?;
    Ok(true)
}

fn validate_signal(a: &SignalAction) -> AppResult<()> {
    let text = |name: &str, max: usize| -> AppResult<()> {
        match a.data.get(name) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= max => Ok(()),
            Some(Value::String(s)) if s.len() > max => Err(AppError::validation(format!("data.{name} is at most {max} bytes"))),
            _ => Err(AppError::validation(format!("data.{name} must be a non-empty string"))),
        }
    };
    match a.kind {
        SignalKind::Offer | SignalKind::Answer => {
            text("sdp", MAX_SIGNAL_SDP_BYTES)?;
            if a.data.keys().any(|k| k != "sdp" && k != "type") {
                return Err(AppError::validation("an offer or answer carries only sdp (and type)"));
            }
            // RTCSessionDescriptionInit's `type`, when sent, must name the frame's own kind.
            let kind = if a.kind == SignalKind::Offer { "offer" } else { "answer" };
            if a.data.get("type").is_some_and(|t| t.as_str() != Some(kind)) {
                return Err(AppError::validation(format!("data.type of an {kind} is \"{kind}\"")));
            }
        }
        SignalKind::Candidate => {
            text("candidate", MAX_SIGNAL_CANDIDATE_BYTES)?;
            let size = serde_json::to_vec(&a.data).map(|v| v.len()).unwrap_or(usize::MAX);
            if size > MAX_SIGNAL_CANDIDATE_BYTES {
                return Err(AppError::validation(format!("a candidate is at most {MAX_SIGNAL_CANDIDATE_BYTES} bytes")));
            }
            if a.data.keys().any(|k| !matches!(k.as_str(), "candidate" | "sdpMid" | "sdpMLineIndex" | "usernameFragment")) {
                return Err(AppError::validation("a candidate carries candidate, sdpMid, sdpMLineIndex and usernameFragment only"));
            }
        }
        SignalKind::Hangup | SignalKind::Decline => {
            if !a.data.is_empty() {
                return Err(AppError::validation("hangup and decline carry no data"));
            }
        }
    }
    Ok(())
}
