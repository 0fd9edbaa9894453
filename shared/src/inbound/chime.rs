//! Chime SDK meetings' state changes (EventBridge, source `aws.chime`, detail type `Chime
//! Meeting State Change`): who joined or left a call's meeting, and its end, applied to the call.
//! Repeated or out-of-order deliveries change nothing twice (see `app::calls::provider_event`).

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use crate::app::calls::{provider_event, ProviderReport};
use crate::app::App;
use crate::error::AppError;

pub const SOURCE: &str = "aws.chime";
pub const DETAIL_TYPE: &str = "Chime Meeting State Change";
/// The event types the rule forwards.
pub const EVENT_TYPES: &[&str] =
    &["chime:MeetingStarted", "chime:MeetingEnded", "chime:AttendeeJoined", "chime:AttendeeLeft", "chime:AttendeeDropped"];

/// The `detail` of a meeting state change (AWS: "Amazon Chime SDK events").
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeetingStateChange {
    pub event_type: String,
    pub meeting_id: String,
    #[serde(default)]
    pub external_meeting_id: Option<String>,
    #[serde(default)]
    pub attendee_id: Option<String>,
    #[serde(default)]
    pub external_user_id: Option<String>,
}

/// What the change means for the call, if anything.
pub fn report_of(change: &MeetingStateChange) -> Option<ProviderReport> {
    let user = || change.external_user_id.clone();
    match change.event_type.as_str() {
        "chime:MeetingEnded" => Some(ProviderReport::Ended),
        "chime:AttendeeJoined" => user().map(|external_user_id| ProviderReport::Joined { external_user_id }),
        "chime:AttendeeLeft" | "chime:AttendeeDropped" => user().map(|external_user_id| ProviderReport::Left { external_user_id }),
        // The call was recorded when Confer created the meeting.
        _ => None,
    }
}

/// Applies one event. An event that cannot be applied ever (malformed, unknown meeting) is
/// logged and acknowledged; a backend failure is returned, so EventBridge and Lambda retry it
/// and finally park it in the dead-letter queue.
pub async fn meeting_state_changed(app: Arc<App>, event: EventBridgeEvent<Value>) -> Result<(), AppError> {
    if event.source != SOURCE || event.detail_type != DETAIL_TYPE {
        tracing::warn!(source = %event.source, detail_type = %event.detail_type, "not a Chime meeting state change; ignored");
        return Ok(());
    }
    let change: MeetingStateChange = match serde_json::from_value(event.detail) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, id = ?event.id, "a Chime event without the documented detail; ignored");
            return Ok(());
        }
    };
    let Some(report) = report_of(&change) else { return Ok(()) };
    match provider_event(&app, crate::domain::call::CallProvider::Chime, &change.meeting_id, report).await {
        Ok(applied) => {
            tracing::info!(event_type = %change.event_type, meeting_id = %change.meeting_id, applied, "Chime meeting event");
            Ok(())
        }
        Err(e) if e.is_retryable() => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, event_type = %change.event_type, meeting_id = %change.meeting_id, "Chime event not applicable; acknowledged");
            Ok(())
        }
    }
}
