//! Item rules the embedded tables apply as DynamoDB does server-side: conditions and updates.

use serde_json::Value;

use crate::ports::table::*;

pub(crate) fn str_attr<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr).and_then(Value::as_str)
}

pub(crate) fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = char::from_u32(last as u32 + 1)?;
    chars.push(next);
    Some(chars.into_iter().collect())
}

pub(crate) fn condition_holds(current: Option<&Item>, condition: &Condition) -> bool {
    match condition {
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::Equals(attr, value) => current.and_then(|i| i.get(attr)) == Some(value),
        Condition::AbsentOrLessThan(attr, value) => match (current.and_then(|i| i.get(attr)), value) {
            (None, _) => true,
            (Some(Value::String(stored)), Value::String(bound)) => stored < bound,
            (Some(Value::Number(stored)), Value::Number(bound)) => match (stored.as_i64(), bound.as_i64()) {
                (Some(a), Some(b)) => a < b,
                _ => stored.as_f64().zip(bound.as_f64()).is_some_and(|(a, b)| a < b),
            },
            _ => false,
        },
    }
}

pub(crate) fn apply_update(current: Option<Item>, key: &Key, update: &Update) -> Result<Item, StoreError> {
    let mut item = current.unwrap_or_default();
    item.insert(PK.into(), key.pk.clone().into());
    item.insert(SK.into(), key.sk.clone().into());
    for (k, v) in &update.set {
        if k == PK || k == SK {
            return Err(StoreError::Invalid("an update cannot change the key".into()));
        }
        item.insert(k.clone(), v.clone());
    }
    for k in &update.remove {
        item.remove(k);
    }
    for (k, by) in &update.add {
        let now = match item.get(k) {
            None => 0,
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| StoreError::Invalid(format!("{k} is not an integer")))?,
            Some(_) => return Err(StoreError::Invalid(format!("{k} is not a number"))),
        };
        item.insert(k.clone(), (now + by).into());
    }
    check_item(&item)?;
    Ok(item)
}

/// Whether a sort key satisfies a query's sort-key condition.
pub(crate) fn sort_matches(sk: &str, sort: &Option<SortKey>) -> bool {
    match sort {
        None => true,
        Some(SortKey::Eq(v)) => sk == v,
        Some(SortKey::BeginsWith(p)) => sk.starts_with(p.as_str()),
        Some(SortKey::Between(lo, hi)) => sk >= lo.as_str() && sk <= hi.as_str(),
        Some(SortKey::Lt(v)) => sk < v.as_str(),
        Some(SortKey::Le(v)) => sk <= v.as_str(),
        Some(SortKey::Gt(v)) => sk > v.as_str(),
        Some(SortKey::Ge(v)) => sk >= v.as_str(),
    }
}

/// A query's page: at most `limit` items, shaped by the query's attributes, and the key to
/// resume after the last one when more matched (`items` holds up to one more than the limit,
/// to tell). Takes the items owned or borrowed, so that a borrowed item is copied only as far
/// as the query asks.
pub(crate) fn into_page<I: Shaped>(mut items: Vec<I>, q: &Query) -> Page {
    let mut last_key = None;
    if let Some(limit) = q.limit {
        if items.len() > limit {
            items.truncate(limit);
            let last = items.last().expect("limit is positive").item();
            let mut attrs = vec![PK, SK];
            if let Some(ix) = q.index {
                attrs.extend([ix.pk_attr, ix.sk_attr]);
            }
            last_key = Some(attrs.into_iter().filter_map(|a| last.get(a).map(|v| (a.to_string(), v.clone()))).collect());
        }
    }
    Page { items: items.into_iter().map(|item| item.shaped(q)).collect(), last_key }
}

/// Cuts a page of whole items down to the attributes asked for.
pub(crate) fn shape_page(page: Page, attributes: Option<Vec<String>>) -> Page {
    if attributes.is_none() {
        return page;
    }
    let q = Query { attributes, ..Query::default() };
    Page { items: page.items.iter().map(|item| q.shape(item)).collect(), last_key: page.last_key }
}

/// An item a query returns, owned (moved out whole when no attributes are asked for) or
/// borrowed from a table (copied only as far as asked).
pub(crate) trait Shaped {
    fn item(&self) -> &Item;
    fn shaped(self, q: &Query) -> Item;
}

impl Shaped for Item {
    fn item(&self) -> &Item {
        self
    }
    fn shaped(self, q: &Query) -> Item {
        if q.attributes.is_none() {
            self
        } else {
            q.shape(&self)
        }
    }
}

impl Shaped for &Item {
    fn item(&self) -> &Item {
        self
    }
    fn shaped(self, q: &Query) -> Item {
        q.shape(self)
    }
}
