//! Amazon Transcribe's batch output JSON → a [`Transcript`]. Reads every variant Transcribe
//! writes: speakers per item (`speaker_label`, newer outputs) or per segment
//! (`speaker_labels.segments`, older ones), channels per item (`channel_label`) or per channel
//! (`channel_labels.channels[].items`), alternatives (the first is Transcribe's best), redacted
//! content (`[PII]`, `redactions`), vocabulary-filtered words (`***`, `vocabulary_filter_match`),
//! and several languages in one recording (`language_code` per item, `language_identification`).

use std::collections::HashMap;

use serde::de::Deserializer;
use serde::Deserialize;

use super::{Transcript, TranscriptError, Word};

/// A time or confidence: Transcribe writes them as strings ("0.49"), newer tools as numbers.
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        F(f64),
    }
    Ok(match Option::<N>::deserialize(d)? {
        None => None,
        Some(N::F(f)) => Some(f),
        Some(N::S(s)) => Some(s.trim().parse::<f64>().map_err(|_| serde::de::Error::custom(format!("not a number: {s:?}")))?),
    })
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "isRedacted")]
    is_redacted: Option<bool>,
    results: Results,
}

#[derive(Deserialize)]
struct Results {
    #[serde(default)]
    items: Vec<Item>,
    #[serde(default)]
    speaker_labels: Option<SpeakerLabels>,
    #[serde(default)]
    channel_labels: Option<ChannelLabels>,
    #[serde(default)]
    language_code: Option<String>,
    #[serde(default)]
    language_identification: Vec<LanguageScore>,
}

