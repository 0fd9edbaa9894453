//! Announcements: agents write one to customers and groups, send it now or schedule it, cancel
//! a scheduled one and watch its counts; customers read theirs in their inbox
//! (docs/announcements.md).

pub mod fanout;
pub mod inbox;
pub mod media;
pub mod store;

use serde::Serialize;

use super::groups::store::Groups;
use super::paging::{decode_cursor, read_page, PageOf};
use super::{from_item, App};
use crate::domain::announcement::{
    new_announcement_id, parse_announcement_id, Announcement, AnnouncementStatus, Audience, CheckedAudience, MediaStatus, NewAnnouncement,
};
use crate::domain::{format_rfc3339, now_rfc3339, GroupId, Principal, TenantId};
use crate::error::{AppError, AppResult};
use crate::ports::queue::MIN_SCHEDULE_LEAD_SECONDS;
use crate::ports::table::Update;
use fanout::FanoutMessage;
use store::Announcements;

/// How many unknown ids a refusal names.
const NAMED_UNKNOWN: usize = 10;

/// The answer to an audience preview: who an announcement would reach if sent now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AudiencePreview {
    /// Distinct customers: each counted once, however many times the audience names them.
    pub recipients: u64,
    /// Customers named one by one.
    pub customers: u64,
    /// Members of each group, in the order given.
    pub groups: Vec<GroupSize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupSize {
    #[schema(value_type = GroupId)]
    pub group_id: String,
    pub name: String,
    pub members: u64,
}

/// Every customer and group of the audience must exist in the caller's tenant; the groups are
/// answered.
async fn check_audience(app: &App, tenant: &TenantId, audience: &CheckedAudience) -> AppResult<Vec<crate::domain::group::Group>> {
    let groups_repo = Groups::new(app, tenant);
    let mut groups = Vec::with_capacity(audience.groups.len());
    let mut missing_groups = Vec::new();
    for g in &audience.groups {
        match groups_repo.get(g).await? {
            Some(group) => groups.push(group),
            None => missing_groups.push(g.to_string()),
        }
    }
    if !missing_groups.is_empty() {
        let named = missing_groups.iter().take(NAMED_UNKNOWN).cloned().collect::<Vec<_>>().join(", ");
        return Err(AppError::UnknownGroups(format!("no such groups: {named}; nothing was stored")));
    }
    let unknown = super::customers::missing(app, tenant, &audience.customers).await?;
    if !unknown.is_empty() {
        let named = unknown.iter().take(NAMED_UNKNOWN).map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
        let more = if unknown.len() > NAMED_UNKNOWN { format!(" and {} more", unknown.len() - NAMED_UNKNOWN) } else { String::new() };
        return Err(AppError::UnknownCustomers(format!("no such customers: {named}{more}; nothing was stored")));
    }
    Ok(groups)
}

