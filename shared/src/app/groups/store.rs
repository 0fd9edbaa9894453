//! The groups repository: every stored item of a group (the group, its members, each member's
//! entry on the customer's side) is built here.

use futures::{stream, StreamExt, TryStreamExt};

use crate::app::{from_item, to_item, write_in_batches, App};
use crate::domain::group::{CustomerGroup, Group, GroupMember};
use crate::domain::{CustomerId, GroupId, TenantId};
use crate::error::AppResult;
use crate::keys;
use crate::ports::table::{Condition, Query, SortKey, StoreError, Update, WriteOp, GSI1};

/// Reads a bulk change makes at once (customers and memberships looked up).
const LOOKUPS_IN_FLIGHT: usize = 32;
/// Members read per page when a whole group is walked.
const WALK_PAGE: usize = 500;

pub struct Groups<'a> {
    app: &'a App,
    tenant: &'a TenantId,
}

impl<'a> Groups<'a> {
    pub fn new(app: &'a App, tenant: &'a TenantId) -> Self {
        Groups { app, tenant }
    }

    pub async fn create(&self, group: &Group) -> AppResult<()> {
        let id = GroupId::parse(&group.id)?;
        let item = to_item(
            group,
            &keys::group(self.tenant, &id),
            &[("gsi1pk", keys::groups_index(self.tenant).into()), ("gsi1sk", group.id.clone().into()), ("entity", "group".into())],
        )?;
        self.app.table.put(item, Some(Condition::NotExists)).await?;
        Ok(())
    }

    pub async fn get(&self, id: &GroupId) -> AppResult<Option<Group>> {
        match self.app.table.get(&keys::group(self.tenant, id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Applies `update` to an existing group; `None` when there is no such group.
    pub async fn update(&self, id: &GroupId, update: Update) -> AppResult<Option<Group>> {
        match self.app.table.update(&keys::group(self.tenant, id), update, Some(Condition::Exists)).await {
            Ok(item) => Ok(Some(from_item(item)?)),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The tenant's groups, in id (creation) order.
    pub fn list_query(&self) -> Query {
        Query::on_index(GSI1, keys::groups_index(self.tenant))
    }

    pub fn members_query(&self, id: &GroupId) -> Query {
        Query::partition(keys::group_partition(self.tenant, id)).sort(SortKey::BeginsWith(keys::GROUP_MEMBER_PREFIX.into()))
    }

    pub fn customer_groups_query(&self, customer: &CustomerId) -> Query {
        Query::partition(keys::customer_partition(self.tenant, customer)).sort(SortKey::BeginsWith(keys::CUSTOMER_GROUP_PREFIX.into()))
    }

    /// For each id, in order: whether the customer exists and whether they are a member.
    pub async fn lookup(&self, id: &GroupId, customers: &[CustomerId]) -> AppResult<Vec<(bool, bool)>> {
        let lookups: Vec<_> = customers
            .iter()
            .map(|c| {
                let (table, customer_key, member_key) =
                    (self.app.table.clone(), keys::customer(self.tenant, c), keys::group_member(self.tenant, id, c));
                async move {
                    let (customer, member) = tokio::try_join!(table.get(&customer_key), table.get(&member_key))?;
                    Ok::<_, StoreError>((customer.is_some(), member.is_some()))
                }
            })
            .collect();
        Ok(stream::iter(lookups).buffered(LOOKUPS_IN_FLIGHT).try_collect().await?)
    }

    /// Stores the memberships, each as the group's item and the customer's, 25 writes a call.
    pub async fn add_members(&self, group: &Group, customers: &[CustomerId], added_at: &str) -> AppResult<()> {
        let id = GroupId::parse(&group.id)?;
        let mut ops = Vec::with_capacity(customers.len() * 2);
        for c in customers {
            let member = GroupMember { customer_id: c.to_string(), added_at: added_at.to_string() };
            ops.push(WriteOp::Put(to_item(&member, &keys::group_member(self.tenant, &id, c), &[("entity", "group_member".into())])?));
            let edge = CustomerGroup { group_id: group.id.clone(), name: group.name.clone(), added_at: added_at.to_string() };
            ops.push(WriteOp::Put(to_item(&edge, &keys::customer_group(self.tenant, c, &id), &[("entity", "customer_group".into())])?));
        }
        self.write_all(ops).await
    }

    pub async fn remove_members(&self, id: &GroupId, customers: &[CustomerId]) -> AppResult<()> {
        let ops = customers
            .iter()
            .flat_map(|c| {
                [WriteOp::Delete(keys::group_member(self.tenant, id, c)), WriteOp::Delete(keys::customer_group(self.tenant, c, id))]
            })
            .collect();
        self.write_all(ops).await
    }

    /// Every member of a group, read a page at a time.
    pub async fn all_members(&self, id: &GroupId) -> AppResult<Vec<CustomerId>> {
        let mut out = Vec::new();
        let mut query = self.members_query(id).limit(WALK_PAGE);
        loop {
            let page = self.app.table.query(query.clone()).await?;
            for item in page.items {
                let member: GroupMember = from_item(item)?;
                out.push(CustomerId::parse(&member.customer_id)?);
            }
            match page.last_key {
                Some(k) => query.start_after = Some(k),
                None => return Ok(out),
            }
        }
    }

    /// Removes the group first (it is gone for every reader at once), then its memberships.
    pub async fn delete(&self, id: &GroupId) -> AppResult<bool> {
        if self.app.table.delete(&keys::group(self.tenant, id), Some(Condition::Exists)).await.map(|_| true).or_else(|e| match e {
            StoreError::ConditionFailed => Ok(false),
            e => Err(e),
        })? {
            let members = self.all_members(id).await?;
            self.remove_members(id, &members).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Writes in batches of 25, a few batches at a time.
    async fn write_all(&self, ops: Vec<WriteOp>) -> AppResult<()> {
        Ok(write_in_batches(&self.app.table, ops, 4).await?)
    }
}
