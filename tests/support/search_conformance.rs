//! Conformance suite for the search port: every index (tantivy locally, OpenSearch in the cloud)
//! must find the same documents for the same request, within the same scope. Each behaviour
//! writes under tenants unique to its run, so the suite can share one index.
//!
//! An adapter's test file instantiates it with
//! `confer_tests::search_conformance_tests!(async_fn_returning_arc_dyn_search_index);`.

use std::sync::Arc;

use confer::domain::search::{QueryText, Reader, SearchDoc, SearchKind, SearchRequest, SearchScope, SearchSort, SourceDocs};
use confer::ports::search::SearchIndex;
use serde_json::json;

pub type SharedIndex = Arc<dyn SearchIndex>;

#[macro_export]
macro_rules! search_conformance_tests {
    ($make_index:path) => {
        $crate::search_conformance_tests!(@tests $make_index;
            words_phrases_prefixes_and_typos_find_their_documents,
            scope_is_the_tenant_and_the_reader_whatever_the_query_says,
            filters_narrow_and_facets_count_per_kind,
            date_sort_and_cursor_pages,
            a_source_replaces_its_documents_and_removes_them,
            snippets_mark_what_matched,
        );
    };
    (@tests $make_index:path; $($behaviour:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $behaviour() {
                let index = $make_index().await;
                $crate::search_conformance::$behaviour(index).await;
            }
        )+
    };
}

/// Each document as its own source (its id), as a message item is.
async fn put(index: &SharedIndex, docs: Vec<SearchDoc>) {
    let changes = docs.into_iter().map(|d| SourceDocs { tenant: d.tenant.clone(), source: d.id.clone(), docs: vec![d] }).collect();
    index.apply(changes).await.unwrap();
}

fn tenant() -> String {
    format!("t{}", ulid::Ulid::new().to_string().to_lowercase())
}

const ADA: &str = "cus_01M8E24NKB3T5X7Z9C1E4G6J8M";
const BEN: &str = "cus_01M8E24NKB3T5X7Z9C1E4G6J8N";

fn message(tenant: &str, n: u32, customer: &str, text: &str, at_ms: i64) -> SearchDoc {
    SearchDoc {
        id: format!("message:ses_{customer}:{n}"),
        tenant: tenant.into(),
        kind: SearchKind::Message,
        readers: vec![Reader::Staff, Reader::Customer(customer.into())],
        customer_id: Some(customer.into()),
        session_id: Some(format!("ses_{customer}")),
        title: None,
        text: text.into(),
        speaker: None,
        language: Some("en".into()),
        at_ms,
        link: json!({ "session_id": format!("ses_{customer}"), "seq": n }),
    }
}

fn turn(tenant: &str, n: u32, customer: &str, speaker: &str, language: &str, text: &str, at_ms: i64) -> SearchDoc {
    SearchDoc {
        id: format!("transcript:rec_1:{language}:{n}"),
        kind: SearchKind::Transcript,
        speaker: Some(speaker.into()),
        language: Some(language.into()),
        link: json!({ "recording_id": "rec_1", "offset_ms": n * 1000 }),
        ..message(tenant, n, customer, text, at_ms)
    }
}

fn staff_only(tenant: &str, kind: SearchKind, id: &str, title: &str, text: &str, at_ms: i64) -> SearchDoc {
    SearchDoc {
        id: id.into(),
        tenant: tenant.into(),
        kind,
        readers: vec![Reader::Staff],
        customer_id: None,
        session_id: None,
        title: Some(title.into()),
        text: text.into(),
        speaker: None,
        language: None,
        at_ms,
        link: json!({}),
    }
}

fn staff(tenant: &str) -> SearchScope {
    SearchScope { tenant: tenant.into(), reader: Reader::Staff }
}

fn request(q: &str) -> SearchRequest {
    SearchRequest { text: QueryText::parse(q).unwrap(), limit: 20, ..Default::default() }
}

async fn ids(index: &SharedIndex, scope: &SearchScope, request: &SearchRequest) -> Vec<String> {
    let mut found: Vec<String> = index.search(scope, request).await.unwrap().hits.into_iter().map(|h| h.id).collect();
    found.sort();
    found
}

