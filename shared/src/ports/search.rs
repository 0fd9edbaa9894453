//! The search index: OpenSearch in the cloud, tantivy in the local data directory. Fed by the
//! change stream, never by the request path; queried through one API, always within a scope.

use async_trait::async_trait;

use crate::domain::search::{SearchDoc, SearchRequest, SearchResults, SearchScope};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    #[error("no search index here")]
    NotAvailable,
    #[error("search index: {0}")]
    Backend(String),
}

#[async_trait]
pub trait SearchIndex: Send + Sync + 'static {
    /// Adds or replaces documents (by tenant and id); visible to searches once it returns.
    async fn upsert(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError>;
    /// Removes documents by id; unknown ids are not an error.
    async fn delete(&self, tenant: &str, ids: Vec<String>) -> Result<(), SearchError>;
    /// The page of `request` within `scope`: only the scope's tenant, only what its reader may read.
    async fn search(&self, scope: &SearchScope, request: &SearchRequest) -> Result<SearchResults, SearchError>;
}

pub struct NoSearch;

#[async_trait]
impl SearchIndex for NoSearch {
    async fn upsert(&self, _: Vec<SearchDoc>) -> Result<(), SearchError> {
        Err(SearchError::NotAvailable)
    }
    async fn delete(&self, _: &str, _: Vec<String>) -> Result<(), SearchError> {
        Err(SearchError::NotAvailable)
    }
    async fn search(&self, _: &SearchScope, _: &SearchRequest) -> Result<SearchResults, SearchError> {
        Err(SearchError::NotAvailable)
    }
}
