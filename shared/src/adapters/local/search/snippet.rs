//! Snippets: the part of a text around its first match, each matching word marked. Built from
//! the query's own matchers, so words found by a prefix or within a typo are marked too.

use tantivy::tokenizer::TextAnalyzer;

use super::query::Matcher;
use crate::domain::search::SnippetPart;

/// Byte ranges of the words of `text` any matcher matches.
fn hits(analyzer: &mut TextAnalyzer, text: &str, matchers: &[Matcher]) -> Vec<(usize, usize)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        if matchers.iter().any(|m| m.matches(&t.text)) {
            out.push((t.offset_from, t.offset_to));
        }
    }
    out
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Up to `max_chars` characters of `text` starting a little before its first match (or its
/// start), cut at spaces where it can be, with `…` where text was left out.
pub fn snippet(analyzer: &mut TextAnalyzer, text: &str, matchers: &[Matcher], max_chars: usize) -> Vec<SnippetPart> {
    let found = hits(analyzer, text, matchers);
    let lead = max_chars / 4;
    let mut start = found.first().map_or(0, |&(from, _)| floor_boundary(text, from.saturating_sub(lead * 4)));
    // At most `lead` characters before the match, starting at a word.
    if let Some(&(from, _)) = found.first() {
        let before: Vec<(usize, char)> = text[start..from].char_indices().collect();
        if before.len() > lead {
            start += before[before.len() - lead].0;
        }
        if start > 0 {
            if let Some(space) = text[start..from].find(char::is_whitespace) {
                start += space + 1;
            }
        }
    }
    let end = text[start..].char_indices().nth(max_chars).map_or(text.len(), |(i, _)| start + i);
    let end = if end < text.len() { text[start..end].rfind(char::is_whitespace).map_or(end, |s| start + s) } else { end };
    let mut parts = Vec::new();
    let mut push = |s: &str, hit: bool| {
        if s.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(SnippetPart { text, hit: h }) if *h == hit => text.push_str(s),
            _ => parts.push(SnippetPart { text: s.to_string(), hit }),
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for &(from, to) in found.iter().filter(|&&(from, to)| from >= start && to <= end) {
        push(&text[at..from], false);
        push(&text[from..to], true);
        at = to;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push("…", false);
    }
    parts
}

/// The whole of a short text with its matches marked; empty when nothing matched.
pub fn marked(analyzer: &mut TextAnalyzer, text: &str, matchers: &[Matcher]) -> Vec<SnippetPart> {
    if hits(analyzer, text, matchers).is_empty() {
        return Vec::new();
    }
    snippet(analyzer, text, matchers, usize::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::search::schema::analyzer;

    fn render(parts: &[SnippetPart]) -> String {
        parts.iter().map(|p| if p.hit { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    #[test]
    fn matches_are_marked_around_the_first() {
        let mut a = analyzer();
        let m = [Matcher::Word { token: "parcel".into(), distance: 1 }, Matcher::Prefix("arr".into())];
        let text = "Hello! The parcle arrived this morning, and the box was crushed.";
        assert_eq!(render(&snippet(&mut a, text, &m, 160)), "Hello! The [parcle] [arrived] this morning, and the box was crushed.");
        let long = format!("{} the parcel came {}", "word ".repeat(100), "after ".repeat(100));
        let s = render(&snippet(&mut a, &long, &m, 60));
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("[parcel]"), "{s}");
        assert!(s.chars().count() <= 62, "{s}");
        assert!(marked(&mut a, "Opening hours", &m).is_empty());
        assert_eq!(render(&marked(&mut a, "Café Parcel", &m)), "Café [Parcel]");
    }
}
