//! The announcements repository: every stored item of an announcement (the announcement, its
//! delivered chunks, its media, the inbox entries it leaves) is built here.

use futures::{stream, StreamExt, TryStreamExt};
use serde_json::json;

use crate::app::{from_item, to_item, write_in_batches, App};
use crate::domain::announcement::{Announcement, AnnouncementMedia, AnnouncementStatus, InboxEntry};
use crate::domain::{CustomerId, TenantId};
use crate::error::AppResult;
use crate::keys;
use crate::ports::table::{Condition, Item, Key, Query, SortKey, StoreError, TransactOp, Update, WriteOp, GSI1};

/// Batches of inbox entries written at once.
const BATCHES_IN_FLIGHT: usize = 8;
/// Reads a redelivered chunk makes at once.
const READS_IN_FLIGHT: usize = 32;

/// Where a chunk's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkClaim {
    /// First delivery: nothing of it is stored.
    Fresh,
    /// A delivery that stopped part way (some inbox entries may be there).
    Resumed,
    /// Delivered and counted: nothing to do.
    Done,
}

pub struct Announcements<'a> {
    app: &'a App,
    tenant: &'a TenantId,
}

impl<'a> Announcements<'a> {
    pub fn new(app: &'a App, tenant: &'a TenantId) -> Self {
        Announcements { app, tenant }
    }

    pub fn item(&self, a: &Announcement) -> AppResult<Item> {
        to_item(
            a,
            &keys::announcement(self.tenant, &a.id),
            &[
                ("gsi1pk", keys::announcements_index(self.tenant).into()),
                ("gsi1sk", a.id.clone().into()),
                ("entity", "announcement".into()),
            ],
        )
    }

    pub async fn create(&self, a: &Announcement) -> AppResult<()> {
        self.app.table.put(self.item(a)?, Some(Condition::NotExists)).await?;
        Ok(())
    }

    pub async fn remove(&self, id: &str) -> AppResult<()> {
        self.app.table.delete(&keys::announcement(self.tenant, id), None).await?;
        Ok(())
    }