async fn corpus(index: &SharedIndex, t: &str) {
    put(
        index,
        vec![
            message(t, 1, ADA, "The parcel arrived this morning but the box was crushed", 1_000),
            message(t, 2, ADA, "Could you send a photo of the damaged box?", 2_000),
            message(t, 3, BEN, "My invoice shows the wrong address", 3_000),
            turn(t, 1, ADA, "Mara", "en-US", "We will replace the parcel today", 4_000),
            turn(t, 1, ADA, "Mara", "es", "Reemplazaremos el paquete hoy", 4_000),
            staff_only(t, SearchKind::Announcement, "announcement:ann_1", "Opening hours", "From Monday we open at nine", 5_000),
            staff_only(t, SearchKind::Customer, "customer:ada", "Ada Lovelace", "ada@example.com", 6_000),
        ],
    )
    .await;
}

pub async fn words_phrases_prefixes_and_typos_find_their_documents(index: SharedIndex) {
    let t = tenant();
    corpus(&index, &t).await;
    let s = staff(&t);
    let m1 = format!("message:ses_{ADA}:1");
    assert_eq!(ids(&index, &s, &request("crushed box ")).await, [m1.clone()], "every word must match");
    assert_eq!(ids(&index, &s, &request("\"box was crushed\"")).await, [m1.clone()]);
    assert!(ids(&index, &s, &request("\"crushed was box\"")).await.is_empty(), "a phrase keeps its order");
    assert_eq!(ids(&index, &s, &request("crush")).await, [m1.clone()], "the last word is a prefix");
    assert!(ids(&index, &s, &request("crush ")).await.is_empty(), "not once a space follows it");
    assert_eq!(ids(&index, &s, &request("invocie ")).await, [format!("message:ses_{BEN}:3")], "one typo in a long word");
    assert_eq!(ids(&index, &s, &request("PARCEL arrived ")).await, [m1.clone()], "case does not matter");
    assert_eq!(ids(&index, &s, &request("opening hours")).await, ["announcement:ann_1"], "titles are searched");
    let parcel = ids(&index, &s, &request("parcel ")).await;
    assert_eq!(parcel, vec![m1, "transcript:rec_1:en-US:1".to_string()]);
}

pub async fn scope_is_the_tenant_and_the_reader_whatever_the_query_says(index: SharedIndex) {
    let (t, other) = (tenant(), tenant());
    corpus(&index, &t).await;
    corpus(&index, &other).await;
    let ada = SearchScope { tenant: t.clone(), reader: Reader::Customer(ADA.into()) };
    let ben = SearchScope { tenant: t.clone(), reader: Reader::Customer(BEN.into()) };
    // Staff of one tenant find only their tenant's documents, even naming another.
    let all = index.search(&staff(&t), &request("parcel ")).await.unwrap();
    assert_eq!(all.total, 2);
    for q in [format!("tenant:{other} parcel"), format!("{other} parcel"), format!("customer:{BEN} box ")] {
        assert!(ids(&index, &ben, &request(&q)).await.is_empty(), "{q}");
    }
    // A customer finds their own conversation, never another's, nor staff-only documents.
    assert_eq!(ids(&index, &ada, &request("box ")).await.len(), 2);
    assert!(ids(&index, &ben, &request("box ")).await.is_empty());
    assert!(ids(&index, &ada, &request("opening hours")).await.is_empty());
    assert!(ids(&index, &ada, &request("ada")).await.is_empty(), "customer records are for staff");
    let mut other_customer = request("box ");
    other_customer.customer_id = Some(ADA.into());
    assert!(ids(&index, &ben, &other_customer).await.is_empty(), "a filter cannot widen the scope");
}

pub async fn filters_narrow_and_facets_count_per_kind(index: SharedIndex) {
    let t = tenant();
    corpus(&index, &t).await;
    let s = staff(&t);
    let mut r = request("parcel ");
    let all = index.search(&s, &r).await.unwrap();
    assert_eq!(all.facets.get(&SearchKind::Message), Some(&1));
    assert_eq!(all.facets.get(&SearchKind::Transcript), Some(&1));
    r.kinds = vec![SearchKind::Transcript];
    let only = index.search(&s, &r).await.unwrap();
    assert_eq!((only.total, only.hits.len()), (1, 1));
    assert_eq!(only.facets, all.facets, "facets count every kind");
    let mut r = request("paquete");
    r.language = Some("es".into());
    assert_eq!(ids(&index, &s, &r).await, ["transcript:rec_1:es:1"]);
    r.language = Some("en".into());
    assert!(ids(&index, &s, &r).await.is_empty());
    let mut r = request("parcel ");
    r.language = Some("en-us".into());
    assert_eq!(ids(&index, &s, &r).await, ["transcript:rec_1:en-US:1"], "a full tag, in any case");
    r.language = None;
    r.speaker = Some("mara".into());
    assert_eq!(ids(&index, &s, &r).await, ["transcript:rec_1:en-US:1"]);
    let mut r = request("box ");
    r.from_ms = Some(1_500);
    assert_eq!(ids(&index, &s, &r).await, [format!("message:ses_{ADA}:2")]);
    r.from_ms = None;
    r.to_ms = Some(1_500);
    assert_eq!(ids(&index, &s, &r).await, [format!("message:ses_{ADA}:1")]);
    let mut r = request("the ");
    r.customer_id = Some(BEN.into());
    assert_eq!(ids(&index, &s, &r).await, [format!("message:ses_{BEN}:3")]);
    r.customer_id = None;
    r.session_id = Some(format!("ses_{ADA}"));
    assert_eq!(ids(&index, &s, &r).await.len(), 3, "two messages and a turn of its recording");
}

