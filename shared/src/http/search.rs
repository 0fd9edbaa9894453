//! The search API (docs/search.md).

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};

use super::openapi::{Cursor, FilterText, SearchKinds, SearchLimit, SearchQuery, SearchSortParam};
use super::{principal, respond};
use crate::app::search::{self, SearchPage};
use crate::app::App;
use crate::error::{AppError, ErrorBody};

/// Every query string parameter, each given once.
fn parameters(req: &Request) -> Result<BTreeMap<String, String>, AppError> {
    let mut out = BTreeMap::new();
    if let Some(q) = req.query_string_parameters_ref() {
        for (k, v) in q.iter() {
            if out.insert(k.to_string(), v.to_string()).is_some() {
                return Err(AppError::validation(format!("{k} is given more than once")));
            }
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/v1/search", tag = "search",
    params(
        ("q" = SearchQuery, Query),
        ("kind" = Option<SearchKinds>, Query),
        ("customer_id" = Option<FilterText>, Query),
        ("session_id" = Option<FilterText>, Query),
        ("speaker" = Option<FilterText>, Query),
        ("language" = Option<FilterText>, Query),
        ("from" = Option<String>, Query, format = DateTime, description = "From this time (inclusive)"),
        ("to" = Option<String>, Query, format = DateTime, description = "Before this time (a range that ends before it starts finds nothing)"),
        ("sort" = Option<SearchSortParam>, Query),
        ("limit" = Option<SearchLimit>, Query),
        ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = SearchPage, description = "Hits with their snippets and links, the total, and counts per kind"),
        (status = 400, body = ErrorBody, description = "An empty or too long query, unbalanced quotes, more than 16 words, control characters, an unknown or repeated parameter, an unknown kind, a bad time, sort, limit or cursor"),
        (status = 501, body = ErrorBody, description = "No search index in this deployment")),
    security(("bearer" = [])))]
pub async fn search(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { search::search(&app, &principal(&req)?, &parameters(&req)?).await }).await
}
