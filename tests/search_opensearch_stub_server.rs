//! The OpenSearch search adapter against a local stub server of OpenSearch's REST API (no
//! emulator of OpenSearch runs here): the search port's conformance suite, and what the stub
//! checks of the requests it receives — SigV4 signatures, the index definition from the repo,
//! every document against the strict mapping, the scope filters of every query — with retries
//! and refusals.

use std::sync::Arc;
use std::time::Duration;

use confer::adapters::aws::opensearch::{OpenSearch, DEFAULT_INDEX, INDEX_DEFINITION};
use confer::domain::search::{QueryText, Reader, SearchDoc, SearchKind, SearchRequest, SearchScope, SourceDocs};
use confer::ports::search::SearchIndex;
use confer_tests::opensearch_stub::{self, Stub};
use confer_tests::search_conformance::SharedIndex;
use serde_json::{json, Value};

fn adapter(stub: &Stub) -> OpenSearch {
    OpenSearch::new(&opensearch_stub::sdk_config(), &stub.url, DEFAULT_INDEX).expect("adapter").with_backoff(Duration::from_millis(10))
}

async fn stub_server() -> SharedIndex {
    let stub = opensearch_stub::start().await;
    Arc::new(adapter(&stub))
}

mod conformance_on_the_stub_server {
    use super::*;
    confer_tests::search_conformance_tests!(stub_server);
}

fn doc(tenant: &str, kind: SearchKind, id: &str, text: &str) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        tenant: tenant.into(),
        kind,
        readers: vec![Reader::Staff, Reader::Customer("cus_1".into())],
        customer_id: Some("cus_1".into()),
        session_id: Some("ses_1".into()),
        title: Some("Title".into()),
        text: text.into(),
        speaker: Some("Mara".into()),
        language: Some("es-MX".into()),
        at_ms: 1_764_000_000_000,
        link: json!({ "session_id": "ses_1", "seq": 3 }),
    }
}

#[tokio::test]
async fn stub_server_receives_the_repos_index_definition_once_and_every_kind_fits_the_strict_mapping() {
    let definition: Value = serde_json::from_str(INDEX_DEFINITION).expect("index.json is JSON");
    opensearch_stub::valid_definition(&definition).expect("index.json is a valid definition");
    let stub = opensearch_stub::start().await;
    let index = adapter(&stub);
    let changes: Vec<SourceDocs> = SearchKind::ALL
        .into_iter()
        .map(|kind| SourceDocs {
            tenant: "acme".into(),
            source: format!("src-{}", kind.as_str()),
            docs: vec![doc("acme", kind, &format!("{}:1", kind.as_str()), "hello there")],
        })
        .collect();
    index.apply(changes.clone()).await.expect("every kind indexes");
    index.apply(changes).await.expect("and again, as a redelivered change");
    let d = stub.domain.lock().unwrap();
    assert_eq!(d.definitions.get(DEFAULT_INDEX), Some(&definition), "the definition in the repo, as it is");
    let creations = d.requests.iter().filter(|(m, p, _)| m == "PUT" && p == &format!("/{DEFAULT_INDEX}")).count();
    assert_eq!(creations, 1, "created once per process");
    assert_eq!(d.docs.len(), SearchKind::ALL.len(), "an id is one document");
    let (routing, stored) = &d.docs["acme|transcript:1"];
    assert_eq!(routing, "acme");
    assert_eq!(stored["languages"], json!(["es", "es-mx"]));
    assert!(d.requests.iter().any(|(m, p, q)| m == "POST" && p == "/_bulk" && q.contains("refresh=wait_for")));
}

#[tokio::test]
async fn stub_server_sees_the_scope_filters_whatever_the_query_text_says() {
    let stub = opensearch_stub::start().await;
    let index = adapter(&stub);
    index
        .apply(vec![SourceDocs {
            tenant: "globex".into(),
            source: "s".into(),
            docs: vec![doc("globex", SearchKind::Message, "m:1", "secret plans")],
        }])
        .await
        .unwrap();
    let scope = SearchScope { tenant: "acme".into(), reader: Reader::Customer("cus_1".into()) };
    let request = SearchRequest { text: QueryText::parse("tenant:globex secret plans").unwrap(), limit: 20, ..Default::default() };
    let fresh = opensearch_stub::start().await;
    let before_any_document = adapter(&fresh).search(&scope, &request).await.expect("a search before the index exists");
    assert_eq!(before_any_document.total, 0);
    assert!(fresh.domain.lock().unwrap().definitions.is_empty(), "a search never creates the index");
    let found = index.search(&scope, &request).await.unwrap();
    assert!(found.hits.is_empty() && found.total == 0, "another tenant's document is not found");
    let d = stub.domain.lock().unwrap();
    let body = d.searches.last().unwrap();
    let filters = &body["query"]["bool"]["filter"];
    assert_eq!(filters[0], json!({ "term": { "tenant": "acme" } }));
    assert_eq!(filters[1], json!({ "term": { "readers": "customer:cus_1" } }));
    assert!(!body.to_string().contains("query_string"), "the text is never parsed as query syntax");
    let (_, _, query) = d.requests.iter().rev().find(|(_, p, _)| p.ends_with("/_search")).unwrap();
    assert_eq!(query, "routing=acme", "the search reads the tenant's shard");
}

#[tokio::test]
async fn stub_server_throttling_is_tried_again_and_refusals_name_their_cause() {
    let stub = opensearch_stub::start().await;
    let index = adapter(&stub);
    let one = || vec![SourceDocs { tenant: "acme".into(), source: "s".into(), docs: vec![doc("acme", SearchKind::Message, "m:1", "hi")] }];
    stub.domain.lock().unwrap().fail_next.extend([429, 503]);
    index.apply(one()).await.expect("429 and 503 are tried again");
    assert_eq!(stub.domain.lock().unwrap().docs.len(), 1);

    stub.domain.lock().unwrap().fail_next.extend([403]);
    let refused = index.apply(one()).await.unwrap_err().to_string();
    assert!(refused.contains("403") && refused.contains("access policy"), "{refused}");

    stub.domain.lock().unwrap().fail_next.extend([500]);
    let failed = index
        .search(
            &SearchScope { tenant: "acme".into(), reader: Reader::Staff },
            &SearchRequest { text: QueryText::parse("hi").unwrap(), limit: 5, ..Default::default() },
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(failed.contains("500"), "{failed}");

    stub.domain.lock().unwrap().fail_next.extend([429, 429, 429]);
    let throttled = index.apply(one()).await.unwrap_err().to_string();
    assert!(throttled.contains("throttled"), "{throttled}");
}

#[tokio::test]
async fn stub_server_refuses_a_request_signed_with_other_credentials() {
    let stub = opensearch_stub::start().await;
    let wrong = aws_config::SdkConfig::builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            opensearch_stub::ACCESS_KEY,
            "not-the-secret",
            None,
            None,
            "test",
        )))
        .region(aws_config::Region::new(opensearch_stub::REGION))
        .build();
    let index = OpenSearch::new(&wrong, &stub.url, DEFAULT_INDEX).unwrap();
    let error = index.ensure_index().await.unwrap_err().to_string();
    assert!(error.contains("403") && error.contains("access policy"), "{error}");
    assert!(stub.domain.lock().unwrap().definitions.is_empty(), "nothing was created");
}
