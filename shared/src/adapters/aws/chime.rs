//! Calls in the cloud: Amazon Chime SDK meetings. A call is a meeting created with its starter
//! as the first attendee (`CreateMeetingWithAttendees`, the session as external meeting id, the
//! call id as idempotency token, `MeetingFeatures` from the preset); a later participant gets
//! their own attendee (`CreateAttendee`); ending the call deletes the meeting (`DeleteMeeting`).
//! The meeting's state changes come back through EventBridge (`inbound::chime`). SDK types stay
//! here: the browser receives Chime's own JSON shapes, which `amazon-chime-sdk-js` reads.

use async_trait::async_trait;
use aws_sdk_chimesdkmeetings::error::ProvideErrorMetadata;
use aws_sdk_chimesdkmeetings::types::{
    Attendee, AttendeeFeatures, ContentFeatures, ContentResolution, CreateAttendeeRequestItem, Meeting, MeetingFeaturesConfiguration,
    VideoFeatures, VideoResolution,
};
use aws_sdk_chimesdkmeetings::Client;
use serde_json::{json, Value};

use crate::domain::call::{CallProvider, JoinInfo, Quality};
use crate::domain::ParticipantRef;
use crate::ports::video::{CallRef, Created, VideoError, VideoProvider};

/// FHD video and UHD content limit a meeting to this many attendees (Chime's rule).
pub const HIGH_RESOLUTION_MAX_ATTENDEES: i32 = 25;

#[derive(Clone)]
pub struct ChimeVideo {
    client: Client,
    media_region: String,
}

/// The meeting features a preset asks Chime for (docs/calls.md has the table).
pub fn features(quality: Quality) -> MeetingFeaturesConfiguration {
    let video = |r: VideoResolution| VideoFeatures::builder().max_resolution(r).build();
    let few = AttendeeFeatures::builder().max_count(HIGH_RESOLUTION_MAX_ATTENDEES).build();
    match quality {
        // 480p is the browser's capture choice inside an HD meeting.
        Quality::P480 | Quality::P720 => MeetingFeaturesConfiguration::builder().video(video(VideoResolution::Hd)).build(),
        Quality::P1080 => MeetingFeaturesConfiguration::builder().video(video(VideoResolution::Fhd)).attendee(few).build(),
        // 4K only where Chime has it: content share at UHD.
        Quality::K4 => MeetingFeaturesConfiguration::builder()
            .video(video(VideoResolution::Fhd))
            .content(ContentFeatures::builder().max_resolution(ContentResolution::Uhd).build())
            .attendee(few)
            .build(),
    }
}

/// The attendee's external user id: the participant's key segment (`A#<sub>`, `C#<customer>`),
/// which Chime's events hand back.
fn external_user_id(who: &ParticipantRef) -> Result<String, VideoError> {
    let id = who.key_segment();
    if !(2..=64).contains(&id.chars().count()) {
        return Err(VideoError::Rejected(format!("participant id {} is longer than Chime allows (64)", who.id())));
    }
    Ok(id)
}

/// How a Chime error is answered: the meeting is gone, the request was refused, or Chime is
/// (perhaps briefly) unavailable or misconfigured for this function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Gone,
    Refused,
    Unavailable,
}

fn failure(operation: &str, kind: Failure, e: impl ProvideErrorMetadata + std::fmt::Debug) -> VideoError {
    let message = e.message().map(str::to_string).unwrap_or_else(|| format!("{e:?}"));
    match kind {
        Failure::Gone => VideoError::Gone,
        Failure::Refused => VideoError::Rejected(format!("Chime refused {operation}: {message}")),
        Failure::Unavailable => {
            tracing::warn!(operation, code = e.code().unwrap_or_default(), message, "Chime call failed");
            VideoError::Unavailable(format!("Chime {operation}: {message}"))
        }
    }
}

/// Classifies an operation's service error by its modeled exceptions.
macro_rules! classify {
    ($e:expr) => {{
        match $e.as_service_error() {
            Some(s) if s.is_bad_request_exception() => Failure::Refused,
            // Throttling, Chime's own failures, and this function's missing permissions alike.
            _ => Failure::Unavailable,
        }
    }};
    ($e:expr, gone) => {{
        match $e.as_service_error() {
            Some(s) if s.is_not_found_exception() => Failure::Gone,
            _ => classify!($e),
        }
    }};
}

/// Chime's `Meeting` as its JSON API writes it (what `MeetingSessionConfiguration` reads).
pub fn meeting_json(m: &Meeting) -> Value {
    let placement = m.media_placement().map(|p| {
        json!({
            "AudioHostUrl": p.audio_host_url(),
            "AudioFallbackUrl": p.audio_fallback_url(),
            "SignalingUrl": p.signaling_url(),
            "TurnControlUrl": p.turn_control_url(),
            "EventIngestionUrl": p.event_ingestion_url(),
        })
    });
    let features = m.meeting_features().map(|f| {
        json!({
            "Video": f.video().and_then(|v| v.max_resolution()).map(|r| json!({ "MaxResolution": r.as_str() })),
            "Content": f.content().and_then(|c| c.max_resolution()).map(|r| json!({ "MaxResolution": r.as_str() })),
            "Attendee": f.attendee().and_then(|a| a.max_count()).map(|n| json!({ "MaxCount": n })),
        })
    });
    json!({
        "MeetingId": m.meeting_id(),
        "ExternalMeetingId": m.external_meeting_id(),
        "MediaRegion": m.media_region(),
        "MediaPlacement": placement,
        "MeetingFeatures": features,
        "MeetingArn": m.meeting_arn(),
    })
}

