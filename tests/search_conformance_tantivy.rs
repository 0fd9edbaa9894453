//! The search port's conformance suite on the local tantivy index, in memory and on disk, and
//! the on-disk index surviving a reopen.

use std::sync::Arc;

use confer::adapters::local::TantivySearch;
use confer::domain::search::{QueryText, Reader, SearchRequest, SearchScope, SourceDocs};
use confer::ports::search::SearchIndex;
use confer_tests::search_conformance::SharedIndex;

async fn in_memory() -> SharedIndex {
    Arc::new(TantivySearch::in_memory().expect("index"))
}

confer_tests::search_conformance_tests!(in_memory);

mod on_disk {
    use super::*;

    async fn on_disk() -> SharedIndex {
        let dir = Box::leak(Box::new(tempfile::tempdir().expect("temporary directory")));
        Arc::new(TantivySearch::open(&dir.path().join("search")).expect("index"))
    }

    confer_tests::search_conformance_tests!(on_disk);
}

#[tokio::test]
async fn the_index_in_the_data_directory_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    let doc = confer::domain::search::SearchDoc {
        id: "message:ses_1:1".into(),
        tenant: "acme".into(),
        kind: confer::domain::search::SearchKind::Message,
        readers: vec![Reader::Staff],
        customer_id: None,
        session_id: None,
        title: None,
        text: "kept across restarts".into(),
        speaker: None,
        language: None,
        at_ms: 1,
        link: serde_json::json!({}),
    };
    {
        let index = TantivySearch::open(&path).unwrap();
        index.apply(vec![SourceDocs { tenant: "acme".into(), source: doc.id.clone(), docs: vec![doc] }]).await.unwrap();
    }
    let index = TantivySearch::open(&path).unwrap();
    let scope = SearchScope { tenant: "acme".into(), reader: Reader::Staff };
    let request = SearchRequest { text: QueryText::parse("restarts").unwrap(), limit: 10, ..Default::default() };
    assert_eq!(index.search(&scope, &request).await.unwrap().total, 1);
}
