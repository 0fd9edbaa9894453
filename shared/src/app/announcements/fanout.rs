//! Sending an announcement: its audience expanded into distinct recipients, split into chunks
//! that go through the work queue, each chunk written into the recipients' inboxes 25 to a batch
//! and pushed to those online. Every step may run twice (queues deliver at least once): the
//! announcement's status moves on with conditional writes, and a chunk is counted once.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::store::{Announcements, ChunkClaim};
use crate::app::connections::{connections_of, post};
use crate::app::groups::store::Groups;
use crate::app::App;
use crate::domain::announcement::{preview, Announcement, AnnouncementStatus, InboxEntry};
use crate::domain::limits::ANNOUNCEMENT_CHUNK;
use crate::domain::{now_rfc3339, CustomerId, GroupId, ParticipantRef, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::ports::queue::QueueMessage;
use crate::ports::table::{StoreError, Update};
use crate::ws::protocol::ServerFrame;

/// Connections looked up at once while pushing a chunk.
const LOOKUPS_IN_FLIGHT: usize = 64;

/// What the fan-out queue carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FanoutMessage {
    /// Send the announcement: expand its audience and queue its chunks (from the create call,
    /// or from its schedule).
    Publish { tenant: String, announcement_id: String },
    /// Deliver to these recipients (at most [`ANNOUNCEMENT_CHUNK`]).
    Chunk { tenant: String, announcement_id: String, chunk: u32, customer_ids: Vec<String> },
}

impl FanoutMessage {
    pub fn to_queue(&self) -> QueueMessage {
        let id = match self {
            FanoutMessage::Publish { announcement_id, .. } => format!("{announcement_id}-publish"),
            FanoutMessage::Chunk { announcement_id, chunk, .. } => format!("{announcement_id}-chunk-{chunk}"),
        };
        QueueMessage::new(id, serde_json::to_string(self).unwrap_or_default())
    }
}

/// What handling one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Expanded into `targeted` recipients in `chunks` chunks.
    Published { targeted: u64, chunks: u64 },
    /// A chunk delivered into `delivered` inboxes, `live` of them pushed at once.
    Delivered { delivered: u64, live: u64 },
    /// Nothing to do (a redelivery, a cancelled or unknown announcement).
    Skipped(&'static str),
}

/// Handles one queue message; errors are transient (the message is retried).
pub async fn handle(app: &App, message: FanoutMessage) -> AppResult<Handled> {
    match message {
        FanoutMessage::Publish { tenant, announcement_id } => publish(app, &TenantId::parse(&tenant)?, &announcement_id).await,
        FanoutMessage::Chunk { tenant, announcement_id, chunk, customer_ids } => {
            let ids = customer_ids.iter().map(|c| CustomerId::parse(c)).collect::<AppResult<Vec<_>>>()?;
            deliver_chunk(app, &TenantId::parse(&tenant)?, &announcement_id, chunk, &ids).await
        }
    }
}

/// Every distinct customer the audience names now: the customers listed and the present members
/// of its groups (a group deleted since is left out), in id order.
pub async fn expand(app: &App, tenant: &TenantId, customers: &[String], groups: &[String]) -> AppResult<Vec<CustomerId>> {
    let mut all: BTreeSet<CustomerId> = customers.iter().map(|c| CustomerId::parse(c)).collect::<AppResult<_>>()?;
    let repo = Groups::new(app, tenant);
    for g in groups {
        all.extend(repo.all_members(&GroupId::parse(g)?).await?);
    }
    Ok(all.into_iter().collect())
}

async fn publish(app: &App, tenant: &TenantId, id: &str) -> AppResult<Handled> {
    let repo = Announcements::new(app, tenant);
    let Some(mut a) = repo.get(id).await? else { return Ok(Handled::Skipped("no such announcement")) };
    if a.status == AnnouncementStatus::Scheduled {
        let update = Update::default().set("status", AnnouncementStatus::Expanding.as_str()).set("published_at", now_rfc3339());
        match repo.transition(id, AnnouncementStatus::Scheduled, update).await? {
            Some(moved) => a = moved,
            // Cancelled, or another delivery of this message got there first.
            None => return Ok(Handled::Skipped("no longer scheduled")),
        }
    }
    if a.status != AnnouncementStatus::Expanding {
        return Ok(Handled::Skipped("already published"));
    }
    // From here on every step repeats harmlessly: the same recipients in the same chunks.
    let recipients = expand(app, tenant, &a.audience.customer_ids, &a.audience.group_ids).await?;
    let chunks: Vec<&[CustomerId]> = recipients.chunks(ANNOUNCEMENT_CHUNK).collect();
    let (targeted, count) = (recipients.len() as u64, chunks.len() as u64);
    repo.set(id, Update::default().set("targeted", targeted).set("chunks", count)).await?;
    let messages = chunks
        .iter()
        .enumerate()
        .map(|(n, ids)| {
            FanoutMessage::Chunk {
                tenant: tenant.to_string(),
                announcement_id: id.to_string(),
                chunk: n as u32,
                customer_ids: ids.iter().map(|c| c.to_string()).collect(),
            }
            .to_queue()
        })
        .collect::<Vec<_>>();
    if !messages.is_empty() {
        app.queue.send(messages).await.map_err(|e| AppError::internal(format!("the fan-out queue refused the chunks: {e}")))?;
    }
    if let Some(a) =
        repo.transition(id, AnnouncementStatus::Expanding, Update::default().set("status", AnnouncementStatus::Sending.as_str())).await?
    {
        app.publish(EventEnvelope::new(
            types::ANNOUNCEMENT_PUBLISHED,
            tenant,
            format!("{id}:published"),
            json!({ "announcement_id": id, "title": a.title, "targeted": targeted, "chunks": count,
                    "audience": { "customers": a.audience.customer_ids.len(), "groups": a.audience.group_ids } }),
        ))
        .await;
    }
    // Chunks may all be done already (or there were none).
    finish_if_done(app, tenant, id).await?;
    Ok(Handled::Published { targeted, chunks: count })
}

