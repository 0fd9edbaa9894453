//! Scheduled announcements on EventBridge Scheduler, tested at the SDK boundary with
//! aws-smithy-mocks (no emulator has the Scheduler): the schedule each announcement sets (a
//! one-time `at()` in UTC, no flexible window, the fan-out queue as target with the publish
//! message as its input, deleted after it fires), a time too close for a schedule sent through
//! the queue delayed instead, cancelling, and the Scheduler's errors.

use std::sync::{Arc, Mutex};

use aws_sdk_scheduler::operation::create_schedule::{CreateScheduleError, CreateScheduleInput, CreateScheduleOutput};
use aws_sdk_scheduler::operation::delete_schedule::{DeleteScheduleError, DeleteScheduleInput, DeleteScheduleOutput};
use aws_sdk_scheduler::types::error::{ConflictException, ResourceNotFoundException, ThrottlingException};
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode};
use aws_sdk_scheduler::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use confer::adapters::aws::scheduler::EventBridgeScheduler;
use confer::adapters::local::{assemble, SqliteStore};
use confer::app::{announcements, customers};
use confer::domain::announcement::{AnnouncementStatus, Audience, NewAnnouncement};
use confer::domain::customer::NewCustomer;
use confer::domain::{format_rfc3339, Principal, Role, TenantId};
use confer::error::AppError;
use confer::ports::queue::{QueueMessage, Scheduler};
use confer::App;
use serde_json::Value;

const GROUP: &str = "confer-dev-announcements";
const QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:confer-dev-fanout";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/confer-dev-SchedulerRole-1A2B3C";

fn scheduler(client: Client) -> EventBridgeScheduler {
    EventBridgeScheduler::with_client(client, GROUP.into(), QUEUE_ARN.into(), ROLE_ARN.into())
}

fn agent() -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-ann".into() }
}

