//! Search: the documents the index holds, who may read each, and a user's query as Confer reads
//! it. The query text is never handed to an engine's own query language: it becomes words,
//! quoted phrases and a prefix, so nothing typed can name a field, a tenant or a customer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words in one query, counted between spaces (a phrase's words count one by one).
pub const MAX_QUERY_WORDS: usize = 16;
/// What a query must look like, as the API document states it: 1 to 16 words between spaces,
/// quotes balanced, something besides spaces and quotes, no control characters.
pub const QUERY_PATTERN: &str = r#"^(?=\s*(?:\S+(?:\s+|$)){1,16}$)(?=[^"]*(?:"[^"]*"[^"]*)*$)(?=.*[^\s"])[^\x00-\x1f\x7f-\x9f]*$"#;
/// Results per page.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;
pub const MAX_SEARCH_LIMIT: usize = 50;
/// How deep paging may go: results past this position are not served (refine the query).
pub const MAX_SEARCH_DEPTH: usize = 1_000;
/// Characters of text a hit's snippet shows.
pub const SNIPPET_CHARS: usize = 160;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// A chat message's text, or a file's caption.
    Message,
    /// A file: its name, kind and (for plain text and PDF) its text.
    File,
    /// A turn of a recorded call's transcript, or its translation.
    Transcript,
    Announcement,
    Customer,
}

impl SearchKind {
    pub const ALL: [SearchKind; 5] =
        [SearchKind::Message, SearchKind::File, SearchKind::Transcript, SearchKind::Announcement, SearchKind::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchKind::Message => "message",
            SearchKind::File => "file",
            SearchKind::Transcript => "transcript",
            SearchKind::Announcement => "announcement",
            SearchKind::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Who may find a document: the tenant's staff, and or one customer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "reader", content = "id", rename_all = "snake_case")]
pub enum Reader {
    Staff,
    Customer(String),
}

impl Reader {
    /// The reader as one indexed term.
    pub fn term(&self) -> String {
        match self {
            Reader::Staff => "staff".into(),
            Reader::Customer(id) => format!("customer:{id}"),
        }
    }
}

/// What one stored item contributes to the index: its documents, replacing whatever it
/// contributed before (none: the item is gone, or holds nothing to find).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceDocs {
    pub tenant: String,
    /// The item's key, `<pk>|<sk>`.
    pub source: String,
    pub docs: Vec<SearchDoc>,
}

/// One document of the index, built from a stored item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    /// Unique in its tenant: `<kind>:<natural id>` (e.g. `message:ses_…:42`).
    pub id: String,
    pub tenant: String,
    pub kind: SearchKind,
    pub readers: Vec<Reader>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// A short heading: a file's name, an announcement's title, a customer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// BCP 47 language of the text (`en-US`, `es`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When it was said or written, epoch milliseconds.
    pub at_ms: i64,
    /// Where a hit opens: the message in its session, the second in the recording.
    pub link: serde_json::Value,
}

/// A user's query text, read: bare words (the last one a prefix while it is being typed) and
/// quoted phrases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryText {
    pub words: Vec<String>,
    pub phrases: Vec<String>,
    /// The last word matches as a prefix (the text did not end with a space or a quote).
    pub prefix_last: bool,
}

impl QueryText {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::validation(format!("q is longer than {MAX_QUERY_CHARS} characters")));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(AppError::validation("q holds control characters"));
        }
        if raw.matches('"').count() % 2 == 1 {
            return Err(AppError::validation("q has an unbalanced quote: close the phrase with \""));
        }
        let mut out = QueryText::default();
        for (i, part) in raw.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = part.split_whitespace().collect::<Vec<_>>().join(" ");
                if !phrase.is_empty() {
                    out.phrases.push(phrase);
                }
            } else {
                out.words.extend(part.split_whitespace().map(str::to_string));
            }
        }
        if out.words.is_empty() && out.phrases.is_empty() {
            return Err(AppError::validation("q is empty: type a word to search for"));
        }
        if raw.split_whitespace().count() > MAX_QUERY_WORDS {
            return Err(AppError::validation(format!("q has more than {MAX_QUERY_WORDS} words")));
        }
        let trimmed = raw.trim_end();
        out.prefix_last = !out.words.is_empty() && trimmed.len() == raw.len() && !trimmed.ends_with('"');
        Ok(out)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    #[default]
    Relevance,
    /// Newest first.
    Date,
}

/// A query with its filters, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    pub text: QueryText,
    /// Empty: every kind.
    pub kinds: Vec<SearchKind>,
    pub customer_id: Option<String>,
    pub session_id: Option<String>,
    pub speaker: Option<String>,
    pub language: Option<String>,
    /// Epoch milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Epoch milliseconds, exclusive.
    pub to_ms: Option<i64>,
    pub sort: SearchSort,
    pub limit: usize,
    pub offset: usize,
}

/// Whose search it is: the tenant (from the token) and the reader it acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchScope {
    pub tenant: String,
    pub reader: Reader,
}

/// A piece of a snippet: text, and whether it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SnippetPart {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub id: String,
    pub kind: SearchKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The title with its matches marked, when it matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub title_highlight: Vec<SnippetPart>,
    /// Up to 160 characters of the text around the first match, matches marked.
    pub snippet: Vec<SnippetPart>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(value_type = Object)]
    pub link: serde_json::Value,
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Matches in all, before paging (every kind the filters allow).
    pub total: u64,
    /// Matches per kind for the query and every filter but the kind.
    pub facets: BTreeMap<SearchKind, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_reads_words_phrases_and_a_prefix() {
        let q = QueryText::parse("parcel \"arrived this morning\" refu").unwrap();
        assert_eq!(q.words, ["parcel", "refu"]);
        assert_eq!(q.phrases, ["arrived this morning"]);
        assert!(q.prefix_last);
        assert!(!QueryText::parse("parcel ").unwrap().prefix_last);
        assert!(!QueryText::parse("\"a b\"").unwrap().prefix_last);
        // Field syntax is text like any other.
        assert_eq!(QueryText::parse("tenant:globex").unwrap().words, ["tenant:globex"]);
    }

    #[test]
    fn bad_queries_are_refused() {
        for bad in ["", "   ", "\"\"", "\"open", "a\u{0}b"] {
            assert!(QueryText::parse(bad).is_err(), "{bad:?}");
        }
        assert!(QueryText::parse(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
        assert!(QueryText::parse(&"w ".repeat(MAX_QUERY_WORDS + 1)).is_err());
        assert!(QueryText::parse(&"w ".repeat(MAX_QUERY_WORDS)).is_ok());
        assert!(QueryText::parse(&format!("\"{}\"", "w ".repeat(MAX_QUERY_WORDS))).is_err(), "a phrase's words count");
    }
}