/// Marks the announcement sent once its last chunk is counted (either the publisher or the last
/// chunk's delivery gets there; the conditional write lets one of them).
async fn finish_if_done(app: &App, tenant: &TenantId, id: &str) -> AppResult<()> {
    let repo = Announcements::new(app, tenant);
    let Some(a) = repo.get(id).await? else { return Ok(()) };
    if a.status == AnnouncementStatus::Sending && a.chunks_done >= a.chunks {
        let update = Update::default().set("status", AnnouncementStatus::Sent.as_str()).set("sent_at", now_rfc3339());
        repo.transition(id, AnnouncementStatus::Sending, update).await?;
    }
    Ok(())
}

/// The inbox entry an announcement leaves.
pub fn inbox_entry(a: &Announcement) -> InboxEntry {
    InboxEntry {
        announcement_id: a.id.clone(),
        title: a.title.clone(),
        preview: preview(&a.body),
        media: a.media.clone(),
        published_at: a.published_at.clone().unwrap_or_else(|| a.send_at.clone()),
        read_at: None,
    }
}

async fn deliver_chunk(app: &App, tenant: &TenantId, id: &str, n: u32, ids: &[CustomerId]) -> AppResult<Handled> {
    let repo = Announcements::new(app, tenant);
    let Some(a) = repo.get(id).await? else { return Ok(Handled::Skipped("no such announcement")) };
    if a.status == AnnouncementStatus::Cancelled {
        return Ok(Handled::Skipped("cancelled"));
    }
    let entry = inbox_entry(&a);
    let fresh: Vec<CustomerId> = match repo.claim_chunk(id, n).await? {
        ChunkClaim::Done => return Ok(Handled::Skipped("chunk already delivered")),
        ChunkClaim::Fresh => ids.to_vec(),
        // A delivery that stopped part way: only the inboxes still without it.
        ChunkClaim::Resumed => {
            let there = repo.in_inbox(id, ids).await?;
            ids.iter().zip(there).filter(|(_, there)| !there).map(|(c, _)| c.clone()).collect()
        }
    };
    repo.write_inboxes(&fresh, &entry).await?;
    let live = push(app, tenant, &fresh, &entry).await;
    let delivered = ids.len() as u64;
    let event = EventEnvelope::new(
        types::ANNOUNCEMENT_DELIVERED,
        tenant,
        format!("{id}:chunk:{n}"),
        json!({ "announcement_id": id, "chunk": n, "chunks": a.chunks, "delivered": delivered, "delivered_live": live }),
    );
    match app.transact_with_event(repo.chunk_done_ops(id, n, delivered, live), event).await {
        Ok(Some(event)) => app.publish(event).await,
        Ok(None) => {}
        // Another delivery of this chunk finished first and counted it.
        Err(StoreError::TransactionCancelled { .. }) => return Ok(Handled::Skipped("chunk already delivered")),
        Err(e) => return Err(e.into()),
    }
    finish_if_done(app, tenant, id).await?;
    Ok(Handled::Delivered { delivered, live })
}

/// Pushes the entry to every live connection of the recipients; answers how many recipients got
/// it on at least one connection. Best effort: the inbox has it either way.
async fn push(app: &App, tenant: &TenantId, recipients: &[CustomerId], entry: &InboxEntry) -> u64 {
    use futures::StreamExt;
    let frame = std::sync::Arc::new(ServerFrame::Announcement { announcement: entry.clone() }.to_bytes());
    // Owned futures: the stream's closures borrow nothing.
    let pushes: Vec<_> = recipients
        .iter()
        .map(|c| {
            let (app, tenant, frame, who) = (app.clone(), tenant.clone(), frame.clone(), ParticipantRef::Customer(c.to_string()));
            async move {
                let connections = match connections_of(&app, &tenant, &who).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "connections not read; the inbox has the announcement");
                        return false;
                    }
                };
                let mut reached = false;
                for connection in connections {
                    reached |= post(&app, &connection, &frame).await;
                }
                reached
            }
        })
        .collect();
    futures::stream::iter(pushes).buffer_unordered(LOOKUPS_IN_FLIGHT).filter(|reached| std::future::ready(*reached)).count().await as u64
}
