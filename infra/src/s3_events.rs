//! S3 event notifications in the exact JSON shape S3 sends to Lambda (event structure version
//! 2.1), parsed with the same types the Lambda runtime uses, and fed to the trigger table's
//! handlers — as the attachments bucket's notification would in the cloud.

use std::sync::Arc;

use aws_lambda_events::s3::S3Event;
use serde_json::json;

use confer::inbound::{s3_triggers_for, ATTACHMENTS_BUCKET, RECORDINGS_BUCKET};
use confer::App;

/// The bucket names local events carry.
pub const LOCAL_ATTACHMENTS_BUCKET: &str = "confer-local-attachments";
pub const LOCAL_RECORDINGS_BUCKET: &str = "confer-local-recordings";

pub fn object_created(bucket: &str, key: &str, size: u64, etag: &str, source_ip: &str) -> serde_json::Value {
    let now = time::OffsetDateTime::now_utc();
    let sequencer = format!("{:016X}", now.unix_timestamp_nanos() as u64);
    // Keys travel URL-encoded, as S3 sends them.
    let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>().replace("%2F", "/");
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "local",
            "eventTime": confer::domain::format_rfc3339(now),
            "eventName": "ObjectCreated:Put",
            "userIdentity": { "principalId": "confer-local" },
            "requestParameters": { "sourceIPAddress": source_ip },
            "responseElements": { "x-amz-request-id": ulid::Ulid::new().to_string(), "x-amz-id-2": "confer-local" },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "attachments-uploaded",
                "bucket": {
                    "name": bucket,
                    "ownerIdentity": { "principalId": "confer-local" },
                    "arn": format!("arn:aws:s3:::{bucket}")
                },
                "object": { "key": encoded, "size": size, "eTag": etag, "sequencer": sequencer }
            }
        }]
    })
}

/// Runs every trigger of the bucket (template logical id) whose prefix matches `key`, in the background
/// (S3 invokes its triggers asynchronously), retrying a failed record as Lambda would: twice,
/// after a minute and after two more; then the failure is logged (the cloud's dead-letter queue).
pub fn dispatch_object_created(app: Arc<App>, bucket: &str, key: &str, size: u64, etag: &str, source_ip: &str) {
    let name = if bucket == RECORDINGS_BUCKET { LOCAL_RECORDINGS_BUCKET } else { LOCAL_ATTACHMENTS_BUCKET };
    debug_assert!(bucket == RECORDINGS_BUCKET || bucket == ATTACHMENTS_BUCKET);
    let event = object_created(name, key, size, etag, source_ip);
    for trigger in s3_triggers_for(bucket, key) {
        let (app, event) = (app.clone(), event.clone());
        let key = key.to_string();
        tokio::spawn(async move {
            let parsed: S3Event = match serde_json::from_value(event) {
                Ok(e) => e,
                Err(e) => return tracing::error!(error = %e, "S3 event shape"),
            };
            for (attempt, wait) in [0u64, 60, 120].into_iter().enumerate() {
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                let outcome = (trigger.handler)(app.clone(), parsed.clone()).await;
                if outcome.failed.is_empty() {
                    return;
                }
                tracing::warn!(function = trigger.function, key = %key, attempt = attempt + 1, "trigger failed");
            }
            tracing::error!(function = trigger.function, key = %key, "trigger failed three times; event dropped (the cloud keeps it in the dead-letter queue)");
        });
    }
}
