//! The search index on an Amazon OpenSearch Service domain, over its REST API with requests
//! signed by the AWS SDK's own SigV4 signer (service `es`). The index's settings and mappings are
//! `index.json` in this folder, applied the first time a process uses an index that is missing.
//! Documents are routed by tenant, so a tenant's search reads one shard.

pub mod documents;
pub mod query;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::domain::search::{SearchRequest, SearchResults, SearchScope, SearchSort, SourceDocs};
use crate::ports::search::{SearchError, SearchIndex};

/// The index's settings and mappings, as created.
pub const INDEX_DEFINITION: &str = include_str!("index.json");
/// The index Confer uses unless told otherwise; a new mapping gets a new name and a reindex.
pub const DEFAULT_INDEX: &str = "confer-search-v1";
/// Largest `_bulk` body sent at once (domains accept 10 MiB on the smallest instances).
pub const MAX_BULK_BYTES: usize = 5 * 1024 * 1024;
/// Sources whose stale documents one `_delete_by_query` removes.
pub const MAX_SOURCES_PER_DELETE: usize = 500;
/// Tries of a request OpenSearch answers 429 or 502–504 to, or that cannot connect.
pub const ATTEMPTS: u32 = 3;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct OpenSearch {
    endpoint: url::Url,
    index: String,
    region: String,
    credentials: SharedCredentialsProvider,
    http: reqwest::Client,
    ready: OnceCell<()>,
    backoff: Duration,
}

fn backend(e: impl std::fmt::Display) -> SearchError {
    SearchError::Backend(e.to_string())
}

