//! Calls on Amazon Chime SDK meetings, tested at the SDK boundary with aws-smithy-mocks (no
//! emulator has Chime): the request each preset produces, attendees for later joiners, deleting
//! the meeting, Chime's errors; then a whole call driven by the EventBridge events in events/
//! through the `calls-chime-events` handler, delivered twice and out of order.

use std::sync::Arc;

use aws_sdk_chimesdkmeetings::operation::create_attendee::{CreateAttendeeError, CreateAttendeeOutput};
use aws_sdk_chimesdkmeetings::operation::create_meeting_with_attendees::{
    CreateMeetingWithAttendeesInput, CreateMeetingWithAttendeesOutput,
};
use aws_sdk_chimesdkmeetings::operation::delete_meeting::{DeleteMeetingError, DeleteMeetingOutput};
use aws_sdk_chimesdkmeetings::types::error::{BadRequestException, NotFoundException};
use aws_sdk_chimesdkmeetings::types::{Attendee, ContentResolution, MediaPlacement, Meeting, VideoResolution};
use aws_sdk_chimesdkmeetings::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use confer::adapters::aws::chime::ChimeVideo;
use confer::adapters::local::{assemble, SqliteStore};
use confer::app::{calls, customers, messages, sessions};
use confer::domain::call::{CallState, JoinInfo, NewCall, Quality};
use confer::domain::customer::NewCustomer;
use confer::domain::session::NewSession;
use confer::domain::{ParticipantRef, Principal, Role, TenantId};
use confer::ports::video::{CallRef, VideoError, VideoProvider};
use confer::App;
use serde_json::Value;

/// The meeting id the sample events in events/ carry.
const MEETING_ID: &str = "e71a3c5d-9b2f-4f18-8d46-0c2b4e6a8f93";

fn meeting_for(input: &CreateMeetingWithAttendeesInput) -> CreateMeetingWithAttendeesOutput {
    let placement = MediaPlacement::builder()
        .audio_host_url("f4e1.k.m3.ec1.app.chime.aws:3478")
        .audio_fallback_url("wss://haxrp.m3.ec1.app.chime.aws:443/calls/e71a3c5d")
        .signaling_url("wss://signal.m3.ec1.app.chime.aws/control/e71a3c5d")
        .turn_control_url("https://2713.cell.eu-central-1.meetings.chime.aws/v2/turn_sessions")
        .event_ingestion_url("https://data.svc.ec1.ingest.chime.aws/v1/client-events")
        .build();
    let meeting = Meeting::builder()
        .meeting_id(MEETING_ID)
        .set_external_meeting_id(input.external_meeting_id().map(str::to_string))
        .set_media_region(input.media_region().map(str::to_string))
        .media_placement(placement)
        .set_meeting_features(input.meeting_features().cloned())
        .meeting_arn(format!("arn:aws:chime:us-east-1:123456789012:meeting/{MEETING_ID}"))
        .build();
    let attendees = input
        .attendees()
        .iter()
        .map(|a| {
            Attendee::builder().external_user_id(a.external_user_id()).attendee_id("9d8c7b6a-attendee").join_token("join-token-1").build()
        })
        .collect();
    CreateMeetingWithAttendeesOutput::builder().meeting(meeting).set_attendees(Some(attendees)).build()
}

fn create_rule() -> Rule {
    mock!(Client::create_meeting_with_attendees).then_compute_output(meeting_for)
}

fn attendee_rule() -> Rule {
    mock!(Client::create_attendee).match_requests(|r| r.meeting_id() == Some(MEETING_ID)).then_compute_output(|r| {
        CreateAttendeeOutput::builder()
            .attendee(
                Attendee::builder()
                    .set_external_user_id(r.external_user_id().map(str::to_string))
                    .attendee_id("5e4d3c2b-attendee")
                    .join_token("join-token-2")
                    .build(),
            )
            .build()
    })
}

fn delete_rule() -> Rule {
    mock!(Client::delete_meeting)
        .match_requests(|r| r.meeting_id() == Some(MEETING_ID))
        .then_output(|| DeleteMeetingOutput::builder().build())
}

fn call_ref() -> CallRef {
    CallRef { tenant: "acme".into(), session_id: "ses_01M8E2A7QW4R6T8Y0U2I4O6P8A".into(), call_id: "cal_01M8E2C1ZX3V5B7N9M1K3J5H7G".into() }
}

