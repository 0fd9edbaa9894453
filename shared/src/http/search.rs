//! The search API (docs/search.md).

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda_http::{Body, Request, RequestExt, Response};

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
        ("q" = String, Query, description = "Words to find (the last one also as the start of a word), and \"quoted phrases\"; 1 to 256 characters, quotes balanced"),
        ("kind" = Option<String>, Query, description = "Comma-separated kinds: message, file, transcript, announcement, customer", pattern = "^(message|file|transcript|announcement|customer)(,(message|file|transcript|announcement|customer))*$"),
        ("customer_id" = Option<String>, Query, max_length = 64),
        ("session_id" = Option<String>, Query, max_length = 64),
        ("speaker" = Option<String>, Query, max_length = 200, description = "A transcript turn's speaker, as named"),
        ("language" = Option<String>, Query, max_length = 35, description = "A language tag (`es` also finds `es-ES`)"),
        ("from" = Option<String>, Query, format = DateTime, description = "From this time (inclusive)"),
        ("to" = Option<String>, Query, format = DateTime, description = "Before this time"),
        ("sort" = Option<String>, Query, pattern = "^(relevance|date)$", description = "relevance (default) or date, newest first"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page of the same query")),
    responses(
        (status = 200, body = SearchPage, description = "Hits with their snippets and links, the total, and counts per kind"),
        (status = 400, body = ErrorBody, description = "An empty or too long query, unbalanced quotes, an unknown parameter or kind, a bad time, limit or cursor"),
        (status = 501, body = ErrorBody, description = "No search index in this deployment")),
    security(("bearer" = [])))]
pub async fn search(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { search::search(&app, &principal(&req)?, &parameters(&req)?).await }).await
}
