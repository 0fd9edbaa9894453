//! confer-local's queue worker: what Lambda's SQS event source mapping does in the cloud. It
//! receives batches from the local durable queue, hands each consumer (`confer::inbound::CONSUMERS`)
//! an event in the exact shape SQS sends to Lambda, deletes what the handler finished, and makes
//! the failures it reports (partial batch response) visible again after a backoff; a message
//! received `max_receives` times moves to the dead-letter table.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use confer::adapters::local::queue::{LocalQueue, Received};
use confer::inbound::Consumer;
use confer::App;

/// Batches handled at once (Lambda scales its pollers similarly, a few at a time).
const BATCHES_IN_FLIGHT: usize = 4;
/// The longest a worker sleeps before looking again (a schedule due meanwhile is picked up then).
const IDLE_WAIT: Duration = Duration::from_secs(1);
pub const LOCAL_REGION: &str = "local";

/// The SQS event Lambda receives for `messages` of `queue`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>).
pub fn sqs_event(queue: &str, messages: &[Received]) -> serde_json::Value {
    use md5::Digest as _;
    let records: Vec<_> = messages
        .iter()
        .map(|m| {
            let md5: String = md5::Md5::digest(m.body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            json!({
                "messageId": message_id(m.seq),
                "receiptHandle": format!("confer-local-{}-{}", m.seq, m.receives),
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receives.to_string(),
                    "SentTimestamp": m.sent_at.to_string(),
                    "SenderId": "confer-local",
                    "ApproximateFirstReceiveTimestamp": m.first_received_at.to_string()
                },
                "messageAttributes": {},
                "md5OfBody": md5,
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{LOCAL_REGION}:000000000000:confer-local-{queue}"),
                "awsRegion": LOCAL_REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// SQS message ids are UUIDs; locally one is made from the message's position.
fn message_id(seq: i64) -> String {
    format!("00000000-0000-4000-8000-{seq:012x}")
}

/// Runs `consumer` on `queue` until aborted.
pub fn spawn(app: Arc<App>, queue: LocalQueue, consumer: &'static Consumer) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Messages a stopped process was handling are nobody's now.
        if let Err(e) = queue.recover_in_flight().await {
            tracing::warn!(error = %e, "in-flight messages not recovered; they show again after their visibility timeout");
        }
        let arrivals = queue.arrivals();
        let slots = Arc::new(Semaphore::new(BATCHES_IN_FLIGHT));
        let visibility_ms = (consumer.visibility_seconds * 1000) as i64;
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let batch = match queue.receive(consumer.batch_size, visibility_ms, consumer.max_receives).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, queue = queue.name(), "queue not read");
                    tokio::time::sleep(IDLE_WAIT).await;
                    continue;
                }
            };
            if batch.is_empty() {
                drop(permit);
                let wait = match queue.next_visible_at().await {
                    Ok(Some(at)) => {
                        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
                        Duration::from_millis((at - now).clamp(0, IDLE_WAIT.as_millis() as i64) as u64)
                    }
                    _ => IDLE_WAIT,
                };
                tokio::select! {
                    _ = arrivals.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let (app, queue) = (app.clone(), queue.clone());
            tokio::spawn(async move {
                handle(app, &queue, consumer, batch).await;
                drop(permit);
            });
        }
    })
}

async fn handle(app: Arc<App>, queue: &LocalQueue, consumer: &'static Consumer, batch: Vec<Received>) {
    let event: SqsEvent = match serde_json::from_value(sqs_event(queue.name(), &batch)) {
        Ok(e) => e,
        Err(e) => return tracing::error!(error = %e, "SQS event shape"),
    };
    let outcome = (consumer.handler)(app, event).await;
    let done: Vec<i64> = batch.iter().enumerate().filter(|(i, _)| !outcome.failed.contains(i)).map(|(_, m)| m.seq).collect();
    if let Err(e) = queue.delete(done).await {
        tracing::warn!(error = %e, "handled messages not deleted; they will be handled again (harmlessly)");
    }
    for i in outcome.failed {
        let m = &batch[i];
        // Sooner than the cloud's visibility timeout: 2, 4, 8 … seconds.
        let delay = (1000i64 << m.receives.min(16)).min((consumer.visibility_seconds * 1000) as i64);
        tracing::warn!(function = consumer.function, message_id = %message_id(m.seq), receives = m.receives, "message failed; retried later");
        if let Err(e) = queue.release(m.seq, delay).await {
            tracing::warn!(error = %e, "failed message not released; it shows again after its visibility timeout");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_events_have_the_shape_lambda_receives() {
        let m =
            Received { seq: 7, id: "x".into(), body: "test".into(), sent_at: 1545082649183, first_received_at: 1545082649185, receives: 1 };
        let event: SqsEvent = serde_json::from_value(sqs_event("FanoutQueue", &[m])).unwrap();
        let record = &event.records[0];
        assert_eq!(record.body.as_deref(), Some("test"));
        // AWS's own example: the MD5 of "test".
        assert_eq!(record.md5_of_body.as_deref(), Some("098f6bcd4621d373cade4e832627b4f6"));
        assert_eq!(record.attributes.get("ApproximateReceiveCount").map(String::as_str), Some("1"));
        assert_eq!(record.event_source.as_deref(), Some("aws:sqs"));
    }
}
