//! Announcements through the cloud's fan-out path on moto: the table on DynamoDB, the queue on
//! SQS with a dead-letter queue after five receives. A pump plays Lambda's event source mapping:
//! it receives up to ten messages, hands the consumer the SQS event, deletes what the partial
//! batch response does not name, and leaves the named messages for SQS to deliver again.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use confer::adapters::aws::dynamodb::DynamoTable;
use confer::adapters::aws::sqs::SqsQueue;
use confer::app::{announcements, customers, groups};
use confer::domain::announcement::{AnnouncementStatus, Audience, NewAnnouncement};
use confer::domain::customer::NewCustomer;
use confer::domain::group::{MemberList, NewGroup};
use confer::domain::{Principal, Role, TenantId};
use confer::inbound;
use confer::ports::queue::{QueueMessage, WorkQueue};
use confer::ports::table::Condition;
use confer::ports::table::{Item, Key, Page, Query, StoreError, Table, TransactOp, Update, WriteOp};
use confer::App;
use confer_tests::collected::Collected;
use confer_tests::moto;
use serde_json::json;

fn principal(role: Role, id: &str) -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role, id: id.into() }
}

/// The table, except that reading an announcement whose id is in `failing` fails as a throttled
/// DynamoDB would, `failing[id]` times (`u32::MAX`: always).
struct Flaky {
    inner: Arc<dyn Table>,
    failing: std::sync::Mutex<HashMap<String, Arc<AtomicU32>>>,
}

impl Flaky {
    fn fail(&self, announcement_id: &str, times: u32) {
        self.failing.lock().unwrap().insert(announcement_id.to_string(), Arc::new(AtomicU32::new(times)));
    }
}

#[async_trait]
impl Table for Flaky {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let counter = self.failing.lock().unwrap().iter().find(|(id, _)| key.pk.ends_with(id.as_str())).map(|(_, c)| c.clone());
        if let Some(left) = counter {
            if left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return Err(StoreError::Throttled("injected".into()));
            }
        }
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.inner.batch_write(ops).await
    }
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        self.inner.transact_write(ops).await
    }
}

struct Queues {
    sqs: aws_sdk_sqs::Client,
    url: String,
    arn: String,
    dead_letters: String,
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes =
        sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await.expect("attributes");
    attributes.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).expect("queue arn")
}

/// The fan-out queue as template.yaml declares it (five receives, then the dead-letter queue),
/// with a visibility timeout of one second so that retries come quickly.
async fn fanout_queues(config: &aws_config::SdkConfig) -> Queues {
    let sqs = aws_sdk_sqs::Client::new(config);
    let dead_letters =
        sqs.create_queue().queue_name(moto::unique_name("fanout-dlq")).send().await.expect("dlq").queue_url.expect("dlq url");
    let dlq_arn = queue_arn(&sqs, &dead_letters).await;
    let consumer = inbound::consumer("announcements-deliver").expect("consumer");
    let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": consumer.max_receives }).to_string();
    let url = sqs
        .create_queue()
        .queue_name(moto::unique_name("fanout"))
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    let arn = queue_arn(&sqs, &url).await;
    Queues { sqs, url, arn, dead_letters }
}

