//! Transcripts: speaker turns read from a speech engine's output (Amazon Transcribe's JSON, the
//! local engine's per-track words), named after the session's participants where the recording
//! tells who spoke, and rendered as text, SRT, WebVTT or JSON.

pub mod render;
pub mod transcribe;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One speaker's uninterrupted stretch of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Turn {
    /// The engine's label for the speaker (`spk_0`, `ch_1`, a participant's track).
    pub speaker: String,
    /// Milliseconds from the start of the recording.
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Mean confidence of the turn's words, 0 to 1.
    pub confidence: f32,
    /// The turn's language where the engine says (several languages in one recording).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transcript {
    /// The recording's main language, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Speaker labels in the order they first speak.
    pub speakers: Vec<String>,
    pub turns: Vec<Turn>,
    /// Personal information was replaced by `[PII]`.
    #[serde(default)]
    pub redacted: bool,
}

/// Display names of speakers: a participant's name where the recording tells who spoke,
/// otherwise "Speaker 1", "Speaker 2", … in the order they first speak.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpeakerNames(HashMap<String, String>);

impl SpeakerNames {
    pub fn new(names: impl IntoIterator<Item = (String, String)>) -> Self {
        SpeakerNames(names.into_iter().collect())
    }

    pub fn name(&self, transcript: &Transcript, label: &str) -> String {
        if let Some(name) = self.0.get(label) {
            return name.clone();
        }
        let n = transcript.speakers.iter().position(|s| s == label).map(|i| i + 1).unwrap_or(transcript.speakers.len() + 1);
        format!("Speaker {n}")
    }
}

impl Transcript {
    /// Builds turns from words in time order: a new turn at each change of speaker (or
    /// language), after a pause longer than [`TURN_PAUSE_MS`], and at the first sentence end
    /// once a turn lasts [`TURN_SPLIT_MS`].
    pub fn from_words(words: Vec<Word>, language: Option<String>, redacted: bool) -> Transcript {
        let mut turns: Vec<Turn> = Vec::new();
        let mut speakers: Vec<String> = Vec::new();
        let mut confidences: Vec<(f32, usize)> = Vec::new();
        for w in words {
            if !speakers.contains(&w.speaker) && !w.punctuation {
                speakers.push(w.speaker.clone());
            }
            let continues = turns.last().is_some_and(|t| {
                let long_sentence_done = t.end_ms - t.start_ms >= TURN_SPLIT_MS && t.text.ends_with(['.', '?', '!']);
                t.speaker == w.speaker
                    && (w.punctuation || (w.start_ms <= t.end_ms + TURN_PAUSE_MS && t.language == w.language && !long_sentence_done))
            });
            if continues {
                let t = turns.last_mut().expect("a turn");
                let c = confidences.last_mut().expect("its confidence");
                if w.punctuation {
                    t.text.push_str(&w.text);
                } else {
                    t.text.push(' ');
                    t.text.push_str(&w.text);
                    t.end_ms = t.end_ms.max(w.end_ms);
                    c.0 += w.confidence;
                    c.1 += 1;
                }
            } else if !w.punctuation {
                turns.push(Turn {
                    speaker: w.speaker,
                    start_ms: w.start_ms,
                    end_ms: w.end_ms,
                    text: w.text,
                    confidence: 0.0,
                    language: w.language,
                });
                confidences.push((w.confidence, 1));
            }
        }
        for (t, (sum, n)) in turns.iter_mut().zip(confidences) {
            t.confidence = if n == 0 { 0.0 } else { ((sum / n as f32) * 1000.0).round() / 1000.0 };
        }
        Transcript { language, speakers, turns, redacted }
    }
}

/// A pause after which the same speaker starts a new turn.
pub const TURN_PAUSE_MS: u64 = 3_000;
/// A turn this long ends with its current sentence (subtitles stay readable, seeking stays fine).
pub const TURN_SPLIT_MS: u64 = 20_000;

/// One recognised word (or punctuation mark, which has no time of its own).
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub speaker: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub confidence: f32,
    pub punctuation: bool,
    pub language: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TranscriptError {
    #[error("not a transcript: {0}")]
    Malformed(String),
    #[error("the transcription job did not complete (status {0})")]
    NotCompleted(String),
}
