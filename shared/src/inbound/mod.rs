//! Inbound events no API call starts: storage notifications and EventBridge rules today; queues,
//! streams and schedules as they arrive. [`TRIGGERS`] is their one list, as `http::routes` is for routes:
//! each Lambda's entry point runs a trigger by name (`lambda::run_s3`), confer-local's dispatcher
//! feeds the same handlers the same event JSON, and tests/template_routes.rs proves template.yaml
//! wires exactly these functions to exactly these sources.

pub mod announcements;
pub mod chime;
pub mod imports;
pub mod recordings;
pub mod s3;
pub mod streams;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_lambda_events::s3::S3Event;

use crate::app::App;
use crate::capabilities::{needs, Capability};

/// Where a trigger's events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// S3 event notifications of a bucket (template logical id), for keys under `prefix`.
    S3 { bucket: &'static str, events: &'static [&'static str], prefix: &'static str },
}

/// What a trigger's handler reports: records to retry, by position in the event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub failed: Vec<usize>,
}

pub type S3Future = Pin<Box<dyn Future<Output = Outcome> + Send>>;
pub type S3Handler = fn(Arc<App>, S3Event) -> S3Future;

pub struct Trigger {
    /// Binary in `functions/` and logical id stem in template.yaml.
    pub function: &'static str,
    pub source: Source,
    pub needs: &'static [Capability],
    pub handler: S3Handler,
}

/// The template logical id of the attachments bucket.
pub const ATTACHMENTS_BUCKET: &str = "AttachmentsBucket";
/// The template logical id of the recordings bucket.
pub const RECORDINGS_BUCKET: &str = "RecordingsBucket";

pub static TRIGGERS: &[Trigger] = &[
    Trigger {
        function: "attachments-verify",
        source: Source::S3 { bucket: ATTACHMENTS_BUCKET, events: &["s3:ObjectCreated:*"], prefix: crate::keys::UPLOADS_PREFIX },
        needs: needs::MEDIA,
        handler: |app, event| Box::pin(s3::verify_uploads(app, event)),
    },
    Trigger {
        function: "recordings-transcribe",
        source: Source::S3 {
            bucket: RECORDINGS_BUCKET,
            events: &["s3:ObjectCreated:*"],
            prefix: crate::ports::recorder::objects::FINAL_PREFIX,
        },
        needs: needs::TRANSCRIBE,
        handler: |app, event| Box::pin(recordings::final_files(app, event)),
    },
];

pub fn trigger(function: &str) -> Option<&'static Trigger> {
    TRIGGERS.iter().find(|t| t.function == function)
}

/// The triggers that receive an S3 notification for `key` in `bucket` (logical id).
pub fn s3_triggers_for<'a>(bucket: &'a str, key: &'a str) -> impl Iterator<Item = &'static Trigger> + 'a {
    TRIGGERS.iter().filter(move |t| match t.source {
        Source::S3 { bucket: b, prefix, .. } => b == bucket && key.starts_with(prefix),
    })
}

/// An EventBridge rule's handler: `Err` only for what a retry may fix.
pub type EventBridgeFuture = Pin<Box<dyn Future<Output = Result<(), crate::error::AppError>> + Send>>;
pub type EventBridgeHandler = fn(Arc<App>, aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>) -> EventBridgeFuture;

/// A function fed by an EventBridge rule on the default bus (with retries and a dead-letter
/// queue in template.yaml).
pub struct Rule {
    pub function: &'static str,
    pub source: &'static str,
    pub detail_type: &'static str,
    /// The `detail` attribute the rule filters on (`eventType` for Chime).
    pub detail_field: &'static str,
    /// The values of `detail_field` the rule forwards.
    pub event_types: &'static [&'static str],
    pub needs: &'static [Capability],
    pub handler: EventBridgeHandler,
}

pub static RULES: &[Rule] = &[
    Rule {
        function: "calls-chime-events",
        source: chime::SOURCE,
        detail_type: chime::DETAIL_TYPE,
        detail_field: "eventType",
        event_types: chime::EVENT_TYPES,
        needs: needs::CALLS,
        handler: |app, event| Box::pin(chime::meeting_state_changed(app, event)),
    },
    Rule {
        function: "recordings-transcribed",
        source: recordings::TRANSCRIBE_SOURCE,
        detail_type: recordings::TRANSCRIBE_DETAIL_TYPE,
        detail_field: "TranscriptionJobStatus",
        event_types: recordings::TRANSCRIBE_STATUSES,
        needs: needs::TRANSCRIBED,
        handler: |app, event| Box::pin(recordings::job_state_changed(app, event)),
    },
    Rule {
        function: "recordings-pipeline-events",
        source: recordings::PIPELINE_SOURCE,
        detail_type: recordings::PIPELINE_DETAIL_TYPE,
        detail_field: "eventType",
        event_types: recordings::PIPELINE_EVENT_TYPES,
        needs: needs::PIPELINES,
        handler: |app, event| Box::pin(recordings::pipeline_state_changed(app, event)),
    },
];

