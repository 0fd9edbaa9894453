//! The local search index on tantivy, in the data directory (`search/`), or in memory for
//! tests. Writes are committed before they return, so a search right after sees them.

pub mod feed;
mod query;
pub mod schema;
mod snippet;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use crate::domain::search::{
    SearchDoc, SearchHit, SearchKind, SearchRequest, SearchResults, SearchScope, SearchSort, SourceDocs, SNIPPET_CHARS,
};
use crate::ports::search::{SearchError, SearchIndex};
use schema::{analyzer, Fields, ANALYZER};

const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;
/// How long opening waits for another holder of the index's writer to let go.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
pub struct TantivySearch {
    inner: Arc<Inner>,
}

struct Inner {
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
}

fn backend(e: impl std::fmt::Display) -> SearchError {
    SearchError::Backend(e.to_string())
}

fn key(tenant: &str, id: &str) -> String {
    format!("{tenant}|{id}")
}

impl TantivySearch {
    /// The index in `dir` (made when missing).
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let (schema, fields) = schema::schema();
        let directory = MmapDirectory::open(dir).map_err(backend)?;
        let index = Index::open_or_create(directory, schema).map_err(|e| {
            SearchError::Backend(format!("the search index in {} cannot be opened ({e}); remove it and reindex", dir.display()))
        })?;
        Self::with_index(index, fields)
    }

    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema::schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(backend)?;
        // One writer per index: a process that is stopping may hold it a moment longer.
        let started = std::time::Instant::now();
        let writer = loop {
            match index.writer(WRITER_HEAP_BYTES) {
                Ok(w) => break w,
                Err(tantivy::TantivyError::LockFailure(..)) if started.elapsed() < OPEN_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(e) => return Err(backend(e)),
            }
        };
        Ok(TantivySearch { inner: Arc::new(Inner { fields, reader, writer: Mutex::new(writer) }) })
    }

    /// Documents in the index (every tenant).
    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn document(&self, source: &str, d: &SearchDoc) -> TantivyDocument {
        let f = &self.inner.fields;
        let mut doc = doc!(
            f.key => key(&d.tenant, &d.id),
            f.source => key(&d.tenant, source),
            f.id => d.id.clone(),
            f.tenant => d.tenant.clone(),
            f.kind => d.kind.as_str(),
            f.at => d.at_ms,
            f.text => d.text.clone(),
            f.link => d.link.to_string(),
        );
        for r in &d.readers {
            doc.add_text(f.readers, r.term());
        }
        let optional = [(f.customer, &d.customer_id), (f.session, &d.session_id), (f.title, &d.title), (f.speaker_name, &d.speaker)];
        for (field, value) in optional {
            if let Some(v) = value {
                doc.add_text(field, v);
            }
        }
        if let Some(s) = &d.speaker {
            doc.add_text(f.speaker, s.to_lowercase());
        }
        if let Some(l) = &d.language {
            let lower = l.to_lowercase();
            doc.add_text(f.language_tag, l);
            if let Some((primary, _)) = lower.split_once('-') {
                doc.add_text(f.language, primary);
            }
            doc.add_text(f.language, lower);
        }
        doc
    }

    fn commit(&self, writer: &mut IndexWriter<TantivyDocument>) -> Result<(), SearchError> {
        writer.commit().map_err(backend)?;
        self.inner.reader.reload().map_err(backend)
    }

    fn run(&self, scope: &SearchScope, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let f = &self.inner.fields;
        let searcher = self.inner.reader.searcher();
        let mut analyzer = analyzer();
        let built = query::build(f, &mut analyzer, scope, request);
        let mut facets = std::collections::BTreeMap::new();
        for kind in SearchKind::ALL {
            let n = searcher.search(&query::combine(&built, &[kind], f), &Count).map_err(backend)?;
            if n > 0 {
                facets.insert(kind, n as u64);
            }
        }
        let allowed = |k: &SearchKind| request.kinds.is_empty() || request.kinds.contains(k);
        let total = facets.iter().filter(|(k, _)| allowed(k)).map(|(_, n)| n).sum();
        let query = query::combine(&built, &request.kinds, f);
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let found: Vec<(f32, tantivy::DocAddress)> = match request.sort {
            SearchSort::Relevance => searcher.search(&query, &top.order_by_score()).map_err(backend)?,
            SearchSort::Date => searcher
                .search(&query, &top.order_by_fast_field::<i64>("at", Order::Desc))
                .map_err(backend)?
                .into_iter()
                .map(|(_, addr)| (0.0, addr))
                .collect(),
        };
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let doc: TantivyDocument = searcher.doc(address).map_err(backend)?;
            let text_of = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
            let kind = text_of(f.kind).and_then(|k| SearchKind::parse(&k)).ok_or_else(|| backend("a document without its kind"))?;
            let at_ms = doc.get_first(f.at).and_then(|v| v.as_i64()).unwrap_or_default();
            let text = text_of(f.text).unwrap_or_default();
            let title = text_of(f.title);
            let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
                .map(crate::domain::format_rfc3339)
                .unwrap_or_default();
            hits.push(SearchHit {
                id: text_of(f.id).unwrap_or_default(),
                kind,
                customer_id: text_of(f.customer),
                session_id: text_of(f.session),
                title_highlight: title.as_deref().map(|t| snippet::marked(&mut analyzer, t, &built.matchers)).unwrap_or_default(),
                title,
                snippet: snippet::snippet(&mut analyzer, &text, &built.matchers, SNIPPET_CHARS),
                speaker: text_of(f.speaker_name),
                language: text_of(f.language_tag),
                at,
                link: text_of(f.link).and_then(|l| serde_json::from_str(&l).ok()).unwrap_or(serde_json::Value::Null),
                score,
            });
        }
        Ok(SearchResults { hits, total, facets })
    }
}

#[async_trait]
impl SearchIndex for TantivySearch {
    async fn apply(&self, changes: Vec<SourceDocs>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let f = this.inner.fields;
            let mut writer = this.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
            for change in &changes {
                writer.delete_term(Term::from_field_text(f.source, &key(&change.tenant, &change.source)));
                for d in &change.docs {
                    if d.tenant != change.tenant {
                        return Err(SearchError::Backend(format!("document {} is not of tenant {}", d.id, change.tenant)));
                    }
                    // An id is one document, whichever item last held it.
                    writer.delete_term(Term::from_field_text(f.key, &key(&d.tenant, &d.id)));
                    writer.add_document(this.document(&change.source, d)).map_err(backend)?;
                }
            }
            this.commit(&mut writer)
        })
        .await
        .map_err(backend)?
    }

    async fn search(&self, scope: &SearchScope, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let (this, scope, request) = (self.clone(), scope.clone(), request.clone());
        tokio::task::spawn_blocking(move || this.run(&scope, &request)).await.map_err(backend)?
    }
}
