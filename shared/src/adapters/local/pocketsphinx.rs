//! The local speech engine: PocketSphinx (its Python package, which ships a US English model),
//! with FFmpeg decoding whatever the browser recorded (WebM/Opus, Ogg, MP4/AAC, WAV) to the
//! 16 kHz mono PCM the recogniser takes. Both run as child processes on this machine; nothing
//! leaves it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::ports::transcriber::{Recognised, TranscribeError, Transcriber};

/// Reads 16 kHz mono 16-bit PCM on standard input; writes one JSON object per recognised word.
const RECOGNISE: &str = r#"
import json, sys
from pocketsphinx import Decoder
decoder = Decoder(samprate=16000, loglevel="FATAL")
frame_ms = 1000 // int(decoder.config["frate"])
decoder.start_utt()
while True:
    chunk = sys.stdin.buffer.read(32000)
    if not chunk:
        break
    decoder.process_raw(chunk, full_utt=False)
decoder.end_utt()
for seg in decoder.seg():
    print(json.dumps({"word": seg.word, "start_ms": seg.start_frame * frame_ms, "end_ms": (seg.end_frame + 1) * frame_ms, "prob": seg.prob}))
"#;

#[derive(Deserialize)]
struct Line {
    word: String,
    start_ms: u64,
    end_ms: u64,
    prob: f64,
}

#[derive(Debug, Clone)]
pub struct PocketSphinx {
    /// A Python with the `pocketsphinx` package.
    python: PathBuf,
    ffmpeg: PathBuf,
}

/// A recogniser token that is not a word: sentence marks, silence, fillers and noises.
fn is_word(token: &str) -> bool {
    !(token.starts_with('<') || token.starts_with('[') || token.starts_with("++"))
}

/// `read(2)` is the dictionary's second pronunciation of "read".
fn plain(token: &str) -> &str {
    token.split_once('(').map(|(w, _)| w).unwrap_or(token)
}

impl PocketSphinx {
    pub fn new(python: impl Into<PathBuf>, ffmpeg: impl Into<PathBuf>) -> Self {
        PocketSphinx { python: python.into(), ffmpeg: ffmpeg.into() }
    }

    async fn pcm(&self, audio: &Path) -> Result<Vec<u8>, TranscribeError> {
        let out = Command::new(&self.ffmpeg)
            .args(["-nostdin", "-loglevel", "error", "-i"])
            .arg(audio)
            .args(["-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| TranscribeError::NotConfigured(format!("cannot run {}: {e}", self.ffmpeg.display())))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            return Err(TranscribeError::Unreadable(why.lines().last().unwrap_or("ffmpeg failed").to_string()));
        }
        Ok(out.stdout)
    }
}

#[async_trait]
impl Transcriber for PocketSphinx {
    async fn transcribe(&self, audio: &Path, language: &str) -> Result<Vec<Recognised>, TranscribeError> {
        if !language.to_ascii_lowercase().starts_with("en") {
            return Err(TranscribeError::UnsupportedLanguage(format!("the local engine's model is English; {language} is not available")));
        }
        let pcm = self.pcm(audio).await?;
        let mut child = Command::new(&self.python)
            .args(["-c", RECOGNISE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TranscribeError::NotConfigured(format!("cannot run {}: {e}", self.python.display())))?;
        let mut stdin = child.stdin.take().expect("piped");
        let feed = tokio::spawn(async move {
            let _ = stdin.write_all(&pcm).await;
        });
        let out = child.wait_with_output().await.map_err(|e| TranscribeError::Engine(e.to_string()))?;
        let _ = feed.await;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            if why.contains("No module named 'pocketsphinx'") {
                return Err(TranscribeError::NotConfigured(format!("{} has no pocketsphinx package", self.python.display())));
            }
            return Err(TranscribeError::Engine(why.lines().last().unwrap_or("pocketsphinx failed").to_string()));
        }
        let mut words = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()) {
            let l: Line = serde_json::from_str(line).map_err(|e| TranscribeError::Engine(format!("unexpected output {line:?}: {e}")))?;
            if is_word(&l.word) {
                words.push(Recognised {
                    text: plain(&l.word).to_string(),
                    start_ms: l.start_ms,
                    end_ms: l.end_ms.max(l.start_ms),
                    confidence: l.prob.clamp(0.0, 1.0) as f32,
                });
            }
        }
        Ok(words)
    }
}

/// A transcript of several tracks, one per speaker, each transcribed apart and merged in time
/// order: the words of a track are its speaker's by construction.
pub async fn transcribe_tracks(
    engine: &dyn Transcriber,
    tracks: &[(String, PathBuf)],
    language: &str,
) -> Result<crate::transcript::Transcript, TranscribeError> {
    let mut words = Vec::new();
    for (speaker, path) in tracks {
        for w in engine.transcribe(path, language).await? {
            words.push(crate::transcript::Word {
                speaker: speaker.clone(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
                text: w.text,
                confidence: w.confidence,
                punctuation: false,
                language: None,
            });
        }
    }
    words.sort_by_key(|w| w.start_ms);
    Ok(crate::transcript::Transcript::from_words(words, Some(language.to_string()), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_words_are_kept_and_variants_read_as_the_word() {
        for token in ["<s>", "</s>", "<sil>", "[NOISE]", "++UH++"] {
            assert!(!is_word(token), "{token}");
        }
        assert!(is_word("parcel"));
        assert_eq!(plain("an(2)"), "an");
        assert_eq!(plain("crushed"), "crushed");
    }
}