/// Writes an announcement and sends it now (through the queue) or sets its schedule. Nothing is
/// stored when the request is refused, or when the queue or the scheduler cannot take it.
pub async fn create(app: &App, p: &Principal, input: NewAnnouncement) -> AppResult<Announcement> {
    p.require_staff()?;
    let now = time::OffsetDateTime::now_utc();
    let checked = input.check(now)?;
    check_audience(app, &p.tenant, &checked.audience).await?;
    let repo = Announcements::new(app, &p.tenant);
    let media = match &checked.media_id {
        None => None,
        Some(id) => {
            let m = repo.media(id).await?.ok_or(AppError::NotFound("media"))?;
            match m.status {
                MediaStatus::Ready => m.summary(),
                MediaStatus::Pending => {
                    return Err(AppError::Conflict("the media is not verified yet: send when its status is ready".into()))
                }
                MediaStatus::Rejected => {
                    let why = m.rejection.map(|r| r.message).unwrap_or_default();
                    return Err(AppError::validation(format!("the media was refused ({why}); upload another file")));
                }
            }
        }
    };
    let send_at = checked.send_at.filter(|at| *at > now);
    let announcement = Announcement {
        id: new_announcement_id(),
        title: checked.title,
        body: checked.body,
        media,
        audience: Audience {
            customer_ids: checked.audience.customers.iter().map(|c| c.to_string()).collect(),
            group_ids: checked.audience.groups.iter().map(|g| g.to_string()).collect(),
        },
        status: AnnouncementStatus::Scheduled,
        send_at: send_at.map(format_rfc3339).unwrap_or_else(now_rfc3339),
        created_by: p.id.clone(),
        created_at: now_rfc3339(),
        published_at: None,
        sent_at: None,
        cancelled_at: None,
        targeted: 0,
        delivered: 0,
        delivered_live: 0,
        read: 0,
        chunks: 0,
        chunks_done: 0,
    };
    repo.create(&announcement).await?;
    let message = FanoutMessage::Publish { tenant: p.tenant.to_string(), announcement_id: announcement.id.clone() }.to_queue();
    // A time within the scheduler's precision goes to the queue delayed until then.
    let queued = match send_at {
        Some(at) if (at - now).whole_seconds() >= MIN_SCHEDULE_LEAD_SECONDS => app.scheduler.schedule(&announcement.id, at, message).await,
        Some(at) => {
            let delay = (at - time::OffsetDateTime::now_utc()).whole_seconds().max(0) as u32;
            app.queue.send(vec![message.delayed(delay)]).await
        }
        None => app.queue.send(vec![message]).await,
    };
    if let Err(e) = queued {
        tracing::error!(error = %e, announcement_id = %announcement.id, "announcement not queued; removed");
        repo.remove(&announcement.id).await?;
        return Err(match e {
            crate::ports::queue::QueueError::NotAvailable => AppError::NotAvailable("the announcement queue"),
            other => AppError::internal(other),
        });
    }
    Ok(announcement)
}

pub async fn get(app: &App, p: &Principal, id: &str) -> AppResult<Announcement> {
    p.require_staff()?;
    let id = parse_announcement_id(id)?;
    Announcements::new(app, &p.tenant).get(&id).await?.ok_or(AppError::NotFound("announcement"))
}

/// The tenant's announcements, newest first.
pub async fn list(app: &App, p: &Principal, limit: usize, cursor: Option<&str>) -> AppResult<PageOf<Announcement>> {
    p.require_staff()?;
    let mut query = Announcements::new(app, &p.tenant).list_query();
    if let Some(c) = cursor {
        query.start_after = Some(decode_cursor(c, &query)?);
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, limit).await?;
    Ok(PageOf { items: items.into_iter().map(from_item).collect::<AppResult<_>>()?, next_cursor })
}

/// Cancels a scheduled announcement; one already sending or sent cannot be.
pub async fn cancel(app: &App, p: &Principal, id: &str) -> AppResult<Announcement> {
    p.require_staff()?;
    let id = parse_announcement_id(id)?;
    let repo = Announcements::new(app, &p.tenant);
    let current = repo.get(&id).await?.ok_or(AppError::NotFound("announcement"))?;
    if current.status == AnnouncementStatus::Cancelled {
        return Ok(current);
    }
    let update = Update::default().set("status", AnnouncementStatus::Cancelled.as_str()).set("cancelled_at", now_rfc3339());
    let Some(cancelled) = repo.transition(&id, AnnouncementStatus::Scheduled, update).await? else {
        return Err(AppError::Conflict("the announcement is already being sent or was sent".into()));
    };
    // The schedule may still fire (it is removed best effort): the status keeps it from sending.
    if let Err(e) = app.scheduler.cancel(&id).await {
        tracing::warn!(error = %e, announcement_id = %id, "schedule not removed; it will find the announcement cancelled");
    }
    Ok(cancelled)
}

/// Who an audience reaches now, de-duplicated (what the composer shows before sending).
pub async fn preview(app: &App, p: &Principal, audience: Audience) -> AppResult<AudiencePreview> {
    p.require_staff()?;
    let checked = audience.check()?;
    let groups = check_audience(app, &p.tenant, &checked).await?;
    let repo = Groups::new(app, &p.tenant);
    let mut sizes = Vec::with_capacity(groups.len());
    for g in &groups {
        let members = repo.all_members(&GroupId::parse(&g.id)?).await?;
        sizes.push(GroupSize { group_id: g.id.clone(), name: g.name.clone(), members: members.len() as u64 });
    }
    let recipients = fanout::expand(app, &p.tenant, &audience.customer_ids, &audience.group_ids).await?;
    Ok(AudiencePreview { recipients: recipients.len() as u64, customers: checked.customers.len() as u64, groups: sizes })
}
