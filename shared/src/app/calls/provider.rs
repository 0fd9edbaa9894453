//! Meeting state reported by the video provider (Chime's EventBridge events).

use super::*;
use crate::domain::call::CallProvider;

/// A provider's report about its meeting (Chime's meeting state changes): who joined or left,
/// or that the meeting ended. Repeated and out-of-order reports change nothing twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderReport {
    Joined { external_user_id: String },
    Left { external_user_id: String },
    Ended,
}

/// Applies a report about the meeting `external_id` of `provider`. Unknown meetings and calls
/// that have ended are ignored (`Ok(false)`).
pub async fn provider_event(app: &App, provider: CallProvider, external_id: &str, report: ProviderReport) -> AppResult<bool> {
    let Some(item) = app.table.get(&keys::provider_meeting(provider, external_id)).await? else {
        tracing::info!(meeting_id = external_id, "an event for a meeting Confer does not know");
        return Ok(false);
    };
    let reference: MeetingRef = from_item(item)?;
    let tenant = TenantId::parse(&reference.tenant)?;
    let session_id = SessionId::parse(&reference.session_id)?;
    let Some(session) = load(app, &tenant, &session_id).await? else { return Ok(false) };
    let Some(stored) = active(app, &tenant, &session_id).await? else { return Ok(false) };
    if stored.call.id != reference.call_id {
        return Ok(false);
    }
    match report {
        ProviderReport::Ended => {
            finish(app, &tenant, &session, stored, None, "the meeting ended").await?;
        }
        ProviderReport::Joined { external_user_id } => {
            let Some(who) = ParticipantRef::from_key_segment(&external_user_id) else { return Ok(false) };
            if !session.participants.iter().any(|x| x.who == who) {
                return Ok(false);
            }
            attend(app, &tenant, &session, &reference.call_id, &who, true).await?;
        }
        ProviderReport::Left { external_user_id } => {
            let Some(who) = ParticipantRef::from_key_segment(&external_user_id) else { return Ok(false) };
            attend(app, &tenant, &session, &reference.call_id, &who, false).await?;
        }
    }
    Ok(true)
}