impl Queues {
    /// One receive of the event source mapping: the event, the consumer, the partial batch
    /// response, and deletion of every message it does not name. Answers the message ids
    /// received and those reported failed.
    async fn pump_once(&self, app: &Arc<App>) -> (Vec<String>, Vec<String>) {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(inbound::consumer("announcements-deliver").unwrap().batch_size as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let records: Vec<_> = messages
            .iter()
            .map(|m| {
                let attributes: BTreeMap<String, String> =
                    m.attributes().map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect()).unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
        let ids: Vec<Option<String>> = event.records.iter().map(|r| r.message_id.clone()).collect();
        let consumer = inbound::consumer("announcements-deliver").unwrap();
        let outcome = (consumer.handler)(app.clone(), event).await;
        let response = inbound::batch_response(&ids, &outcome);
        let failed: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        assert!(!failed.iter().any(String::is_empty), "the whole batch was reported failed: {failed:?}");
        for m in &messages {
            if !failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                self.sqs.delete_message().queue_url(&self.url).receipt_handle(m.receipt_handle().unwrap()).send().await.expect("delete");
            }
        }
        (messages.iter().filter_map(|m| m.message_id().map(str::to_string)).collect(), failed)
    }

    /// Pumps until the queue has stayed empty for three receives in a row (or 60 receives).
    async fn drain(&self, app: &Arc<App>) -> Vec<(Vec<String>, Vec<String>)> {
        let mut rounds = Vec::new();
        let mut empty = 0;
        for _ in 0..60 {
            let round = self.pump_once(app).await;
            if round.0.is_empty() {
                empty += 1;
                if empty == 3 {
                    break;
                }
            } else {
                empty = 0;
                rounds.push(round);
            }
        }
        rounds
    }

    async fn dead_letter_bodies(&self) -> Vec<String> {
        let out = self.sqs.receive_message().queue_url(&self.dead_letters).max_number_of_messages(10).send().await.expect("receive dlq");
        out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect()
    }
}

#[tokio::test]
async fn fanout_on_sqs_reports_failures_alone_retries_them_and_dead_letters_what_never_succeeds() {
    let config = moto::sdk_config().await;
    let (table_name, connections_name) = (moto::unique_name("confer-ann"), moto::unique_name("confer-ann-conn"));
    moto::create_table(&config, &table_name).await;
    moto::create_table(&config, &connections_name).await;
    let queues = fanout_queues(&config).await;
    let dynamo = DynamoTable::new(&config, table_name);
    let flaky = Arc::new(Flaky { inner: Arc::new(dynamo.clone()), failing: Default::default() });
    let events = Arc::new(Collected::default());
    let app = Arc::new(App {
        table: flaky.clone(),
        connections_table: Arc::new(dynamo.sibling(connections_name)),
        events: events.clone(),
        queue: Arc::new(SqsQueue::new(&config, queues.url.clone())),
        ..App::without_backends()
    });
    let agent = principal(Role::Agent, "agent-ann");

    // Five customers; groups {0,1,2} and {2,3}; the audience also names 0 and 4 directly.
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(customers::create(&app, &agent, NewCustomer { name: format!("Customer {i}"), ..Default::default() }).await.unwrap().id);
    }
    let g1 = groups::create(&app, &agent, NewGroup { name: "Gold".into(), description: None }).await.unwrap();
    let g2 = groups::create(&app, &agent, NewGroup { name: "Beta".into(), description: None }).await.unwrap();
    groups::add_members(&app, &agent, &g1.id, MemberList { customer_ids: ids[..3].to_vec() }).await.unwrap();
    groups::add_members(&app, &agent, &g2.id, MemberList { customer_ids: ids[2..4].to_vec() }).await.unwrap();
    let audience = || Audience { customer_ids: vec![ids[0].clone(), ids[4].clone()], group_ids: vec![g1.id.clone(), g2.id.clone()] };
    let new = |title: &str| NewAnnouncement {
        title: title.into(),
        body: format!("{title}: the body"),
        media_id: None,
        audience: audience(),
        send_at: None,
    };

    // Three announcements in one batch: the second's first read is throttled once, the third's
    // always. Only their messages are reported; the first goes through.
    let ok = announcements::create(&app, &agent, new("First")).await.unwrap();
    let retried = announcements::create(&app, &agent, new("Second")).await.unwrap();
    let doomed = announcements::create(&app, &agent, new("Third")).await.unwrap();
    flaky.fail(&retried.id, 1);
    flaky.fail(&doomed.id, u32::MAX);
    let rounds = queues.drain(&app).await;
    let first = &rounds[0];
    assert_eq!(first.0.len(), 3, "the three publish messages arrive in one batch: {rounds:?}");
    assert_eq!(first.1.len(), 2, "two of them are reported failed: {rounds:?}");
    let failures: usize = rounds.iter().map(|r| r.1.len()).sum();
    assert_eq!(failures, 1 + 5, "the second once, the third on each of its five receives: {rounds:?}");

