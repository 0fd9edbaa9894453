//! Customers: create, read, list, update.

use serde_json::json;

use super::paging::{decode_cursor, encode_cursor, read_page, PageOf};
use super::{from_item, to_item, App};
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::limits::MAX_NAME_CHARS;
use crate::domain::{now_rfc3339, CustomerId, Principal, Role};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::ports::table::{Condition, Query, Update, GSI1};

/// A customer may read only their own profile; staff read every customer of their tenant.
pub fn require_customer_access(p: &Principal, customer: &CustomerId) -> AppResult<()> {
    match p.role {
        Role::Admin | Role::Agent => Ok(()),
        Role::Customer if p.id == customer.as_str() => Ok(()),
        // Same answer as for a customer that does not exist: existence is not revealed.
        Role::Customer => Err(AppError::NotFound("customer")),
    }
}

pub async fn create(app: &App, p: &Principal, input: NewCustomer) -> AppResult<Customer> {
    p.require_staff()?;
    let input = input.validate()?;
    let id = CustomerId::generate();
    let now = now_rfc3339();
    let customer = Customer {
        id: id.to_string(),
        name: input.name,
        email: input.email,
        phone: input.phone,
        external_ref: input.external_ref,
        attributes: input.attributes,
        created_at: now.clone(),
        updated_at: now,
    };
    let key = keys::customer(&p.tenant, &id);
    let item = to_item(
        &customer,
        &key,
        &[("gsi1pk", keys::customers_index(&p.tenant).into()), ("gsi1sk", id.to_string().into()), ("entity", "customer".into())],
    )?;
    app.table.put(item, Some(Condition::NotExists)).await?;
    app.publish(EventEnvelope::new(
        types::CUSTOMER_CREATED,
        &p.tenant,
        format!("{}:created", customer.id),
        json!({ "customer": customer }),
    ))
    .await;
    Ok(customer)
}

pub async fn get(app: &App, p: &Principal, id: &CustomerId) -> AppResult<Customer> {
    require_customer_access(p, id)?;
    let item = app.table.get(&keys::customer(&p.tenant, id)).await?.ok_or(AppError::NotFound("customer"))?;
    from_item(item)
}

pub async fn list(app: &App, p: &Principal, limit: usize, cursor: Option<&str>, search: Option<&str>) -> AppResult<PageOf<Customer>> {
    p.require_staff()?;
    let mut query = Query::on_index(GSI1, keys::customers_index(&p.tenant));
    if let Some(c) = cursor {
        query.start_after = Some(decode_cursor(c, &query)?);
    }
    let Some(search) = search else {
        let (items, next_cursor) = read_page(app.table.as_ref(), query, limit).await?;
        return Ok(PageOf { items: items.into_iter().map(from_item).collect::<AppResult<_>>()?, next_cursor });
    };
    let needle = search.trim().to_lowercase();
    if needle.is_empty() || search.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::validation(format!("q must be 1 to {MAX_NAME_CHARS} characters, not blank")));
    }
    // Reads the tenant's customers in order, keeping those whose name or email contains the text,
    // until the page is full or SEARCH_SCAN customers were read; the cursor resumes from the last
    // one read. (The search index of everything arrives with the search capability.)
    let mut found = Vec::new();
    let mut scanned = 0;
    loop {
        let page = app.table.query(query.clone().limit(100)).await?;
        let mut last = None;
        for item in page.items {
            scanned += 1;
            last = Some(key_of_index_item(&item));
            let customer: Customer = from_item(item)?;
            let hit = customer.name.to_lowercase().contains(&needle)
                || customer.email.as_deref().is_some_and(|e| e.to_lowercase().contains(&needle));
            if hit {
                found.push(customer);
            }
            if found.len() == limit || scanned >= SEARCH_SCAN {
                break;
            }
        }
        let exhausted = page.last_key.is_none() && last.is_none();
        match (found.len() == limit || scanned >= SEARCH_SCAN, page.last_key) {
            (true, _) => return Ok(PageOf { items: found, next_cursor: last.map(|k| encode_cursor(&k)) }),
            (false, Some(k)) if !exhausted => query.start_after = Some(k),
            _ => return Ok(PageOf { items: found, next_cursor: None }),
        }
    }
}

/// Most customers one search request reads before answering with a cursor.
pub const SEARCH_SCAN: usize = 1_000;

fn key_of_index_item(item: &crate::ports::table::Item) -> crate::ports::table::Item {
    ["pk", "sk", GSI1.pk_attr, GSI1.sk_attr].iter().filter_map(|a| item.get(*a).map(|v| (a.to_string(), v.clone()))).collect()
}

pub async fn update(app: &App, p: &Principal, id: &CustomerId, patch: CustomerPatch) -> AppResult<Customer> {
    p.require_staff()?;
    let patch = patch.validate()?;
    let mut update = Update::default().set("updated_at", now_rfc3339());
    if let Some(name) = patch.name {
        update = update.set("name", name);
    }
    for (field, value) in [("email", patch.email), ("phone", patch.phone), ("external_ref", patch.external_ref)] {
        match value {
            Some(Some(v)) => update = update.set(field, v),
            Some(None) => update = update.remove(field),
            None => {}
        }
    }
    if let Some(attrs) = patch.attributes {
        update = update.set("attributes", serde_json::to_value(attrs).map_err(AppError::internal)?);
    }
    let key = keys::customer(&p.tenant, id);
    let item = match app.table.update(&key, update, Some(Condition::Exists)).await {
        Ok(item) => item,
        Err(crate::ports::table::StoreError::ConditionFailed) => return Err(AppError::NotFound("customer")),
        Err(e) => return Err(e.into()),
    };
    let customer: Customer = from_item(item)?;
    app.publish(EventEnvelope::new(
        types::CUSTOMER_UPDATED,
        &p.tenant,
        format!("{}:updated:{}", customer.id, customer.updated_at),
        json!({ "customer": customer }),
    ))
    .await;
    Ok(customer)
}

/// Reads a bulk request makes at once when it checks that customers exist.
const EXISTENCE_READS_IN_FLIGHT: usize = 32;

/// The ids of `ids` that name no customer of the tenant, in the order given.
pub async fn missing(app: &App, tenant: &crate::domain::TenantId, ids: &[CustomerId]) -> AppResult<Vec<CustomerId>> {
    use futures::{StreamExt, TryStreamExt};
    let reads: Vec<_> = ids
        .iter()
        .map(|c| {
            let (table, key, id) = (app.table.clone(), keys::customer(tenant, c), c.clone());
            async move { table.get(&key).await.map(|found| (id, found.is_none())) }
        })
        .collect();
    let found: Vec<(CustomerId, bool)> = futures::stream::iter(reads).buffered(EXISTENCE_READS_IN_FLIGHT).try_collect().await?;
    Ok(found.into_iter().filter(|(_, missing)| *missing).map(|(c, _)| c).collect())
}
