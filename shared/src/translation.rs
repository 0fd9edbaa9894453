//! Translating many texts (a transcript's turns) with as few service calls as its size limit
//! allows, each text's translation mapped back to it exactly. Texts are packed one per line; a
//! batch whose answer does not come back with the same number of lines is translated again text
//! by text, so a service that merges or splits lines costs calls, never correctness. A text
//! larger than one call is split at sentence ends (or, failing those, at spaces).

use crate::ports::translator::{TranslateError, Translator};

/// Batches of text indexes, in order, each fitting `max_bytes` when joined by newlines.
/// Texts over the limit stand alone (they are split when translated).
pub fn pack(texts: &[String], max_bytes: usize) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut size = 0usize;
    for (i, text) in texts.iter().enumerate() {
        let len = text.len();
        let fits = batches.last().is_some_and(|b| !b.is_empty() && size + 1 + len <= max_bytes && len <= max_bytes);
        if fits {
            batches.last_mut().expect("a batch").push(i);
            size += 1 + len;
        } else {
            batches.push(vec![i]);
            size = len;
        }
    }
    batches
}

/// Pieces of `text`, each at most `max_bytes`, cut after sentence ends where possible.
pub fn split(text: &str, max_bytes: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while rest.len() > max_bytes {
        let mut cut = max_bytes;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let window = &rest[..cut];
        let at = window
            .rfind(['.', '?', '!'])
            .map(|i| i + 1)
            .filter(|&i| i > max_bytes / 4)
            .or_else(|| window.rfind(' ').filter(|&i| i > 0))
            .unwrap_or(cut);
        pieces.push(rest[..at].trim().to_string());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// One line per text: line breaks inside a text become spaces (a turn is one line of speech).
fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Translates every text, in order. Returns the translations and the number of calls made.
pub async fn translate_all(
    translator: &dyn Translator,
    texts: &[String],
    source: Option<&str>,
    target: &str,
) -> Result<(Vec<String>, usize), TranslateError> {
    let max = translator.max_bytes();
    let lines: Vec<String> = texts.iter().map(|t| one_line(t)).collect();
    let mut out = vec![String::new(); lines.len()];
    let mut calls = 0usize;
    for batch in pack(&lines, max) {
        if batch.len() == 1 {
            let i = batch[0];
            let mut parts = Vec::new();
            for piece in split(&lines[i], max) {
                parts.push(translator.translate(&piece, source, target).await?);
                calls += 1;
            }
            out[i] = parts.join(" ");
            continue;
        }
        let joined = batch.iter().map(|&i| lines[i].as_str()).collect::<Vec<_>>().join("\n");
        let answer = translator.translate(&joined, source, target).await?;
        calls += 1;
        let answered: Vec<&str> = answer.split('\n').collect();
        if answered.len() == batch.len() {
            for (&i, text) in batch.iter().zip(answered) {
                out[i] = text.trim().to_string();
            }
        } else {
            tracing::info!(
                sent = batch.len(),
                received = answered.len(),
                "translation changed the line count; translating the batch one by one"
            );
            for &i in &batch {
                out[i] = translator.translate(&lines[i], source, target).await?;
                calls += 1;
            }
        }
    }
    Ok((out, calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fill_up_to_the_limit_and_keep_the_order() {
        let texts: Vec<String> = ["aaaa", "bbb", "cc", "dddddddddd", "e"].iter().map(|s| s.to_string()).collect();
        assert_eq!(pack(&texts, 10), vec![vec![0, 1], vec![2], vec![3], vec![4]]);
        assert_eq!(pack(&texts, 100), vec![vec![0, 1, 2, 3, 4]]);
        assert!(pack(&[], 10).is_empty());
    }

    #[test]
    fn long_texts_split_after_sentences_and_within_the_limit() {
        let text = "One sentence here. Another one follows. And a third, rather longer, sentence ends it.";
        let pieces = split(text, 40);
        assert!(pieces.iter().all(|p| p.len() <= 40), "{pieces:?}");
        assert_eq!(pieces[0], "One sentence here. Another one follows.");
        assert_eq!(pieces.join(" "), text);
        let words = "ünïcödé ".repeat(20);
        assert!(split(&words, 25).iter().all(|p| p.len() <= 25 && !p.is_empty()));
    }
}