    // The first and the second reach each of the five customers once.
    for a in [&ok, &retried] {
        let a = announcements::get(&app, &agent, &a.id).await.unwrap();
        assert_eq!(a.status, AnnouncementStatus::Sent, "{}", a.title);
        assert_eq!((a.targeted, a.delivered, a.chunks, a.chunks_done), (5, 5, 1, 1), "{}", a.title);
    }
    for id in &ids {
        let me = Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Customer, id: id.clone() };
        let inbox = announcements::inbox::list(&app, &me, 50, None).await.unwrap();
        let titles: Vec<&str> = inbox.items.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Second", "First"], "{id}");
        assert_eq!(inbox.unread, 2);
    }
    // The third was received five times and then moved to the dead-letter queue, never sent.
    let dead = queues.dead_letter_bodies().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].contains(&doomed.id), "{dead:?}");
    flaky.fail(&doomed.id, 0);
    assert_eq!(announcements::get(&app, &agent, &doomed.id).await.unwrap().status, AnnouncementStatus::Scheduled);

    // SQS delivers at least once: a chunk and a publish message sent again change nothing.
    let mut sorted = ids.clone();
    sorted.sort();
    let chunk = json!({ "type": "chunk", "tenant": "acme", "announcement_id": ok.id, "chunk": 0, "customer_ids": sorted });
    let publish = json!({ "type": "publish", "tenant": "acme", "announcement_id": ok.id });
    app.queue
        .send(vec![QueueMessage::new(format!("{}-chunk-0", ok.id), chunk.to_string()), QueueMessage::new("again", publish.to_string())])
        .await
        .unwrap();
    let again = queues.drain(&app).await;
    assert!(again.iter().all(|r| r.1.is_empty()), "{again:?}");
    let a = announcements::get(&app, &agent, &ok.id).await.unwrap();
    assert_eq!((a.targeted, a.delivered, a.chunks_done), (5, 5, 1));
    let delivered = events.ids_of("announcement.delivered");
    assert_eq!(delivered.len(), 2, "one per chunk of the two sent announcements: {delivered:?}");
    assert_eq!(delivered.iter().collect::<BTreeSet<_>>().len(), 2);
}

#[tokio::test]
async fn sqs_queue_sends_in_batches_of_ten_with_their_delays() {
    let config = moto::sdk_config().await;
    let queues = fanout_queues(&config).await;
    let queue = SqsQueue::new(&config, queues.url.clone());
    let messages: Vec<_> = (0..23).map(|i| QueueMessage::new(format!("m{i}"), json!({ "n": i }).to_string())).collect();
    queue.send(messages).await.unwrap();
    queue.send(vec![QueueMessage::new("later", "{\"n\":\"later\"}").delayed(3)]).await.unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..10 {
        let out = queues.sqs.receive_message().queue_url(&queues.url).max_number_of_messages(10).send().await.unwrap();
        for m in out.messages.unwrap_or_default() {
            seen.insert(m.body.unwrap());
            queues.sqs.delete_message().queue_url(&queues.url).receipt_handle(m.receipt_handle.unwrap()).send().await.unwrap();
        }
        if seen.len() == 23 {
            break;
        }
    }
    assert_eq!(seen.len(), 23, "every message arrives: {seen:?}");
    assert!(!seen.iter().any(|b| b.contains("later")), "the delayed message waits");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let out = queues.sqs.receive_message().queue_url(&queues.url).wait_time_seconds(2).send().await.unwrap();
    assert_eq!(out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect::<Vec<_>>(), ["{\"n\":\"later\"}"]);

    // A body over SQS's limit is refused before any call.
    let huge = QueueMessage::new("huge", "x".repeat(confer::ports::queue::MAX_MESSAGE_BYTES + 1));
    assert!(queue.send(vec![huge]).await.is_err());
}