/// Chime's `Attendee` as its JSON API writes it (the join token is the caller's own).
pub fn attendee_json(a: &Attendee) -> Value {
    json!({ "ExternalUserId": a.external_user_id(), "AttendeeId": a.attendee_id(), "JoinToken": a.join_token() })
}

fn meeting_id(meeting: Option<&Value>) -> Result<String, VideoError> {
    meeting
        .and_then(|m| m.get("MeetingId"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| VideoError::Unavailable("the call has no Chime meeting id".into()))
}

impl ChimeVideo {
    /// `config`'s region is the control region (where the meeting API is called and its
    /// EventBridge events arrive); `media_region` is where the media is hosted.
    pub fn new(config: &aws_config::SdkConfig, media_region: String) -> Self {
        ChimeVideo { client: Client::new(config), media_region }
    }

    pub fn with_client(client: Client, media_region: String) -> Self {
        ChimeVideo { client, media_region }
    }
}

#[async_trait]
impl VideoProvider for ChimeVideo {
    fn provider(&self) -> CallProvider {
        CallProvider::Chime
    }

    /// A meeting's features are fixed when it is created: HD covers 480p and 720p.
    fn max_quality(&self, start: Quality) -> Quality {
        match start {
            Quality::P480 | Quality::P720 => Quality::P720,
            other => other,
        }
    }

    async fn create(&self, call: &CallRef, quality: Quality, starter: &ParticipantRef) -> Result<Created, VideoError> {
        let starter_id = external_user_id(starter)?;
        let attendee =
            CreateAttendeeRequestItem::builder().external_user_id(&starter_id).build().map_err(|e| VideoError::Rejected(e.to_string()))?;
        let out = self
            .client
            .create_meeting_with_attendees()
            .client_request_token(&call.call_id)
            .external_meeting_id(&call.session_id)
            .media_region(&self.media_region)
            .meeting_features(features(quality))
            .attendees(attendee)
            .send()
            .await
            .map_err(|e| {
                let kind = match e.as_service_error() {
                    Some(s) if s.is_limit_exceeded_exception() => Failure::Refused,
                    _ => classify!(e),
                };
                failure("CreateMeetingWithAttendees", kind, e)
            })?;
        if let Some(refused) = out.errors().first() {
            return Err(VideoError::Rejected(format!(
                "Chime refused the attendee {}: {} {}",
                refused.external_user_id().unwrap_or_default(),
                refused.error_code().unwrap_or_default(),
                refused.error_message().unwrap_or_default()
            )));
        }
        let meeting = out.meeting().ok_or_else(|| VideoError::Unavailable("Chime answered no meeting".into()))?;
        let attendee = out
            .attendees()
            .iter()
            .find(|a| a.external_user_id() == Some(starter_id.as_str()))
            .ok_or_else(|| VideoError::Unavailable("Chime answered no attendee for the starter".into()))?;
        let meeting_json = meeting_json(meeting);
        Ok(Created {
            external_id: meeting.meeting_id().map(str::to_string),
            join: JoinInfo::Chime { meeting: meeting_json.clone(), attendee: attendee_json(attendee) },
            meeting: Some(meeting_json),
        })
    }

    async fn join(&self, meeting: Option<&Value>, who: &ParticipantRef, _peers: Vec<ParticipantRef>) -> Result<JoinInfo, VideoError> {
        let id = meeting_id(meeting)?;
        let out = self.client.create_attendee().meeting_id(&id).external_user_id(external_user_id(who)?).send().await.map_err(|e| {
            let kind = match e.as_service_error() {
                Some(s) if s.is_unprocessable_entity_exception() || s.is_limit_exceeded_exception() => Failure::Refused,
                _ => classify!(e, gone),
            };
            failure("CreateAttendee", kind, e)
        })?;
        let attendee = out.attendee().ok_or_else(|| VideoError::Unavailable("Chime answered no attendee".into()))?;
        Ok(JoinInfo::Chime { meeting: meeting.cloned().unwrap_or_default(), attendee: attendee_json(attendee) })
    }

    async fn end(&self, meeting: Option<&Value>) -> Result<(), VideoError> {
        let id = meeting_id(meeting)?;
        match self.client.delete_meeting().meeting_id(&id).send().await {
            Ok(_) => Ok(()),
            Err(e) => match classify!(e, gone) {
                Failure::Gone => Ok(()),
                kind => Err(failure("DeleteMeeting", kind, e)),
            },
        }
    }
}
