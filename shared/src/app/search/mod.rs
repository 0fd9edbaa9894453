//! Search over a tenant's history: the query API's use case, and the indexer the change feed
//! drives (DynamoDB Streams in the cloud; the store's change log locally).

pub mod documents;

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{settings, App};
use crate::domain::search::{
    QueryText, Reader, SearchHit, SearchKind, SearchRequest, SearchScope, SearchSort, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_DEPTH,
    MAX_SEARCH_LIMIT,
};
use crate::domain::{Principal, Role};
use crate::error::{AppError, AppResult};
use crate::ports::search::SearchError;
use crate::ports::table::{Item, Key};

/// The query string parameters `GET /v1/search` takes.
pub const PARAMETERS: &[&str] = &["q", "kind", "customer_id", "session_id", "speaker", "language", "from", "to", "sort", "limit", "cursor"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Matches in all (up to the kinds asked for).
    pub total: u64,
    /// Matches per kind, whatever kinds were asked for.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub facets: BTreeMap<SearchKind, u64>,
}

/// A position in the results of the query it is sent with.
#[derive(Serialize, Deserialize)]
struct Cursor {
    o: usize,
}

/// Longest value of a filter (`customer_id`, `session_id`, `speaker`, `language`).
pub const MAX_FILTER_CHARS: usize = 200;

fn epoch_ms(name: &str, value: &str) -> AppResult<i64> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| AppError::validation(format!("{name} must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")))
}

/// Reads the query string: every parameter known, each value well formed.
pub fn request_of(params: &BTreeMap<String, String>) -> AppResult<SearchRequest> {
    if let Some(unknown) = params.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        return Err(AppError::validation(format!("unknown parameter {unknown}: search takes {}", PARAMETERS.join(", "))));
    }
    // Filters may be empty (no filter); the other parameters, when given, must say something.
    let get = |k: &str| params.get(k).map(String::as_str);
    let text = QueryText::parse(params.get("q").map(String::as_str).unwrap_or_default())?;
    let kinds = match get("kind") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                SearchKind::parse(k.trim())
                    .ok_or_else(|| AppError::validation(format!("unknown kind {k}: message, file, transcript, announcement or customer")))
            })
            .collect::<AppResult<Vec<_>>>()?,
    };
    let sort = match get("sort") {
        None | Some("relevance") => SearchSort::Relevance,
        Some("date") => SearchSort::Date,
        Some(other) => return Err(AppError::validation(format!("sort {other}: relevance or date"))),
    };
    let limit = match get("limit") {
        None => DEFAULT_SEARCH_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=MAX_SEARCH_LIMIT).contains(&n) && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(AppError::validation(format!("limit must be a whole number from 1 to {MAX_SEARCH_LIMIT}"))),
        },
    };
    let offset = match get("cursor") {
        None => 0,
        Some(c) => {
            let bad = || AppError::validation("cursor is not one this search returned");
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
            let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
            if cursor.o > MAX_SEARCH_DEPTH {
                return Err(bad());
            }
            cursor.o
        }
    };
    let filter = |k: &str| -> AppResult<Option<String>> {
        match get(k) {
            Some(v) if v.chars().count() > MAX_FILTER_CHARS || v.chars().any(char::is_control) => {
                Err(AppError::validation(format!("{k} is longer than {MAX_FILTER_CHARS} characters or holds control characters")))
            }
            v => Ok(v.filter(|v| !v.is_empty()).map(str::to_string)),
        }
    };
    // A range that ends before it starts finds nothing.
    let (from_ms, to_ms) = (get("from").map(|v| epoch_ms("from", v)).transpose()?, get("to").map(|v| epoch_ms("to", v)).transpose()?);
    Ok(SearchRequest {
        text,
        kinds,
        customer_id: filter("customer_id")?,
        session_id: filter("session_id")?,
        speaker: filter("speaker")?,
        language: filter("language")?,
        from_ms,
        to_ms,
        sort,
        limit,
        offset,
    })
}

/// One page of results within the caller's scope: the tenant of their token; for a customer,
/// only what is theirs (and transcripts only where the tenant shares recordings with customers).
pub async fn search(app: &App, p: &Principal, params: &BTreeMap<String, String>) -> AppResult<SearchPage> {
    let mut request = request_of(params)?;
    let reader = match p.role {
        Role::Customer => Reader::Customer(p.id.clone()),
        _ => Reader::Staff,
    };
    if p.role == Role::Customer && !settings::load(app, &p.tenant).await?.recordings.customer_access {
        let allowed: Vec<SearchKind> = SearchKind::ALL.into_iter().filter(|k| *k != SearchKind::Transcript).collect();
        request.kinds =
            if request.kinds.is_empty() { allowed } else { request.kinds.into_iter().filter(|k| allowed.contains(k)).collect() };
        if request.kinds.is_empty() {
            return Ok(SearchPage { items: Vec::new(), next_cursor: None, total: 0, facets: BTreeMap::new() });
        }
    }
    let scope = SearchScope { tenant: p.tenant.to_string(), reader };
    let mut found = app.search.search(&scope, &request).await.map_err(|e| match e {
        SearchError::NotAvailable => AppError::NotAvailable("search"),
        SearchError::Backend(m) => AppError::internal(m),
    })?;
    if p.role == Role::Customer {
        found.facets.retain(|k, _| request.kinds.is_empty() || request.kinds.contains(k));
    }
    let next = request.offset + found.hits.len();
    let next_cursor = (found.hits.len() == request.limit && (next as u64) < found.total && next <= MAX_SEARCH_DEPTH).then(|| {
        let cursor = serde_json::to_vec(&Cursor { o: next }).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cursor)
    });
    Ok(SearchPage { items: found.hits, next_cursor, total: found.total, facets: found.facets })
}

/// Item reads an indexing batch keeps in flight.
const READS_IN_FLIGHT: usize = 32;

/// Brings the index up to date with the items under `keys`, read as they are now (so changes
/// delivered twice or out of order leave the index as the table is). Keys of items the index
/// holds nothing of are passed over.
pub async fn index_keys(app: &App, keys: Vec<Key>) -> AppResult<usize> {
    let mut seen = std::collections::BTreeSet::new();
    let keys: Vec<Key> =
        keys.into_iter().filter(|k| crate::keys::search_source(k).is_some() && seen.insert((k.pk.clone(), k.sk.clone()))).collect();
    // The items as they are now, read side by side.
    let mut items: Vec<Option<Item>> = Vec::with_capacity(keys.len());
    for part in keys.chunks(READS_IN_FLIGHT) {
        for item in futures::future::join_all(part.iter().map(|k| app.table.get(k))).await {
            items.push(item?);
        }
    }
    let mut changes = Vec::new();
    let mut lookups = documents::Lookups::default();
    for (key, item) in keys.iter().zip(items) {
        if let Some(change) = documents::source_docs(app, key, item.as_ref(), &mut lookups).await? {
            changes.push(change);
        }
    }
    let n = changes.len();
    app.search.apply(changes).await.map_err(|e| AppError::internal(format!("search index: {e}")))?;
    Ok(n)
}
