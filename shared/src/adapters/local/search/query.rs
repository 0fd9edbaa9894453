//! A [`SearchRequest`] as a tantivy query. Built term by term from the request: the scope's
//! tenant and reader are always required, and nothing the user typed is parsed as query syntax.

use std::ops::Bound;

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

use super::schema::Fields;
use crate::domain::search::{SearchKind, SearchRequest, SearchScope};

/// How a word of the query matches a word of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// The word, or one within `distance` edits of it.
    Word { token: String, distance: u8 },
    /// A word that starts with it (the word being typed).
    Prefix(String),
}

impl Matcher {
    pub fn matches(&self, token: &str) -> bool {
        match self {
            Matcher::Word { token: t, distance } => {
                t == token || (*distance > 0 && strsim::osa_distance(t, token) <= usize::from(*distance))
            }
            Matcher::Prefix(p) => token.starts_with(p.as_str()),
        }
    }
}

/// Typo tolerance: none for short words, one edit from 5 letters, two from 9.
pub fn distance_for(token: &str) -> u8 {
    match token.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(queries.into_iter().map(|q| (Occur::Should, q)).collect()))
}

/// The parts of a query: its required clauses, and the matchers its highlighting uses.
pub struct Built {
    pub text: Vec<Box<dyn Query>>,
    pub filters: Vec<Box<dyn Query>>,
    pub matchers: Vec<Matcher>,
}

/// The query's words and phrases on the title and text fields, and its filters other than kind.
pub fn build(fields: &Fields, analyzer: &mut TextAnalyzer, scope: &SearchScope, request: &SearchRequest) -> Built {
    let mut text: Vec<Box<dyn Query>> = Vec::new();
    let mut matchers = Vec::new();
    let searched = [fields.title, fields.text];
    let last = request.text.words.len().saturating_sub(1);
    for (i, word) in request.text.words.iter().enumerate() {
        let toks = tokens(analyzer, word);
        let count = toks.len();
        for (j, token) in toks.into_iter().enumerate() {
            let prefix = request.text.prefix_last && i == last && j + 1 == count;
            let mut each: Vec<Box<dyn Query>> = Vec::new();
            for field in searched {
                let t = Term::from_field_text(field, &token);
                each.push(Box::new(BoostQuery::new(Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)), 2.0)));
                if prefix {
                    each.push(Box::new(FuzzyTermQuery::new_prefix(t, 0, true)));
                } else if distance_for(&token) > 0 {
                    each.push(Box::new(FuzzyTermQuery::new(t, distance_for(&token), true)));
                }
            }
            text.push(any_of(each));
            matchers.push(if prefix { Matcher::Prefix(token) } else { Matcher::Word { distance: distance_for(&token), token } });
        }
    }
    for phrase in &request.text.phrases {
        let toks = tokens(analyzer, phrase);
        let mut each: Vec<Box<dyn Query>> = Vec::new();
        for field in searched {
            match toks.len() {
                0 => {}
                1 => each.push(term(field, &toks[0])),
                _ => each.push(Box::new(PhraseQuery::new(toks.iter().map(|t| Term::from_field_text(field, t)).collect()))),
            }
        }
        if !each.is_empty() {
            text.push(any_of(each));
        }
        matchers.extend(toks.into_iter().map(|token| Matcher::Word { token, distance: 0 }));
    }

    let mut filters = vec![term(fields.tenant, &scope.tenant), term(fields.readers, &scope.reader.term())];
    if let Some(c) = &request.customer_id {
        filters.push(term(fields.customer, c));
    }
    if let Some(s) = &request.session_id {
        filters.push(term(fields.session, s));
    }
    if let Some(s) = &request.speaker {
        filters.push(term(fields.speaker, &s.to_lowercase()));
    }
    if let Some(l) = &request.language {
        filters.push(term(fields.language, &l.to_lowercase()));
    }
    if request.from_ms.is_some() || request.to_ms.is_some() {
        let lower = request.from_ms.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_i64(fields.at, v)));
        let upper = request.to_ms.map_or(Bound::Unbounded, |v| Bound::Excluded(Term::from_field_i64(fields.at, v)));
        filters.push(Box::new(RangeQuery::new(lower, upper)));
    }
    Built { text, filters, matchers }
}

/// Everything required, with `kinds` (one of) when not empty. Filters do not score.
pub fn combine(built: &Built, kinds: &[SearchKind], fields: &Fields) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = built.text.iter().map(|q| (Occur::Must, q.box_clone())).collect();
    for f in &built.filters {
        clauses.push((Occur::Must, Box::new(BoostQuery::new(f.box_clone(), 0.0))));
    }
    if !kinds.is_empty() {
        let of_kind = any_of(kinds.iter().map(|k| term(fields.kind, k.as_str())).collect());
        clauses.push((Occur::Must, Box::new(BoostQuery::new(of_kind, 0.0))));
    }
    Box::new(BooleanQuery::new(clauses))
}
