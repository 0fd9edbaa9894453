//! A customer's inbox: the announcements sent to them, newest first, with an unread count;
//! opened with the whole body and a short-lived URL of the media; marked read once.

use serde::Serialize;
use serde_json::json;

use super::media::sign_download;
use super::store::Announcements;
use crate::app::paging::{decode_cursor, read_page};
use crate::app::{from_item, App};
use crate::domain::announcement::{parse_announcement_id, InboxEntry, OpenedAnnouncement};
use crate::domain::limits::MAX_UNREAD_COUNTED;
use crate::domain::{now_rfc3339, CustomerId, Principal, Role};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::ports::table::StoreError;

/// A page of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Announcements not yet marked read (counted up to 1,000).
    pub unread: u64,
    /// True when there are more unread than `unread` says.
    pub unread_more: bool,
}

fn customer(p: &Principal) -> AppResult<CustomerId> {
    match p.role {
        Role::Customer => CustomerId::parse(&p.id),
        Role::Admin | Role::Agent => {
            Err(AppError::Forbidden("the inbox is a customer's; agents read announcements under /v1/announcements".into()))
        }
    }
}

pub async fn list(app: &App, p: &Principal, limit: usize, cursor: Option<&str>) -> AppResult<InboxPage> {
    let me = customer(p)?;
    let repo = Announcements::new(app, &p.tenant);
    let mut query = repo.inbox_query(&me);
    if let Some(c) = cursor {
        let key = decode_cursor(c, &query)?;
        if !key.get("sk").and_then(|v| v.as_str()).is_some_and(|sk| sk.starts_with(crate::keys::INBOX_PREFIX)) {
            return Err(AppError::validation("cursor is not valid for this list"));
        }
        query.start_after = Some(key);
    }
    let unread = repo.unread_query(&me).limit(MAX_UNREAD_COUNTED + 1);
    let (page, unread) = futures::join!(read_page(app.table.as_ref(), query, limit), app.table.query(unread));
    let (items, next_cursor) = page?;
    let unread = unread?.items.len();
    Ok(InboxPage {
        items: items.into_iter().map(from_item).collect::<AppResult<_>>()?,
        next_cursor,
        unread: unread.min(MAX_UNREAD_COUNTED) as u64,
        unread_more: unread > MAX_UNREAD_COUNTED,
    })
}

/// One announcement of the caller's inbox, whole; another's (or another tenant's) is not found.
pub async fn open(app: &App, p: &Principal, id: &str) -> AppResult<OpenedAnnouncement> {
    let me = customer(p)?;
    let id = parse_announcement_id(id)?;
    let repo = Announcements::new(app, &p.tenant);
    let entry: InboxEntry = from_item(repo.inbox_entry(&me, &id).await?.ok_or(AppError::NotFound("announcement"))?)?;
    let a = repo.get(&id).await?.ok_or(AppError::NotFound("announcement"))?;
    let (media_url, media_url_expires_at) = match &entry.media {
        Some(m) => {
            let (url, expires) = sign_download(app, &p.tenant, &m.media_id, &m.file_name, &m.content_type).await?;
            (Some(url), Some(expires))
        }
        None => (None, None),
    };
    Ok(OpenedAnnouncement { entry, body: a.body, media_url, media_url_expires_at })
}

/// Marks an announcement read: counted once however often it is repeated.
pub async fn mark_read(app: &App, p: &Principal, id: &str) -> AppResult<InboxEntry> {
    let me = customer(p)?;
    let id = parse_announcement_id(id)?;
    let repo = Announcements::new(app, &p.tenant);
    let entry: InboxEntry = from_item(repo.inbox_entry(&me, &id).await?.ok_or(AppError::NotFound("announcement"))?)?;
    if entry.read_at.is_some() {
        return Ok(entry);
    }
    let at = now_rfc3339();
    let event = EventEnvelope::new(
        types::ANNOUNCEMENT_READ,
        &p.tenant,
        format!("{id}:read:{me}"),
        json!({ "announcement_id": id, "customer_id": me, "read_at": at }),
    );
    match app.transact_with_event(repo.read_ops(&me, &id, &at), event).await {
        Ok(Some(event)) => app.publish(event).await,
        Ok(None) => {}
        // Read meanwhile (another tab): the entry as it is now.
        Err(StoreError::TransactionCancelled { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(from_item(repo.inbox_entry(&me, &id).await?.ok_or(AppError::NotFound("announcement"))?)?)
}