/// The whole cloud path of a video announcement: the media request and its presigned PUT to S3,
/// the storage trigger's verification, the announcement through SQS, and the customer opening it
/// from the inbox with a URL S3 serves.
#[tokio::test]
async fn a_video_announcement_on_s3_dynamodb_and_sqs_reaches_the_inbox_playable() {
    use confer::adapters::aws::s3::S3Blobs;
    use confer::app::announcements::{inbox, media};
    use confer::domain::announcement::{MediaStatus, NewMediaUpload};

    let video = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/media/video.mp4")).expect("tests/fixtures/media/video.mp4");
    let config = moto::sdk_config().await;
    let (table_name, connections_name) = (moto::unique_name("confer-annv"), moto::unique_name("confer-annv-conn"));
    moto::create_table(&config, &table_name).await;
    moto::create_table(&config, &connections_name).await;
    let bucket = moto::unique_name("confer-attachments");
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let queues = fanout_queues(&config).await;
    let dynamo = DynamoTable::new(&config, table_name);
    let events = Arc::new(Collected::default());
    let app = Arc::new(App {
        table: Arc::new(dynamo.clone()),
        connections_table: Arc::new(dynamo.sibling(connections_name)),
        events: events.clone(),
        blobs: Arc::new(S3Blobs::with_path_style(&config, bucket.clone())),
        queue: Arc::new(SqsQueue::new(&config, queues.url.clone())),
        ..App::without_backends()
    });
    let agent = principal(Role::Agent, "agent-ann");
    let ada = customers::create(&app, &agent, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
    let group = groups::create(&app, &agent, NewGroup { name: "Everyone".into(), description: None }).await.unwrap();
    groups::add_members(&app, &agent, &group.id, MemberList { customer_ids: vec![ada.id.clone()] }).await.unwrap();

    let ticket = media::request_upload(
        &app,
        &agent,
        NewMediaUpload {
            client_upload_id: "video-1".into(),
            file_name: "update.mp4".into(),
            content_type: "video/mp4".into(),
            size: video.len() as u64,
        },
    )
    .await
    .unwrap();
    let upload = ticket.upload.expect("an upload URL");
    let mut put = reqwest::Client::new().put(&upload.url).body(video.clone());
    for (k, v) in &upload.headers {
        put = put.header(k, v);
    }
    assert!(put.send().await.unwrap().status().is_success(), "S3 takes the presigned PUT");
    // The storage notification, as S3 sends it to attachments-verify.
    let key = format!("uploads/acme/announcements/{}", ticket.media.id);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../events/attachments-verify.json"))
        .unwrap()
        .replace("uploads/acme/ses_01M8NRRGNB7K9M1P3R5T7V9X1Z/att_01M8NT2K4C6E8G0J2M4P6R8T0V", &key)
        .replace("confer-dev-attachments-123456789012", &bucket);
    let event: aws_lambda_events::s3::S3Event = serde_json::from_str(&text).unwrap();
    let trigger = inbound::trigger("attachments-verify").unwrap();
    assert!((trigger.handler)(app.clone(), event).await.failed.is_empty());
    let ready = media::get(&app, &agent, &ticket.media.id).await.unwrap();
    assert_eq!(ready.media.status, MediaStatus::Ready, "{ready:?}");

    let sent = announcements::create(
        &app,
        &agent,
        NewAnnouncement {
            title: "Our new shop".into(),
            body: "A short film of the new shop.".into(),
            media_id: Some(ticket.media.id.clone()),
            audience: Audience { customer_ids: vec![], group_ids: vec![group.id.clone()] },
            send_at: None,
        },
    )
    .await
    .unwrap();
    queues.drain(&app).await;
    assert_eq!(announcements::get(&app, &agent, &sent.id).await.unwrap().status, AnnouncementStatus::Sent);
    let me = Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Customer, id: ada.id.clone() };
    let opened = inbox::open(&app, &me, &sent.id).await.unwrap();
    let url = opened.media_url.expect("a media URL");
    let got = reqwest::get(&url).await.unwrap();
    assert!(got.status().is_success(), "S3 serves the signed URL: {}", got.status());
    assert_eq!(got.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("video/mp4"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), video.as_slice(), "the video as uploaded");
    // Another tenant's customer with the same id finds nothing.
    let stranger = Principal { tenant: TenantId::parse("globex").unwrap(), role: Role::Customer, id: ada.id.clone() };
    assert!(inbox::open(&app, &stranger, &sent.id).await.is_err());
    assert!(inbox::list(&app, &stranger, 10, None).await.unwrap().items.is_empty());
}