#[tokio::test]
async fn sdk_mocks_each_preset_asks_chime_for_its_meeting_features() {
    let agent = ParticipantRef::Agent("7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83".into());
    for quality in Quality::ALL {
        let seen = Arc::new(std::sync::Mutex::new(None::<CreateMeetingWithAttendeesInput>));
        let keep = seen.clone();
        let rule = mock!(Client::create_meeting_with_attendees).then_compute_output(move |input| {
            *keep.lock().unwrap() = Some(input.clone());
            meeting_for(input)
        });
        let video = ChimeVideo::with_client(mock_client!(aws_sdk_chimesdkmeetings, [&rule]), "eu-central-1".into());
        let created = video.create(&call_ref(), quality, &agent).await.expect("created");
        let input = seen.lock().unwrap().clone().expect("one request");
        assert_eq!(
            input.client_request_token(),
            Some("cal_01M8E2C1ZX3V5B7N9M1K3J5H7G"),
            "the call id: a retried start creates no second meeting"
        );
        assert_eq!(input.external_meeting_id(), Some("ses_01M8E2A7QW4R6T8Y0U2I4O6P8A"), "the session");
        assert_eq!(input.media_region(), Some("eu-central-1"));
        let starters: Vec<_> = input.attendees().iter().map(|a| a.external_user_id().to_string()).collect();
        assert_eq!(starters, ["A#7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83"]);
        let features = input.meeting_features().expect("features");
        let video_resolution = features.video().and_then(|v| v.max_resolution()).cloned();
        let content_resolution = features.content().and_then(|c| c.max_resolution()).cloned();
        let max_attendees = features.attendee().and_then(|a| a.max_count());
        let expected = match quality {
            Quality::P480 | Quality::P720 => (Some(VideoResolution::Hd), None, None),
            Quality::P1080 => (Some(VideoResolution::Fhd), None, Some(25)),
            Quality::K4 => (Some(VideoResolution::Fhd), Some(ContentResolution::Uhd), Some(25)),
        };
        assert_eq!((video_resolution, content_resolution, max_attendees), expected, "{quality:?}");
        assert_eq!(video.max_quality(quality), if quality <= Quality::P720 { Quality::P720 } else { quality });
        // The browser gets Chime's own JSON shapes, which amazon-chime-sdk-js reads.
        let JoinInfo::Chime { meeting, attendee } = created.join else { panic!("a Chime join") };
        assert_eq!(meeting["MeetingId"], MEETING_ID);
        assert_eq!(meeting["MediaPlacement"]["SignalingUrl"], "wss://signal.m3.ec1.app.chime.aws/control/e71a3c5d");
        assert_eq!(attendee["JoinToken"], "join-token-1");
        assert_eq!(created.external_id.as_deref(), Some(MEETING_ID));
    }
}

#[tokio::test]
async fn sdk_mocks_later_joiners_get_their_own_attendee_and_ending_deletes_the_meeting() {
    let (attend, delete) = (attendee_rule(), delete_rule());
    let video =
        ChimeVideo::with_client(mock_client!(aws_sdk_chimesdkmeetings, RuleMode::MatchAny, [&attend, &delete]), "eu-central-1".into());
    let meeting: Value = serde_json::json!({ "MeetingId": MEETING_ID });
    let ada = ParticipantRef::Customer("cus_01M8E24NKB3T5X7Z9C1E4G6J8M".into());
    let JoinInfo::Chime { attendee, .. } = video.join(Some(&meeting), &ada, vec![]).await.unwrap() else { panic!("a Chime join") };
    assert_eq!(
        (attendee["ExternalUserId"].as_str(), attendee["JoinToken"].as_str()),
        (Some("C#cus_01M8E24NKB3T5X7Z9C1E4G6J8M"), Some("join-token-2"))
    );
    video.end(Some(&meeting)).await.unwrap();
    assert_eq!((attend.num_calls(), delete.num_calls()), (1, 1));

    // Chime's errors: an ended meeting is gone (and ending it again is fine); a refusal is the caller's.
    let gone = mock!(Client::create_attendee)
        .then_error(|| CreateAttendeeError::NotFoundException(NotFoundException::builder().message("Meeting not found").build()));
    let gone_delete =
        mock!(Client::delete_meeting).then_error(|| DeleteMeetingError::NotFoundException(NotFoundException::builder().build()));
    let refused = mock!(Client::create_attendee)
        .then_error(|| CreateAttendeeError::BadRequestException(BadRequestException::builder().message("bad id").build()));
    let video = ChimeVideo::with_client(
        mock_client!(aws_sdk_chimesdkmeetings, RuleMode::Sequential, [&gone, &gone_delete, &refused]),
        "eu-central-1".into(),
    );
    assert_eq!(video.join(Some(&meeting), &ada, vec![]).await, Err(VideoError::Gone));
    assert_eq!(video.end(Some(&meeting)).await, Ok(()));
    assert!(matches!(video.join(Some(&meeting), &ada, vec![]).await, Err(VideoError::Rejected(_))));
    let long = ParticipantRef::Agent("x".repeat(70));
    assert!(matches!(video.join(Some(&meeting), &long, vec![]).await, Err(VideoError::Rejected(_))), "Chime's 64-character limit");
}