pub type SqsFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;
pub type SqsHandler = fn(Arc<App>, aws_lambda_events::sqs::SqsEvent) -> SqsFuture;

/// A function fed by an SQS queue (an event source mapping with partial batch responses; the
/// queue has a dead-letter queue after `max_receives`). Locally the durable queue in the store
/// feeds the same handler events of the same shape.
pub struct Consumer {
    pub function: &'static str,
    /// The queue's logical id in template.yaml.
    pub queue: &'static str,
    pub batch_size: usize,
    /// Receives before a message moves to the dead-letter queue.
    pub max_receives: u32,
    /// Seconds a received message stays hidden from other consumers.
    pub visibility_seconds: u64,
    pub needs: &'static [Capability],
    pub handler: SqsHandler,
}

pub static CONSUMERS: &[Consumer] = &[
    Consumer {
        function: "announcements-deliver",
        queue: announcements::FANOUT_QUEUE,
        batch_size: 10,
        max_receives: 5,
        visibility_seconds: 120,
        needs: needs::FANOUT,
        handler: |app, event| Box::pin(announcements::deliver(app, event)),
    },
    Consumer {
        function: "recordings-import",
        queue: imports::IMPORTS_QUEUE,
        // One recording at a time: each may be a large download.
        batch_size: 1,
        max_receives: 5,
        // The function's timeout: 15 minutes for a large download.
        visibility_seconds: 900,
        needs: needs::IMPORT,
        handler: |app, event| Box::pin(imports::import(app, event)),
    },
];

/// The partial batch response for an SQS event whose records had `message_ids`: the failed ones
/// by message id. A failed record without an id fails the whole batch (Lambda then retries every
/// message, which the consumers' idempotence makes harmless).
pub fn batch_response(message_ids: &[Option<String>], outcome: &Outcome) -> aws_lambda_events::sqs::SqsBatchResponse {
    let mut response = aws_lambda_events::sqs::SqsBatchResponse::default();
    for &i in &outcome.failed {
        match message_ids.get(i).and_then(|id| id.as_deref()) {
            Some(id) => response.add_failure(id),
            None => {
                // An empty identifier is how Lambda is told the whole batch failed.
                response.set_failures([""]);
                return response;
            }
        }
    }
    response
}

pub type StreamFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;
pub type StreamHandler = fn(Arc<App>, aws_lambda_events::dynamodb::Event) -> StreamFuture;

/// A function fed by the main table's stream (keys only): an event source mapping that halves a
/// failing batch, reports the first failed record, retries a limited number of times and then
/// sends the records' description to the stream's dead-letter queue. Locally the store's change
/// log feeds the same use cases.
pub struct StreamConsumer {
    pub function: &'static str,
    pub batch_size: usize,
    /// Retries of a failing batch before its records go to the dead-letter queue.
    pub max_retries: u32,
    /// The partition key prefix the mapping's filter lets through (`None`: every record).
    pub key_prefix: Option<&'static str>,
    pub needs: &'static [Capability],
    pub handler: StreamHandler,
}

/// The template logical id of the table whose stream these consume, and of their dead-letter queue.
pub const STREAM_TABLE: &str = "MainTable";
pub const STREAM_DEAD_LETTERS: &str = "StreamDeadLetters";

pub static STREAMS: &[StreamConsumer] = &[
    StreamConsumer {
        function: "search-indexer",
        batch_size: 100,
        max_retries: 10,
        key_prefix: None,
        needs: needs::INDEXER,
        handler: |app, event| Box::pin(streams::index_changes(app, event)),
    },
    StreamConsumer {
        function: "events-relay",
        batch_size: 100,
        max_retries: 50,
        key_prefix: Some(crate::keys::OUTBOX_PREFIX),
        needs: needs::RELAY,
        handler: |app, event| Box::pin(streams::relay_events(app, event)),
    },
];

pub fn stream_consumer(function: &str) -> Option<&'static StreamConsumer> {
    STREAMS.iter().find(|c| c.function == function)
}

pub fn consumer(function: &str) -> Option<&'static Consumer> {
    CONSUMERS.iter().find(|c| c.function == function)
}

pub fn rule(function: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.function == function)
}
