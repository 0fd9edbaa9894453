//! Confer's search documents as OpenSearch documents (the fields `index.json` maps), and
//! OpenSearch's answers back as hits.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::query::{POST_TAG, PRE_TAG};
use crate::domain::search::{SearchDoc, SearchHit, SearchKind, SearchResults, SnippetPart};

/// A document's `_id`: unique across tenants.
pub fn doc_id(d: &SearchDoc) -> String {
    format!("{}|{}", d.tenant, d.id)
}

/// The document as indexed. `languages` holds the lowercased tag and its primary subtag, so a
/// filter on `es` finds `es-MX`.
pub fn body(source: &str, d: &SearchDoc) -> Value {
    let mut languages = Vec::new();
    if let Some(l) = &d.language {
        let lower = l.to_lowercase();
        if let Some((primary, _)) = lower.split_once('-') {
            languages.push(primary.to_string());
        }
        languages.push(lower);
    }
    let mut body = json!({
        "id": d.id,
        "tenant": d.tenant,
        "source": source,
        "kind": d.kind.as_str(),
        "readers": d.readers.iter().map(|r| r.term()).collect::<Vec<_>>(),
        "text": d.text,
        "at": d.at_ms,
        "link": d.link,
    });
    let optional = [
        ("customer_id", &d.customer_id),
        ("session_id", &d.session_id),
        ("title", &d.title),
        ("speaker", &d.speaker),
        ("language", &d.language),
    ];
    for (field, value) in optional {
        if let Some(v) = value {
            body[field] = json!(v);
        }
    }
    if !languages.is_empty() {
        body["languages"] = json!(languages);
    }
    body
}

#[derive(Deserialize)]
pub struct Answer {
    hits: Hits,
    #[serde(default)]
    aggregations: Option<Aggregations>,
}

#[derive(Deserialize)]
struct Hits {
    total: Total,
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Total {
    value: u64,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_score")]
    score: Option<f32>,
    #[serde(rename = "_source")]
    source: Stored,
    #[serde(default)]
    highlight: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Stored {
    id: String,
    kind: String,
    text: String,
    at: i64,
    #[serde(default)]
    link: Value,
    customer_id: Option<String>,
    session_id: Option<String>,
    title: Option<String>,
    speaker: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct Aggregations {
    kinds: Terms,
}

#[derive(Deserialize)]
struct Terms {
    buckets: Vec<Bucket>,
}

#[derive(Deserialize)]
struct Bucket {
    key: String,
    doc_count: u64,
}

/// A highlighted fragment as snippet parts (the marks taken out).
pub fn parts(fragment: &str) -> Vec<SnippetPart> {
    let mut out = Vec::new();
    for (i, piece) in fragment.split(PRE_TAG).enumerate() {
        let (hit, rest) = match piece.split_once(POST_TAG) {
            Some((hit, rest)) if i > 0 => (Some(hit), rest),
            _ => (None, piece),
        };
        if let Some(hit) = hit.filter(|h| !h.is_empty()) {
            out.push(SnippetPart { text: hit.to_string(), hit: true });
        }
        if !rest.is_empty() {
            out.push(SnippetPart { text: rest.to_string(), hit: false });
        }
    }
    out
}

impl Answer {
    pub fn results(self, scored: bool) -> SearchResults {
        let facets = self
            .aggregations
            .map(|a| a.kinds.buckets.into_iter().filter_map(|b| SearchKind::parse(&b.key).map(|k| (k, b.doc_count))).collect())
            .unwrap_or_default();
        let hits = self
            .hits
            .hits
            .into_iter()
            .filter_map(|h| {
                let s = h.source;
                let kind = SearchKind::parse(&s.kind)?;
                let snippet = match h.highlight.get("text").and_then(|f| f.first()) {
                    Some(fragment) => parts(fragment),
                    None => parts(&s.text.chars().take(crate::domain::search::SNIPPET_CHARS).collect::<String>()),
                };
                let title_highlight = h.highlight.get("title").and_then(|f| f.first()).map(|f| parts(f)).unwrap_or_default();
                let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(s.at) * 1_000_000)
                    .map(crate::domain::format_rfc3339)
                    .unwrap_or_default();
                Some(SearchHit {
                    id: s.id,
                    kind,
                    customer_id: s.customer_id,
                    session_id: s.session_id,
                    title: s.title,
                    title_highlight,
                    snippet,
                    speaker: s.speaker,
                    language: s.language,
                    at,
                    link: s.link,
                    score: if scored { h.score.unwrap_or_default() } else { 0.0 },
                })
            })
            .collect();
        SearchResults { hits, total: self.hits.total.value, facets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_become_marked_parts() {
        let p = parts("the \u{E000}parcel\u{E001} arrived \u{E000}today\u{E001}");
        let rendered: Vec<(String, bool)> = p.into_iter().map(|p| (p.text, p.hit)).collect();
        assert_eq!(rendered, [("the ".into(), false), ("parcel".into(), true), (" arrived ".into(), false), ("today".into(), true)]);
        assert_eq!(parts("no marks").len(), 1);
    }
}
