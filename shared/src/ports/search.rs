//! The search index: OpenSearch in the cloud, tantivy in the local data directory. Fed by the
//! change stream, never by the request path; queried through one API, always within a scope.

use async_trait::async_trait;

use crate::domain::search::{SearchRequest, SearchResults, SearchScope, SourceDocs};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    #[error("no search index here")]
    NotAvailable,
    #[error("search index: {0}")]
    Backend(String),
}

#[async_trait]
pub trait SearchIndex: Send + Sync + 'static {
    /// Replaces each source's documents with the ones given (none: removes them); visible to
    /// searches once it returns. Applying the same change twice leaves the same index.
    async fn apply(&self, changes: Vec<SourceDocs>) -> Result<(), SearchError>;
    /// The page of `request` within `scope`: only the scope's tenant, only what its reader may read.
    async fn search(&self, scope: &SearchScope, request: &SearchRequest) -> Result<SearchResults, SearchError>;
}

pub struct NoSearch;

#[async_trait]
impl SearchIndex for NoSearch {
    async fn apply(&self, _: Vec<SourceDocs>) -> Result<(), SearchError> {
        Err(SearchError::NotAvailable)
    }
    async fn search(&self, _: &SearchScope, _: &SearchRequest) -> Result<SearchResults, SearchError> {
        Err(SearchError::NotAvailable)
    }
}