#[tokio::test]
async fn sdk_boundary_an_announcement_for_later_sets_a_one_time_schedule_that_sends_its_publish_message() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
    let backends = assemble(&store).unwrap();
    let seen_create = Arc::new(Mutex::new(Vec::<CreateScheduleInput>::new()));
    let seen_delete = Arc::new(Mutex::new(Vec::<DeleteScheduleInput>::new()));
    let (keep_create, keep_delete) = (seen_create.clone(), seen_delete.clone());
    let create = mock!(Client::create_schedule).then_compute_output(move |input| {
        keep_create.lock().unwrap().push(input.clone());
        CreateScheduleOutput::builder()
            .schedule_arn(format!("arn:aws:scheduler:eu-west-1:123456789012:schedule/{GROUP}/x"))
            .build()
            .unwrap()
    });
    let delete = mock!(Client::delete_schedule).then_compute_output(move |input| {
        keep_delete.lock().unwrap().push(input.clone());
        DeleteScheduleOutput::builder().build()
    });
    let client = mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, [&create, &delete]);
    let app = App { scheduler: Arc::new(scheduler(client)), ..backends.app };
    let queue = backends.queue.clone();
    let ada = customers::create(&app, &agent(), NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let new = |at: time::OffsetDateTime| NewAnnouncement {
        title: "Opening hours".into(),
        body: "We open at nine on Monday.".into(),
        media_id: None,
        audience: Audience { customer_ids: vec![ada.id.clone()], group_ids: vec![] },
        send_at: Some(format_rfc3339(at)),
    };

    // Tomorrow: a schedule, and nothing on the queue yet.
    let tomorrow = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::days(1);
    let later = announcements::create(&app, &agent(), new(tomorrow)).await.unwrap();
    assert_eq!(later.status, AnnouncementStatus::Scheduled);
    let input = seen_create.lock().unwrap().pop().expect("one CreateSchedule");
    assert_eq!(input.name(), Some(later.id.as_str()));
    assert_eq!(input.group_name(), Some(GROUP));
    let t = tomorrow.to_offset(time::UtcOffset::UTC);
    let expected =
        format!("at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second());
    assert_eq!(input.schedule_expression(), Some(expected.as_str()));
    assert_eq!(input.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(input.flexible_time_window().map(|w| w.mode()), Some(&FlexibleTimeWindowMode::Off));
    assert_eq!(input.action_after_completion(), Some(&ActionAfterCompletion::Delete));
    assert_eq!(input.client_token(), Some(later.id.as_str()), "a retried call sets no second schedule");
    let target = input.target().expect("a target");
    assert_eq!((target.arn(), target.role_arn()), (QUEUE_ARN, ROLE_ARN));
    let message: Value = serde_json::from_str(target.input().expect("the message")).unwrap();
    assert_eq!(message, serde_json::json!({ "type": "publish", "tenant": "acme", "announcement_id": later.id }));
    assert!(target.retry_policy().is_some());
    assert_eq!(queue.depth().await.unwrap().0, 0, "nothing queued before its time");

    // Thirty seconds ahead is within the Scheduler's minute: the queue holds it, hidden until then.
    let soon = announcements::create(&app, &agent(), new(time::OffsetDateTime::now_utc() + time::Duration::seconds(30))).await.unwrap();
    assert!(seen_create.lock().unwrap().is_empty(), "no schedule for {}", soon.id);
    assert_eq!(queue.receive(10, 1000, 5).await.unwrap().len(), 0, "not visible yet");
    assert_eq!(queue.depth().await.unwrap().0, 1);

    // Cancelling deletes the schedule.
    let cancelled = announcements::cancel(&app, &agent(), &later.id).await.unwrap();
    assert_eq!(cancelled.status, AnnouncementStatus::Cancelled);
    let deleted = seen_delete.lock().unwrap().pop().expect("one DeleteSchedule");
    assert_eq!((deleted.name(), deleted.group_name()), (Some(later.id.as_str()), Some(GROUP)));
}

#[tokio::test]
async fn sdk_boundary_scheduler_errors_a_set_schedule_is_kept_a_gone_one_is_fine_a_refusal_stores_nothing() {
    let message = QueueMessage::new("ann-publish", "{}");
    let at = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let exists = mock!(Client::create_schedule).then_error(|| {
        CreateScheduleError::ConflictException(ConflictException::builder().message("Schedule already exists.").build().unwrap())
    });
    let gone = mock!(Client::delete_schedule).then_error(|| {
        DeleteScheduleError::ResourceNotFoundException(ResourceNotFoundException::builder().message("not found").build().unwrap())
    });
    let throttled = mock!(Client::delete_schedule)
        .then_error(|| DeleteScheduleError::ThrottlingException(ThrottlingException::builder().message("slow down").build().unwrap()));
    let s = scheduler(mock_client!(aws_sdk_scheduler, RuleMode::Sequential, [&exists, &gone, &throttled]));
    assert_eq!(s.schedule("ann_x", at, message.clone()).await, Ok(()), "set before: the same schedule");
    assert_eq!(s.cancel("ann_x").await, Ok(()), "fired and deleted already");
    assert!(s.cancel("ann_x").await.is_err(), "throttling is an error to retry");

    // A Scheduler that refuses: the announcement is not kept.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("db.sqlite3")).unwrap();
    let backends = assemble(&store).unwrap();
    let refused = mock!(Client::create_schedule)
        .then_error(|| CreateScheduleError::ThrottlingException(ThrottlingException::builder().message("slow down").build().unwrap()));
    let app = App { scheduler: Arc::new(scheduler(mock_client!(aws_sdk_scheduler, [&refused]))), ..backends.app };
    let ada = customers::create(&app, &agent(), NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let failed = announcements::create(
        &app,
        &agent(),
        NewAnnouncement {
            title: "t".into(),
            body: "b".into(),
            media_id: None,
            audience: Audience { customer_ids: vec![ada.id.clone()], group_ids: vec![] },
            send_at: Some(format_rfc3339(at)),
        },
    )
    .await;
    assert!(matches!(failed, Err(AppError::Internal(_))), "{failed:?}");
    assert!(announcements::list(&app, &agent(), 10, None).await.unwrap().items.is_empty(), "nothing stored");
}