#[derive(Deserialize, Clone)]
struct Item {
    #[serde(default, deserialize_with = "number")]
    start_time: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    end_time: Option<f64>,
    alternatives: Vec<Alternative>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    speaker_label: Option<String>,
    #[serde(default)]
    channel_label: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

#[derive(Deserialize, Clone)]
struct Alternative {
    content: String,
    #[serde(default, deserialize_with = "number")]
    confidence: Option<f64>,
    #[serde(default)]
    redactions: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct SpeakerLabels {
    #[serde(default)]
    segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct Segment {
    speaker_label: String,
    #[serde(default)]
    items: Vec<SegmentItem>,
}

#[derive(Deserialize)]
struct SegmentItem {
    #[serde(default, deserialize_with = "number")]
    start_time: Option<f64>,
    #[serde(default)]
    speaker_label: Option<String>,
}

#[derive(Deserialize)]
struct ChannelLabels {
    #[serde(default)]
    channels: Vec<Channel>,
}

#[derive(Deserialize)]
struct Channel {
    channel_label: String,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct LanguageScore {
    code: String,
    #[serde(default, deserialize_with = "number")]
    score: Option<f64>,
}

fn ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round().max(0.0) as u64
}

/// The label used when the output says nothing of who spoke.
pub const SINGLE_SPEAKER: &str = "spk_0";

/// Words of `items`, each with the speaker `speaker_of` gives it; punctuation takes the time of
/// the word before it.
fn words(items: &[Item], speaker_of: impl Fn(&Item) -> String, redacted: &mut bool) -> Result<Vec<Word>, TranscriptError> {
    let mut out: Vec<Word> = Vec::with_capacity(items.len());
    for item in items {
        let best = item.alternatives.first().ok_or_else(|| TranscriptError::Malformed("an item without alternatives".into()))?;
        if !best.redactions.is_empty() || best.content == "[PII]" {
            *redacted = true;
        }
        let punctuation = item.kind == "punctuation";
        let (start, end) = if punctuation {
            // The time of the word it follows, so merging channels by time keeps them together.
            out.last().map(|w| (w.start_ms, w.end_ms)).unwrap_or((0, 0))
        } else {
            let start = item.start_time.ok_or_else(|| TranscriptError::Malformed("a word without start_time".into()))?;
            let end = item.end_time.unwrap_or(start);
            (ms(start), ms(end.max(start)))
        };
        let speaker = match (punctuation, out.last()) {
            // Punctuation belongs to the word it follows.
            (true, Some(prev)) => prev.speaker.clone(),
            _ => speaker_of(item),
        };
        out.push(Word {
            speaker,
            start_ms: start,
            end_ms: end,
            text: best.content.clone(),
            confidence: best.confidence.unwrap_or(0.0) as f32,
            punctuation,
            language: item.language_code.clone(),
        });
    }
    Ok(out)
}

/// Parses a Transcribe output document.
pub fn parse(json: &[u8]) -> Result<Transcript, TranscriptError> {
    let output: Output = serde_json::from_slice(json).map_err(|e| TranscriptError::Malformed(e.to_string()))?;
    if let Some(status) = output.status.as_deref() {
        if status != "COMPLETED" {
            return Err(TranscriptError::NotCompleted(status.to_string()));
        }
    }
    let r = output.results;
    let mut redacted = output.is_redacted.unwrap_or(false);
    let language = r.language_code.clone().or_else(|| {
        r.language_identification.iter().max_by(|a, b| a.score.unwrap_or(0.0).total_cmp(&b.score.unwrap_or(0.0))).map(|l| l.code.clone())
    });
    let per_item_channels = r.items.iter().any(|i| i.channel_label.is_some());
    let per_item_speakers = r.items.iter().any(|i| i.speaker_label.is_some());
    let words = if per_item_channels {
        words(&r.items, |i| i.channel_label.clone().unwrap_or_else(|| "ch_0".into()), &mut redacted)?
    } else if let Some(channels) = r.channel_labels.as_ref().filter(|c| c.channels.iter().any(|ch| !ch.items.is_empty())) {
        // Older channel outputs: each channel's own items; merged in time order.
        let mut all = Vec::new();
        for ch in &channels.channels {
            all.extend(words(&ch.items, |_| ch.channel_label.clone(), &mut redacted)?);
        }
        all.sort_by_key(|w| w.start_ms);
        all
    } else if per_item_speakers {
        words(&r.items, |i| i.speaker_label.clone().unwrap_or_else(|| SINGLE_SPEAKER.into()), &mut redacted)?
    } else if let Some(labels) = r.speaker_labels.as_ref().filter(|l| !l.segments.is_empty()) {
        // Older speaker outputs: segments name the speaker of each word by its start time.
        let mut by_start: HashMap<u64, &str> = HashMap::new();
        for seg in &labels.segments {
            for it in &seg.items {
                if let Some(start) = it.start_time {
                    by_start.insert(ms(start), it.speaker_label.as_deref().unwrap_or(&seg.speaker_label));
                }
            }
        }
        words(
            &r.items,
            |i| i.start_time.and_then(|s| by_start.get(&ms(s))).map(|s| s.to_string()).unwrap_or_else(|| SINGLE_SPEAKER.into()),
            &mut redacted,
        )?
    } else {
        words(&r.items, |_| SINGLE_SPEAKER.into(), &mut redacted)?
    };
    Ok(Transcript::from_words(words, language, redacted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(start: &str, end: &str, word: &str, extra: &str) -> String {
        format!(
            r#"{{"start_time":"{start}","end_time":"{end}","alternatives":[{{"confidence":"0.9","content":"{word}"}}],"type":"pronunciation"{extra}}}"#
        )
    }
    fn punct(p: &str) -> String {
        format!(r#"{{"alternatives":[{{"confidence":"0.0","content":"{p}"}}],"type":"punctuation"}}"#)
    }

    #[test]
    fn newer_outputs_name_the_speaker_on_each_item() {
        let items = [
            item("0.1", "0.4", "Hello", r#","speaker_label":"spk_0""#),
            punct(","),
            item("0.5", "0.9", "Ann", r#","speaker_label":"spk_0""#),
            punct("."),
            item("1.2", "1.5", "Hi", r#","speaker_label":"spk_1""#),
        ];
        let json = format!(r#"{{"status":"COMPLETED","results":{{"language_code":"en-US","items":[{}]}}}}"#, items.join(","));
        let t = parse(json.as_bytes()).unwrap();
        assert_eq!(t.speakers, ["spk_0", "spk_1"]);
        assert_eq!(t.turns.len(), 2);
        assert_eq!((t.turns[0].text.as_str(), t.turns[0].start_ms, t.turns[0].end_ms), ("Hello, Ann.", 100, 900));
        assert_eq!(t.turns[0].confidence, 0.9);
        assert_eq!(t.turns[1].text, "Hi");
        assert_eq!(t.language.as_deref(), Some("en-US"));
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        assert!(matches!(parse(b"{}"), Err(TranscriptError::Malformed(_))));
        assert!(matches!(
            parse(br#"{"results":{"items":[{"type":"pronunciation","alternatives":[]}]}}"#),
            Err(TranscriptError::Malformed(_))
        ));
        assert!(matches!(parse(br#"{"status":"FAILED","results":{"items":[]}}"#), Err(TranscriptError::NotCompleted(_))));
        assert!(matches!(
            parse(br#"{"results":{"items":[{"start_time":"x","type":"pronunciation","alternatives":[{"content":"a"}]}]}}"#),
            Err(TranscriptError::Malformed(_))
        ));
        let truncated = br#"{"status":"COMPLETED","results":{"items":[{"start_time":"0.1","#;
        assert!(matches!(parse(truncated), Err(TranscriptError::Malformed(_))));
    }
}