    pub async fn get(&self, id: &str) -> AppResult<Option<Announcement>> {
        match self.app.table.get(&keys::announcement(self.tenant, id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The tenant's announcements, newest first.
    pub fn list_query(&self) -> Query {
        Query::on_index(GSI1, keys::announcements_index(self.tenant)).backward()
    }

    /// Moves an announcement from `from` to the status `update` sets; `None` when it was not in `from`.
    pub async fn transition(&self, id: &str, from: AnnouncementStatus, update: Update) -> AppResult<Option<Announcement>> {
        let condition = Condition::Equals("status".into(), from.as_str().into());
        match self.app.table.update(&keys::announcement(self.tenant, id), update, Some(condition)).await {
            Ok(item) => Ok(Some(from_item(item)?)),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn set(&self, id: &str, update: Update) -> AppResult<Announcement> {
        Ok(from_item(self.app.table.update(&keys::announcement(self.tenant, id), update, Some(Condition::Exists)).await?)?)
    }

    /// Claims chunk `n` for delivery.
    pub async fn claim_chunk(&self, id: &str, n: u32) -> AppResult<ChunkClaim> {
        let key = keys::announcement_chunk(self.tenant, id, n);
        let item = to_item(&json!({ "state": "writing" }), &key, &[("entity", "announcement_chunk".into())])?;
        match self.app.table.put(item, Some(Condition::NotExists)).await {
            Ok(()) => Ok(ChunkClaim::Fresh),
            Err(StoreError::ConditionFailed) => {
                let state = self.app.table.get(&key).await?.and_then(|i| i.get("state").and_then(|s| s.as_str()).map(String::from));
                Ok(if state.as_deref() == Some("done") { ChunkClaim::Done } else { ChunkClaim::Resumed })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The transaction that closes a chunk: its record says done (once: a concurrent duplicate
    /// fails the condition) and the announcement's counts grow by what it delivered.
    pub fn chunk_done_ops(&self, id: &str, n: u32, delivered: u64, live: u64) -> Vec<TransactOp> {
        vec![
            TransactOp::Update {
                key: keys::announcement_chunk(self.tenant, id, n),
                update: Update::default().set("state", "done").set("delivered", delivered).set("live", live),
                condition: Some(Condition::Equals("state".into(), "writing".into())),
            },
            TransactOp::Update {
                key: keys::announcement(self.tenant, id),
                update: Update::default().add("delivered", delivered as i64).add("delivered_live", live as i64).add("chunks_done", 1),
                condition: Some(Condition::Exists),
            },
        ]
    }

    /// Which of `customers` already have the announcement in their inbox.
    pub async fn in_inbox(&self, id: &str, customers: &[CustomerId]) -> AppResult<Vec<bool>> {
        let reads: Vec<_> = customers
            .iter()
            .map(|c| {
                let (table, key) = (self.app.table.clone(), keys::inbox_entry(self.tenant, c, id));
                async move { table.get(&key).await.map(|i| i.is_some()) }
            })
            .collect();
        Ok(stream::iter(reads).buffered(READS_IN_FLIGHT).try_collect().await?)
    }

    fn entry_item(&self, customer: &CustomerId, entry: &InboxEntry) -> AppResult<Item> {
        to_item(
            entry,
            &keys::inbox_entry(self.tenant, customer, &entry.announcement_id),
            &[
                ("gsi1pk", keys::unread_index(self.tenant, customer).into()),
                ("gsi1sk", entry.announcement_id.clone().into()),
                ("unread", true.into()),
                ("entity", "inbox_entry".into()),
            ],
        )
    }

    /// Writes the entry into each customer's inbox, 25 to a batch.
    pub async fn write_inboxes(&self, customers: &[CustomerId], entry: &InboxEntry) -> AppResult<()> {
        let ops = customers.iter().map(|c| self.entry_item(c, entry).map(WriteOp::Put)).collect::<AppResult<Vec<_>>>()?;
        Ok(write_in_batches(&self.app.table, ops, BATCHES_IN_FLIGHT).await?)
    }

    pub async fn inbox_entry(&self, customer: &CustomerId, id: &str) -> AppResult<Option<Item>> {
        Ok(self.app.table.get(&keys::inbox_entry(self.tenant, customer, id)).await?)
    }

    pub fn inbox_query(&self, customer: &CustomerId) -> Query {
        Query::partition(keys::customer_partition(self.tenant, customer)).sort(SortKey::BeginsWith(keys::INBOX_PREFIX.into())).backward()
    }

    pub fn unread_query(&self, customer: &CustomerId) -> Query {
        Query::on_index(GSI1, keys::unread_index(self.tenant, customer)).attributes(&["announcement_id"])
    }

    /// Marking read: the entry leaves the unread index (once) and the announcement counts it.
    pub fn read_ops(&self, customer: &CustomerId, id: &str, at: &str) -> Vec<TransactOp> {
        vec![
            TransactOp::Update {
                key: keys::inbox_entry(self.tenant, customer, id),
                update: Update::default().set("unread", false).set("read_at", at.to_string()).remove("gsi1pk").remove("gsi1sk"),
                condition: Some(Condition::Equals("unread".into(), true.into())),
            },
            TransactOp::Update {
                key: keys::announcement(self.tenant, id),
                update: Update::default().add("read", 1),
                condition: Some(Condition::Exists),
            },
        ]
    }

    // Media.

    pub fn media_key(&self, id: &str) -> Key {
        keys::announcement_media(self.tenant, id)
    }

    pub async fn media(&self, id: &str) -> AppResult<Option<AnnouncementMedia>> {
        match self.app.table.get(&self.media_key(id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The pending media and its upload request, both or neither; `false` when the request's
    /// client id was taken (by this request earlier, or a concurrent one).
    pub async fn create_media(&self, media: &AnnouncementMedia, expires: i64) -> AppResult<bool> {
        let request_key = keys::announcement_media_request(self.tenant, &media.client_upload_id);
        let record = to_item(
            &json!({ "media_id": media.id, "file_name": media.file_name, "content_type": media.declared_type, "size": media.size }),
            &request_key,
            &[("entity", "announcement_media_request".into()), (crate::ports::table::TTL, expires.into())],
        )?;
        let item = to_item(
            media,
            &self.media_key(&media.id),
            &[("entity", "announcement_media".into()), (crate::ports::table::TTL, expires.into())],
        )?;
        let ops = vec![
            TransactOp::Put { item, condition: Some(Condition::NotExists) },
            TransactOp::Put { item: record, condition: Some(Condition::NotExists) },
        ];
        match self.app.table.transact_write(ops).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCancelled { reasons }) if reasons.get(1) == Some(&true) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn media_request(&self, client_upload_id: &str) -> AppResult<Option<Item>> {
        Ok(self.app.table.get(&keys::announcement_media_request(self.tenant, client_upload_id)).await?)
    }

    /// Leaves `pending` once: `None` when the media was no longer pending.
    pub async fn settle_media(&self, id: &str, update: Update) -> AppResult<Option<AnnouncementMedia>> {
        let pending = Condition::Equals("status".into(), crate::domain::announcement::MediaStatus::Pending.as_str().into());
        match self.app.table.update(&self.media_key(id), update, Some(pending)).await {
            Ok(item) => Ok(Some(from_item(item)?)),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
