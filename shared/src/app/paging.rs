//! Opaque page cursors and page-size rules shared by every list endpoint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::domain::limits::{DEFAULT_PAGE, MAX_PAGE};
use crate::error::AppError;
use crate::ports::table::{Item, Query, Table, PK};

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to read the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::http::openapi::Cursor>)]
    pub next_cursor: Option<String>,
}

pub fn page_size(requested: Option<&str>) -> Result<usize, AppError> {
    match requested {
        None => Ok(DEFAULT_PAGE),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(AppError::validation(format!("limit must be a whole number from 1 to {MAX_PAGE}"))),
        },
    }
}

pub fn encode_cursor(key: &Item) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor and checks it belongs to the partition being read, so a cursor can never
/// move a query to another partition (or tenant).
pub fn decode_cursor(cursor: &str, query: &Query) -> Result<Item, AppError> {
    let bad = || AppError::validation("cursor is not valid for this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let item: Item = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let pk_attr = query.index.map(|i| i.pk_attr).unwrap_or(PK);
    if item.get(pk_attr).and_then(|v| v.as_str()) != Some(query.pk.as_str()) {
        return Err(bad());
    }
    if item.values().any(|v| !v.is_string()) || item.len() > 4 {
        return Err(bad());
    }
    Ok(item)
}

/// Reads one page of at most `limit` items, with a cursor when more follow.
pub async fn read_page(table: &dyn Table, mut query: Query, limit: usize) -> Result<(Vec<Item>, Option<String>), AppError> {
    query.limit = Some(limit + 1);
    let key_attrs: Vec<&str> = match query.index {
        Some(ix) => vec![PK, crate::ports::table::SK, ix.pk_attr, ix.sk_attr],
        None => vec![PK, crate::ports::table::SK],
    };
    let page = table.query(query).await?;
    let mut items = page.items;
    let cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| {
            let key: Item = key_attrs.iter().filter_map(|a| last.get(*a).map(|v| ((*a).to_string(), v.clone()))).collect();
            encode_cursor(&key)
        })
    } else {
        // The backend stopped early (DynamoDB's 1 MB page): resume where it stopped.
        page.last_key.as_ref().map(encode_cursor)
    };
    Ok((items, cursor))
}
