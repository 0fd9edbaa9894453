//! A [`SearchRequest`] as OpenSearch query DSL. Built clause by clause: the user's words go
//! into `match` queries (never `query_string`, so no syntax they type is read), and the scope's
//! tenant and reader are always filters. The kind filter is a `post_filter`, so the `kinds`
//! aggregation counts every kind the rest of the query matches.

use serde_json::{json, Value};

use crate::domain::search::{SearchRequest, SearchScope, SearchSort, SNIPPET_CHARS};

/// Marks around a highlighted match: private-use characters, which no text Confer stores
/// as written would be confused with once they are taken out.
pub const PRE_TAG: &str = "\u{E000}";
pub const POST_TAG: &str = "\u{E001}";

/// Typo tolerance as the local index has it: none below 5 letters, one edit from 5, two from 9.
pub const FUZZINESS: &str = "AUTO:5,9";

/// Fields the words are looked for in, the title counting twice.
const SEARCHED: [&str; 2] = ["title^2", "text"];

fn term(field: &str, value: &str) -> Value {
    json!({ "term": { field: value } })
}

/// The filters of `scope` and `request` other than kind.
pub fn filters(scope: &SearchScope, request: &SearchRequest) -> Vec<Value> {
    let mut out = vec![term("tenant", &scope.tenant), term("readers", &scope.reader.term())];
    if let Some(c) = &request.customer_id {
        out.push(term("customer_id", c));
    }
    if let Some(s) = &request.session_id {
        out.push(term("session_id", s));
    }
    if let Some(s) = &request.speaker {
        out.push(term("speaker", &s.to_lowercase()));
    }
    if let Some(l) = &request.language {
        out.push(term("languages", &l.to_lowercase()));
    }
    if request.from_ms.is_some() || request.to_ms.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(from) = request.from_ms {
            range.insert("gte".into(), json!(from));
        }
        if let Some(to) = request.to_ms {
            range.insert("lt".into(), json!(to));
        }
        range.insert("format".into(), json!("epoch_millis"));
        out.push(json!({ "range": { "at": range } }));
    }
    out
}

/// Every word must match (the last one as a prefix while it is typed), and every phrase.
pub fn text_clauses(request: &SearchRequest) -> Vec<Value> {
    let q = &request.text;
    let last = q.words.len().saturating_sub(1);
    let mut out: Vec<Value> = q
        .words
        .iter()
        .enumerate()
        .map(|(i, word)| {
            if q.prefix_last && i == last {
                json!({ "multi_match": { "query": word, "type": "bool_prefix", "fields": SEARCHED, "operator": "and" } })
            } else {
                json!({ "multi_match": { "query": word, "type": "best_fields", "fields": SEARCHED, "operator": "and", "fuzziness": FUZZINESS, "prefix_length": 0 } })
            }
        })
        .collect();
    out.extend(q.phrases.iter().map(|p| json!({ "multi_match": { "query": p, "type": "phrase", "fields": SEARCHED } })));
    out
}

/// The whole `_search` body for one page.
pub fn body(scope: &SearchScope, request: &SearchRequest) -> Value {
    let sort = match request.sort {
        SearchSort::Relevance => json!(["_score", { "at": "desc" }]),
        SearchSort::Date => json!([{ "at": "desc" }]),
    };
    let mut body = json!({
        "from": request.offset,
        "size": request.limit,
        "track_total_hits": true,
        "query": { "bool": { "must": text_clauses(request), "filter": filters(scope, request) } },
        "aggs": { "kinds": { "terms": { "field": "kind", "size": crate::domain::search::SearchKind::ALL.len() } } },
        "sort": sort,
        "highlight": {
            "pre_tags": [PRE_TAG],
            "post_tags": [POST_TAG],
            "fields": {
                "text": { "fragment_size": SNIPPET_CHARS, "number_of_fragments": 1, "no_match_size": SNIPPET_CHARS },
                "title": { "number_of_fragments": 0 }
            }
        }
    });
    if !request.kinds.is_empty() {
        let kinds: Vec<&str> = request.kinds.iter().map(|k| k.as_str()).collect();
        body["post_filter"] = json!({ "terms": { "kind": kinds } });
    }
    body
}

/// A `_delete_by_query` body removing, within one tenant, each source's documents other than
/// the ones it holds now.
pub fn stale(tenant: &str, sources: &[(String, Vec<String>)]) -> Value {
    let each: Vec<Value> = sources
        .iter()
        .map(|(source, keep)| json!({ "bool": { "filter": [term("source", source)], "must_not": [{ "ids": { "values": keep } }] } }))
        .collect();
    json!({ "query": { "bool": { "filter": [term("tenant", tenant)], "should": each, "minimum_should_match": 1 } } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::search::{QueryText, Reader, SearchKind};

    fn scope() -> SearchScope {
        SearchScope { tenant: "acme".into(), reader: Reader::Customer("cus_1".into()) }
    }

    #[test]
    fn typed_syntax_stays_text_and_the_scope_is_always_filtered() {
        let request = SearchRequest {
            text: QueryText::parse("tenant:globex OR * \"readers:staff\" refu").unwrap(),
            kinds: vec![SearchKind::Message],
            limit: 20,
            ..Default::default()
        };
        let b = body(&scope(), &request);
        let text = b.to_string();
        assert!(!text.contains("query_string"), "{text}");
        let filters = &b["query"]["bool"]["filter"];
        assert_eq!(filters[0], json!({ "term": { "tenant": "acme" } }));
        assert_eq!(filters[1], json!({ "term": { "readers": "customer:cus_1" } }));
        let must = b["query"]["bool"]["must"].as_array().unwrap();
        assert_eq!(must[0]["multi_match"]["query"], "tenant:globex");
        assert_eq!(must[3]["multi_match"]["type"], "bool_prefix");
        assert_eq!(must[4]["multi_match"]["type"], "phrase");
        assert_eq!(b["post_filter"], json!({ "terms": { "kind": ["message"] } }));
    }
}
