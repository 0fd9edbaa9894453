//! Customer groups: agents create, rename and fill them (in bulk too); only admins delete them.
//! Customers never see groups. Every change publishes `group.updated`.

pub mod store;

use serde_json::json;

use super::paging::{decode_cursor, read_page, PageOf};
use super::{from_item, App};
use crate::domain::group::{CustomerGroup, Group, GroupMember, GroupPatch, MemberList, MembersChanged, NewGroup};
use crate::domain::{now_rfc3339, CustomerId, GroupId, Principal};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::ports::table::{Query, Update};
use store::Groups;

/// How many unknown customer ids a refusal names.
const NAMED_UNKNOWN: usize = 10;

async fn updated(app: &App, p: &Principal, group_id: &str, change: &str, detail: serde_json::Value) {
    let mut data = json!({ "group_id": group_id, "change": change });
    if let (Some(data), Some(detail)) = (data.as_object_mut(), detail.as_object()) {
        data.extend(detail.clone());
    }
    let id = format!("{group_id}:{change}:{}", ulid::Ulid::new());
    app.publish(EventEnvelope::new(types::GROUP_UPDATED, &p.tenant, id, data)).await;
}

pub async fn create(app: &App, p: &Principal, input: NewGroup) -> AppResult<Group> {
    p.require_staff()?;
    let input = input.validate()?;
    let now = now_rfc3339();
    let group = Group {
        id: GroupId::generate().to_string(),
        name: input.name,
        description: input.description,
        created_at: now.clone(),
        updated_at: now,
    };
    Groups::new(app, &p.tenant).create(&group).await?;
    updated(app, p, &group.id, "created", json!({ "group": group })).await;
    Ok(group)
}

async fn existing(app: &App, p: &Principal, id: &str) -> AppResult<(GroupId, Group)> {
    p.require_staff()?;
    let id = GroupId::parse(id)?;
    let group = Groups::new(app, &p.tenant).get(&id).await?.ok_or(AppError::NotFound("group"))?;
    Ok((id, group))
}

pub async fn get(app: &App, p: &Principal, id: &str) -> AppResult<Group> {
    Ok(existing(app, p, id).await?.1)
}

pub async fn list(app: &App, p: &Principal, limit: usize, cursor: Option<&str>) -> AppResult<PageOf<Group>> {
    p.require_staff()?;
    page(app, Groups::new(app, &p.tenant).list_query(), limit, cursor).await
}

async fn page<T: serde::de::DeserializeOwned>(app: &App, mut query: Query, limit: usize, cursor: Option<&str>) -> AppResult<PageOf<T>> {
    if let Some(c) = cursor {
        query.start_after = Some(decode_cursor(c, &query)?);
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, limit).await?;
    Ok(PageOf { items: items.into_iter().map(from_item).collect::<AppResult<_>>()?, next_cursor })
}

pub async fn update(app: &App, p: &Principal, id: &str, patch: GroupPatch) -> AppResult<Group> {
    p.require_staff()?;
    let id = GroupId::parse(id)?;
    let patch = patch.validate()?;
    if patch.name.is_none() && patch.description.is_none() {
        // Nothing to change: the group as it is.
        return Groups::new(app, &p.tenant).get(&id).await?.ok_or(AppError::NotFound("group"));
    }
    let mut update = Update::default().set("updated_at", now_rfc3339());
    if let Some(name) = patch.name {
        update = update.set("name", name);
    }
    match patch.description {
        Some(Some(d)) => update = update.set("description", d),
        Some(None) => update = update.remove("description"),
        None => {}
    }
    let group = Groups::new(app, &p.tenant).update(&id, update).await?.ok_or(AppError::NotFound("group"))?;
    updated(app, p, &group.id, "updated", json!({ "group": group })).await;
    Ok(group)
}

pub async fn delete(app: &App, p: &Principal, id: &str) -> AppResult<()> {
    p.require_staff()?;
    let id = GroupId::parse(id)?;
    p.require_admin()?;
    if !Groups::new(app, &p.tenant).delete(&id).await? {
        return Err(AppError::NotFound("group"));
    }
    updated(app, p, id.as_str(), "deleted", json!({})).await;
    Ok(())
}

/// Adds customers to a group. Every id must name a customer of the tenant, or nothing is stored.
pub async fn add_members(app: &App, p: &Principal, id: &str, input: MemberList) -> AppResult<MembersChanged> {
    let (gid, group) = existing(app, p, id).await?;
    let ids = input.validate()?;
    let repo = Groups::new(app, &p.tenant);
    let found = repo.lookup(&gid, &ids).await?;
    let unknown: Vec<&str> = ids.iter().zip(&found).filter(|(_, (exists, _))| !exists).map(|(c, _)| c.as_str()).collect();
    if !unknown.is_empty() {
        let named = unknown.iter().take(NAMED_UNKNOWN).copied().collect::<Vec<_>>().join(", ");
        let more = if unknown.len() > NAMED_UNKNOWN { format!(" and {} more", unknown.len() - NAMED_UNKNOWN) } else { String::new() };
        return Err(AppError::UnknownCustomers(format!("no such customers: {named}{more}; nothing was added")));
    }
    let new: Vec<CustomerId> = ids.iter().zip(&found).filter(|(_, (_, member))| !member).map(|(c, _)| c.clone()).collect();
    repo.add_members(&group, &new, &now_rfc3339()).await?;
    let changed = MembersChanged { group_id: group.id.clone(), requested: ids.len(), changed: new.len() };
    if !new.is_empty() {
        updated(app, p, &group.id, "members_added", json!({ "count": new.len() })).await;
    }
    Ok(changed)
}

pub async fn remove_members(app: &App, p: &Principal, id: &str, input: MemberList) -> AppResult<MembersChanged> {
    let (gid, group) = existing(app, p, id).await?;
    let ids = input.validate()?;
    let repo = Groups::new(app, &p.tenant);
    let found = repo.lookup(&gid, &ids).await?;
    let members: Vec<CustomerId> = ids.iter().zip(&found).filter(|(_, (_, member))| *member).map(|(c, _)| c.clone()).collect();
    repo.remove_members(&gid, &members).await?;
    if !members.is_empty() {
        updated(app, p, &group.id, "members_removed", json!({ "count": members.len() })).await;
    }
    Ok(MembersChanged { group_id: group.id, requested: ids.len(), changed: members.len() })
}

pub async fn members(app: &App, p: &Principal, id: &str, limit: usize, cursor: Option<&str>) -> AppResult<PageOf<GroupMember>> {
    let (gid, _) = existing(app, p, id).await?;
    page(app, Groups::new(app, &p.tenant).members_query(&gid), limit, cursor).await
}

/// The groups a customer belongs to, with their current names (a group deleted meanwhile is left out).
pub async fn of_customer(
    app: &App,
    p: &Principal,
    customer: &CustomerId,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<PageOf<CustomerGroup>> {
    p.require_staff()?;
    if app.table.get(&crate::keys::customer(&p.tenant, customer)).await?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let repo = Groups::new(app, &p.tenant);
    let page: PageOf<CustomerGroup> = page(app, repo.customer_groups_query(customer), limit, cursor).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for mut entry in page.items {
        if let Some(group) = repo.get(&GroupId::parse(&entry.group_id)?).await? {
            entry.name = group.name;
            items.push(entry);
        }
    }
    Ok(PageOf { items, next_cursor: page.next_cursor })
}
