//! The local speech engine end to end: two speakers' sentences spoken by espeak-ng in two voices,
//! each its own track (WAV, and WebM/Opus as Chromium's MediaRecorder writes), transcribed by
//! PocketSphinx on this machine. PocketSphinx recognises synthetic speech only in part, so the
//! test checks what matters: each speaker's words come back under that speaker.
//! Needs `CONFER_SPEECH_PYTHON` (a Python with pocketsphinx; infra/scripts/speech-tools.sh sets
//! it up), espeak-ng and ffmpeg; fails, never skips, without them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use confer::adapters::local::pocketsphinx::{transcribe_tracks, PocketSphinx};
use confer::ports::transcriber::{TranscribeError, Transcriber};
use confer::transcript::SpeakerNames;

const AGENT: &str = "hello this is acme support how can I help you today";
const CUSTOMER: &str = "my parcel arrived damaged and the box was crushed";

fn engine() -> PocketSphinx {
    let python = std::env::var("CONFER_SPEECH_PYTHON").unwrap_or_else(|_| {
        panic!("CONFER_SPEECH_PYTHON is not set: run the tests through infra/scripts/test.sh (infra/scripts/speech-tools.sh installs the engine)")
    });
    PocketSphinx::new(python, "ffmpeg")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (espeak-ng and ffmpeg are installed by infra/scripts/speech-tools.sh)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let wav = dir.join(format!("{name}.wav"));
    run(Command::new("espeak-ng").args(["-v", voice, "-s", "150", "-w"]).arg(&wav).arg(text));
    wav
}

fn words(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).filter(|w| !w.is_empty()).collect()
}

fn overlap(said: &BTreeSet<String>, heard: &str) -> usize {
    words(heard).intersection(said).count()
}

#[tokio::test]
async fn each_speakers_words_come_back_under_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let agent = speak(dir.path(), "agent", "en-us", AGENT);
    let customer_wav = speak(dir.path(), "customer", "en+f3", CUSTOMER);
    // The customer's track as Chromium records it.
    let customer = dir.path().join("customer.webm");
    run(Command::new("ffmpeg").args(["-loglevel", "error", "-i"]).arg(&customer_wav).args(["-c:a", "libopus"]).arg(&customer));

    let engine = engine();
    let tracks = vec![("agent-ann".to_string(), agent), ("cus_ada".to_string(), customer)];
    let transcript = transcribe_tracks(&engine, &tracks, "en-US").await.expect("transcribed");
    let heard =
        |speaker: &str| transcript.turns.iter().filter(|t| t.speaker == speaker).map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
    let (ann, ada) = (heard("agent-ann"), heard("cus_ada"));
    let (agent_words, customer_words) = (words(AGENT), words(CUSTOMER));
    assert!(overlap(&agent_words, &ann) >= 2 && overlap(&agent_words, &ann) > overlap(&customer_words, &ann), "the agent's track: {ann:?}");
    assert!(
        overlap(&customer_words, &ada) >= 2 && overlap(&customer_words, &ada) > overlap(&agent_words, &ada),
        "the customer's track: {ada:?}"
    );
    let names = SpeakerNames::new([("agent-ann".to_string(), "Ann".to_string()), ("cus_ada".to_string(), "Ada Lovelace".to_string())]);
    let text = confer::transcript::render::render(&transcript, &names, confer::transcript::render::Format::Txt);
    assert!(text.contains("Ann: ") && text.contains("Ada Lovelace: "), "{text}");
}

#[tokio::test]
async fn silence_gives_no_words_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let silent = dir.path().join("silent.wav");
    run(Command::new("ffmpeg").args(["-loglevel", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2"]).arg(&silent));
    let engine = engine();
    assert_eq!(engine.transcribe(&silent, "en-US").await, Ok(vec![]));

    let corrupt = dir.path().join("corrupt.webm");
    std::fs::write(&corrupt, b"\x1aE\xdf\xa3 this is not a recording").unwrap();
    assert!(matches!(engine.transcribe(&corrupt, "en-US").await, Err(TranscribeError::Unreadable(_))));
    assert!(matches!(engine.transcribe(&silent, "de-DE").await, Err(TranscribeError::UnsupportedLanguage(_))));
    let missing = PocketSphinx::new("/nonexistent/python", "ffmpeg");
    assert!(matches!(missing.transcribe(&silent, "en-US").await, Err(TranscribeError::NotConfigured(_))));
}