pub async fn date_sort_and_cursor_pages(index: SharedIndex) {
    let t = tenant();
    let docs: Vec<_> = (0..25).map(|n| message(&t, n, ADA, &format!("status update number {n}"), 10_000 + i64::from(n))).collect();
    put(&index, docs).await;
    let s = staff(&t);
    let mut r = request("status ");
    r.sort = SearchSort::Date;
    r.limit = 10;
    let mut seen = Vec::new();
    for page in 0..3 {
        r.offset = page * 10;
        let found = index.search(&s, &r).await.unwrap();
        assert_eq!(found.total, 25);
        seen.extend(found.hits.into_iter().map(|h| h.link["seq"].as_u64().unwrap()));
    }
    assert_eq!(seen, (0..25).rev().collect::<Vec<u64>>(), "newest first, each once");
}

pub async fn a_source_replaces_its_documents_and_removes_them(index: SharedIndex) {
    let t = tenant();
    let s = staff(&t);
    let source = "T#x#R#rec_1|TX".to_string();
    let turns = |words: &[&str]| SourceDocs {
        tenant: t.clone(),
        source: source.clone(),
        docs: words.iter().enumerate().map(|(n, w)| turn(&t, n as u32, ADA, "Mara", "en", w, 1)).collect(),
    };
    index.apply(vec![turns(&["first draft", "second draft", "third draft"])]).await.unwrap();
    assert_eq!(index.search(&s, &request("draft ")).await.unwrap().total, 3);
    // The item changed: two turns now, edited. Applied twice, as a redelivered change is.
    index.apply(vec![turns(&["edited note", "another note"]), turns(&["edited note", "another note"])]).await.unwrap();
    assert!(ids(&index, &s, &request("draft ")).await.is_empty(), "the old turns are gone");
    assert_eq!(index.search(&s, &request("note ")).await.unwrap().total, 2);
    // The item is gone.
    index.apply(vec![SourceDocs { tenant: t.clone(), source: source.clone(), docs: vec![] }]).await.unwrap();
    assert!(ids(&index, &s, &request("note ")).await.is_empty());
    // Another tenant's source of the same key is another source.
    let other = tenant();
    index.apply(vec![SourceDocs { tenant: other.clone(), source: source.clone(), docs: vec![] }]).await.unwrap();
    put(&index, vec![message(&t, 1, ADA, "kept", 1)]).await;
    index.apply(vec![SourceDocs { tenant: other, source: format!("message:ses_{ADA}:1"), docs: vec![] }]).await.unwrap();
    assert_eq!(ids(&index, &s, &request("kept ")).await.len(), 1);
}

pub async fn snippets_mark_what_matched(index: SharedIndex) {
    let t = tenant();
    corpus(&index, &t).await;
    let found = index.search(&staff(&t), &request("crushed parcle ")).await.unwrap();
    let hit = &found.hits[0];
    let marked: Vec<&str> = hit.snippet.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect();
    assert_eq!(marked, ["parcel", "crushed"]);
    let text: String = hit.snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(text, "The parcel arrived this morning but the box was crushed");
    assert_eq!(hit.at, "1970-01-01T00:00:01.000Z");
    assert_eq!(hit.link["seq"], 1);
    let titled = index.search(&staff(&t), &request("hours")).await.unwrap();
    assert_eq!(titled.hits[0].title_highlight.iter().filter(|p| p.hit).map(|p| p.text.as_str()).collect::<Vec<_>>(), ["hours"]);
}