impl OpenSearch {
    /// `endpoint` is the domain's (`https://search-….es.amazonaws.com`); credentials and region
    /// are the SDK configuration's.
    pub fn new(config: &aws_config::SdkConfig, endpoint: &str, index: &str) -> Result<Self, SearchError> {
        let credentials = config.credentials_provider().ok_or_else(|| backend("no AWS credentials to sign OpenSearch requests"))?;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| backend("no AWS region for OpenSearch"))?;
        let endpoint = url::Url::parse(endpoint).map_err(|e| backend(format!("search endpoint {endpoint}: {e}")))?;
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().map_err(backend)?;
        Ok(OpenSearch {
            endpoint,
            index: index.to_string(),
            region,
            credentials,
            http,
            ready: OnceCell::new(),
            backoff: Duration::from_millis(200),
        })
    }

    /// Waits `backoff`, then twice that, between tries (tests shorten it).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn index(&self) -> &str {
        &self.index
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut url = self.endpoint.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One signed request, tried again on throttling and unavailability. Answers the status and
    /// the body of the last try.
    async fn send(&self, method: Method, url: url::Url, body: Vec<u8>, content_type: &str) -> Result<(u16, Value), SearchError> {
        let mut wait = self.backoff;
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(method.clone(), &url, &body, content_type).await;
            let retry = match &outcome {
                Ok((status, _)) => matches!(status, 429 | 502 | 503 | 504),
                Err(_) => true,
            };
            if !retry || attempt == ATTEMPTS {
                return outcome;
            }
            tracing::warn!(url = %url, attempt, "OpenSearch request to be tried again");
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }

    async fn send_once(&self, method: Method, url: &url::Url, body: &[u8], content_type: &str) -> Result<(u16, Value), SearchError> {
        let credentials = self.credentials.provide_credentials().await.map_err(|e| backend(format!("AWS credentials: {e}")))?;
        let identity = credentials.into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("es")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(backend)?
            .into();
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let headers = [("host", host.as_str()), ("content-type", content_type)];
        let signable =
            SignableRequest::new(method.as_str(), url.as_str(), headers.into_iter(), SignableBody::Bytes(body)).map_err(backend)?;
        let (instructions, _) = sign(signable, &params).map_err(backend)?.into_parts();
        let mut request = self.http.request(method, url.as_str()).header("content-type", content_type).body(body.to_vec());
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| backend(format!("OpenSearch at {}: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(backend)?;
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Ok((status, value))
    }

    /// What a refused request says, naming the likely cause.
    fn refused(&self, what: &str, status: u16, body: &Value) -> SearchError {
        let reason = body
            .pointer("/error/reason")
            .or_else(|| body.pointer("/message"))
            .or_else(|| body.pointer("/Message"))
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        let hint = match status {
            401 | 403 => " (the function's role is not allowed by the domain's access policy)",
            429 => " (throttled after retries)",
            _ => "",
        };
        SearchError::Backend(format!("OpenSearch {what} on {}: {status} {reason}{hint}", self.index))
    }

    /// Creates the index from `index.json` when it is missing (once per process).
    pub async fn ensure_index(&self) -> Result<(), SearchError> {
        self.ready
            .get_or_try_init(|| async {
                let url = self.url(&format!("/{}", self.index), &[]);
                let (status, body) = self.send(Method::HEAD, url.clone(), Vec::new(), "application/json").await?;
                match status {
                    200 => return Ok(()),
                    404 => {}
                    _ => return Err(self.refused("index check", status, &body)),
                }
                let (status, body) = self.send(Method::PUT, url, INDEX_DEFINITION.as_bytes().to_vec(), "application/json").await?;
                let exists = body.pointer("/error/type").and_then(Value::as_str) == Some("resource_already_exists_exception");
                if (200..300).contains(&status) || exists {
                    tracing::info!(index = %self.index, "search index created");
                    Ok(())
                } else {
                    Err(self.refused("index creation", status, &body))
                }
            })
            .await
            .map(|_| ())
    }

    async fn bulk(&self, lines: Vec<u8>) -> Result<(), SearchError> {
        let url = self.url("/_bulk", &[("refresh", "wait_for")]);
        let (status, body) = self.send(Method::POST, url, lines, "application/x-ndjson").await?;
        if !(200..300).contains(&status) {
            return Err(self.refused("bulk indexing", status, &body));
        }
        if body.get("errors").and_then(Value::as_bool) == Some(true) {
            let first = body["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item.get("index"))
                .find(|r| r.get("error").is_some())
                .map(|r| format!("{}: {}", r["_id"].as_str().unwrap_or("?"), r["error"]["reason"].as_str().unwrap_or("refused")))
                .unwrap_or_default();
            return Err(SearchError::Backend(format!("OpenSearch refused documents of the bulk request: {first}")));
        }
        Ok(())
    }

    async fn delete_stale(&self, tenant: &str, sources: &[(String, Vec<String>)]) -> Result<(), SearchError> {
        let url =
            self.url(&format!("/{}/_delete_by_query", self.index), &[("routing", tenant), ("conflicts", "proceed"), ("refresh", "true")]);
        let body = serde_json::to_vec(&query::stale(tenant, sources)).map_err(backend)?;
        let (status, answer) = self.send(Method::POST, url, body, "application/json").await?;
        if !(200..300).contains(&status) {
            return Err(self.refused("removing replaced documents", status, &answer));
        }
        Ok(())
    }
}

#[async_trait]
impl SearchIndex for OpenSearch {
    /// Indexes every document (by id, so a redelivered change overwrites itself), then removes
    /// the documents each source no longer holds: the index never lacks a source's current
    /// documents while it is being updated.
    async fn apply(&self, changes: Vec<SourceDocs>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.ensure_index().await?;
        let mut batch: Vec<u8> = Vec::new();
        let mut stale: BTreeMap<&str, Vec<(String, Vec<String>)>> = BTreeMap::new();
        for change in &changes {
            let mut keep = Vec::with_capacity(change.docs.len());
            for d in &change.docs {
                if d.tenant != change.tenant {
                    return Err(SearchError::Backend(format!("document {} is not of tenant {}", d.id, change.tenant)));
                }
                let id = documents::doc_id(d);
                let action = serde_json::json!({ "index": { "_index": self.index, "_id": id, "routing": d.tenant } });
                let mut lines = serde_json::to_vec(&action).map_err(backend)?;
                lines.push(b'\n');
                serde_json::to_writer(&mut lines, &documents::body(&change.source, d)).map_err(backend)?;
                lines.push(b'\n');
                if !batch.is_empty() && batch.len() + lines.len() > MAX_BULK_BYTES {
                    self.bulk(std::mem::take(&mut batch)).await?;
                }
                batch.extend(lines);
                keep.push(id);
            }
            stale.entry(change.tenant.as_str()).or_default().push((change.source.clone(), keep));
        }
        if !batch.is_empty() {
            self.bulk(batch).await?;
        }
        for (tenant, sources) in stale {
            for part in sources.chunks(MAX_SOURCES_PER_DELETE) {
                self.delete_stale(tenant, part).await?;
            }
        }
        Ok(())
    }

    /// Searches never create the index (the indexer does, and only it may): before its first
    /// document there is nothing to find.
    async fn search(&self, scope: &SearchScope, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let url = self.url(&format!("/{}/_search", self.index), &[("routing", scope.tenant.as_str())]);
        let body = serde_json::to_vec(&query::body(scope, request)).map_err(backend)?;
        let (status, answer) = self.send(Method::POST, url, body, "application/json").await?;
        if status == 404 && answer.pointer("/error/type").and_then(Value::as_str) == Some("index_not_found_exception") {
            return Ok(SearchResults { hits: Vec::new(), total: 0, facets: BTreeMap::new() });
        }
        if !(200..300).contains(&status) {
            return Err(self.refused("search", status, &answer));
        }
        let answer: documents::Answer =
            serde_json::from_value(answer).map_err(|e| backend(format!("OpenSearch answered a search in an unknown shape: {e}")))?;
        Ok(answer.results(request.sort == SearchSort::Relevance))
    }
}