fn sample(variant: Option<&str>, agent: &str, customer: &str) -> aws_lambda_events::eventbridge::EventBridgeEvent<Value> {
    let name = match variant {
        Some(v) => format!("calls-chime-events.{v}.json"),
        None => "calls-chime-events.json".into(),
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(&name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The samples name their own agent and customer; this test's have other ids.
    let text = text
        .replace("A#7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83", &format!("A#{agent}"))
        .replace("C#cus_01M8E24NKB3T5X7Z9C1E4G6J8M", &format!("C#{customer}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name} is an EventBridge event: {e}"))
}

#[tokio::test]
async fn sdk_mocks_a_chime_call_follows_its_eventbridge_events_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
    let backends = assemble(&store).unwrap();
    let (create, attend, delete) = (create_rule(), attendee_rule(), delete_rule());
    let client = mock_client!(aws_sdk_chimesdkmeetings, RuleMode::MatchAny, [&create, &attend, &delete]);
    let app = Arc::new(App { video: Arc::new(ChimeVideo::with_client(client, "eu-central-1".into())), ..backends.app });
    let tenant = TenantId::parse("acme").unwrap();
    let agent = Principal { tenant: tenant.clone(), role: Role::Agent, id: "7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83".into() };
    let customer = customers::create(&app, &agent, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let session =
        sessions::create(&app, &agent, NewSession { customer_id: customer.id.clone(), agent_ids: vec![], subject: None }).await.unwrap();
    let ada = Principal { tenant: tenant.clone(), role: Role::Customer, id: customer.id.clone() };

    let (created, started) =
        calls::start(&app, &agent, &session.id, NewCall { quality: Some(Quality::P1080), provider: None }).await.unwrap();
    assert!(created);
    assert_eq!((started.call.max_quality, started.call.quality), (Quality::P1080, Quality::P1080));
    let raise = serde_json::from_value(serde_json::json!({ "quality": "4k" })).unwrap();
    assert!(matches!(calls::set_quality(&app, &ada, &session.id, raise).await, Err(confer::AppError::QualityUnavailable(_))));
    let joined = calls::join(&app, &ada, &session.id).await.unwrap();
    assert!(matches!(joined.join, JoinInfo::Chime { .. }));

    let handler = confer::inbound::rule("calls-chime-events").expect("the rule").handler;
    let deliver = |variant: Option<&'static str>| {
        let (app, agent_id, customer_id) = (app.clone(), agent.id.clone(), customer.id.clone());
        async move { handler(app, sample(variant, &agent_id, &customer_id)).await }
    };
    // Started and joined again change nothing; the customer leaves, the agent drops.
    deliver(Some("meeting-started")).await.unwrap();
    deliver(None).await.unwrap();
    assert_eq!(calls::get(&app, &agent, &session.id).await.unwrap().participants.len(), 2);
    deliver(Some("attendee-left")).await.unwrap();
    deliver(Some("attendee-left")).await.unwrap();
    let call = calls::get(&app, &agent, &session.id).await.unwrap();
    assert_eq!(call.participants.iter().filter(|p| p.left_at.is_some()).count(), 1, "left once: {call:?}");
    deliver(Some("attendee-dropped")).await.unwrap();
    // Everyone is out: the call ended (and its meeting was deleted); the meeting's own end and
    // any late event change nothing more.
    assert!(matches!(calls::get(&app, &agent, &session.id).await, Err(confer::AppError::NotFound(_))));
    deliver(Some("meeting-ended")).await.unwrap();
    deliver(None).await.unwrap();
    assert_eq!(delete.num_calls(), 1);
    let query = messages::HistoryQuery { direction: None, cursor: None, after_seq: Some(0), before_seq: None, limit: 100 };
    let history = messages::history(&app, &agent, &session.id, query).await.unwrap();
    let ended: Vec<_> = history.items.iter().filter(|m| m.call.as_ref().is_some_and(|c| c.event == "ended")).collect();
    assert_eq!(ended.len(), 1, "one end in the history");
    assert_eq!(ended[0].call.as_ref().unwrap().participants.len(), 2);
    assert_eq!(ended[0].call.as_ref().unwrap().quality, Quality::P1080);

    // A meeting Confer does not know is acknowledged and changes nothing.
    let mut stranger = sample(Some("meeting-ended"), &agent.id, &customer.id);
    stranger.detail["meetingId"] = "00000000-0000-0000-0000-000000000000".into();
    handler(app.clone(), stranger).await.unwrap();
    let _ = CallState::Ended;
}
