//! The fan-out queue on SQS: messages go out ten to a `SendMessageBatch` call (SQS's limit, and
//! at most 256 KiB a call); entries SQS refuses for a reason of its own are sent again, a few
//! times, before the send fails.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use crate::ports::queue::{QueueError, QueueMessage, WorkQueue, MAX_MESSAGE_BYTES};

/// Entries in one `SendMessageBatch` call.
pub const BATCH_ENTRIES: usize = 10;
/// Bytes of bodies in one call.
const BATCH_BYTES: usize = 256 * 1024;
/// Sends of the entries SQS failed on its side (throttling, internal errors) before giving up.
const ATTEMPTS: u32 = 4;

pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(config: &aws_config::SdkConfig, queue_url: String) -> Self {
        Self::with_client(Client::new(config), queue_url)
    }

    pub fn with_client(client: Client, queue_url: String) -> Self {
        SqsQueue { client, queue_url }
    }

    /// Sends one batch; answers the messages SQS did not take for a reason a retry may fix.
    async fn send_batch(&self, batch: &[QueueMessage]) -> Result<Vec<QueueMessage>, QueueError> {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    // Entry ids only pair answers with entries; they must be unique in the call.
                    .id(format!("m{i}"))
                    .message_body(&m.body)
                    .delay_seconds(m.delay_seconds as i32)
                    .build()
                    .map_err(|e| QueueError::Backend(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::Backend(DisplayErrorContext(&e).to_string()))?;
        let mut retry = Vec::new();
        for failed in out.failed() {
            let index = failed.id().strip_prefix('m').and_then(|i| i.parse::<usize>().ok()).filter(|i| *i < batch.len());
            let Some(index) = index else {
                return Err(QueueError::Backend(format!("SQS reported an unknown entry {}", failed.id())));
            };
            if failed.sender_fault() {
                return Err(QueueError::Backend(format!(
                    "SQS refused message {}: {} {}",
                    batch[index].id,
                    failed.code(),
                    failed.message().unwrap_or_default()
                )));
            }
            retry.push(batch[index].clone());
        }
        Ok(retry)
    }
}

/// Splits messages into calls of at most ten entries and 256 KiB.
pub fn batches(messages: Vec<QueueMessage>) -> Vec<Vec<QueueMessage>> {
    let mut out: Vec<Vec<QueueMessage>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let size = m.body.len();
        match out.last_mut() {
            Some(last) if last.len() < BATCH_ENTRIES && bytes + size <= BATCH_BYTES => {
                bytes += size;
                last.push(m);
            }
            _ => {
                bytes = size;
                out.push(vec![m]);
            }
        }
    }
    out
}

#[async_trait]
impl WorkQueue for SqsQueue {
    async fn send(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        if let Some(m) = messages.iter().find(|m| m.body.len() > MAX_MESSAGE_BYTES) {
            return Err(QueueError::Backend(format!(
                "message {} has {} bytes; a queue message takes {MAX_MESSAGE_BYTES}",
                m.id,
                m.body.len()
            )));
        }
        let mut pending = messages;
        for attempt in 0..ATTEMPTS {
            if pending.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let sends = batches(std::mem::take(&mut pending)).into_iter().map(|batch| async move { self.send_batch(&batch).await });
            for result in futures::future::join_all(sends).await {
                pending.extend(result?);
            }
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Backend(format!("SQS did not take {} messages after {ATTEMPTS} attempts", pending.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_ten_entries_and_256_kib_at_most() {
        let small = (0..23).map(|i| QueueMessage::new(format!("m{i}"), "x")).collect();
        assert_eq!(batches(small).iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        let big = (0..5).map(|i| QueueMessage::new(format!("b{i}"), "y".repeat(100 * 1024))).collect();
        assert_eq!(batches(big).iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert!(batches(Vec::new()).is_empty());
    }
}
