//! Transcribe outputs → speaker turns, on fixtures of our own in every variant Transcribe writes
//! (tests/fixtures/transcribe): speakers per segment and per item, channels per channel and per
//! item, alternatives, redaction, vocabulary filtering, several languages, an unfinished job;
//! then truncated and foreign documents, and each export format.

use confer::transcript::render::{render, Format};
use confer::transcript::transcribe::parse;
use confer::transcript::{SpeakerNames, Transcript, TranscriptError};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/transcribe").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parsed(name: &str) -> Transcript {
    parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn lines(t: &Transcript) -> Vec<(String, String)> {
    t.turns.iter().map(|x| (x.speaker.clone(), x.text.clone())).collect()
}

const CONVERSATION: [&str; 4] = [
    "Thanks for calling Acme support. How can I help you today?",
    "Hi, my parcel arrived damaged. The box was crushed.",
    "I am sorry to hear that. Could you send me a photo of it?",
    "Sure, I will send it now.",
];

#[test]
fn speakers_and_channels_come_out_the_same_in_every_layout() {
    for (file, a, b) in [
        ("speakers-segments.json", "spk_0", "spk_1"),
        ("speakers-items.json", "spk_0", "spk_1"),
        ("channels-per-channel.json", "ch_0", "ch_1"),
        ("channels-items.json", "ch_0", "ch_1"),
    ] {
        let t = parsed(file);
        let expected: Vec<(String, String)> =
            CONVERSATION.iter().enumerate().map(|(i, text)| ((if i % 2 == 0 { a } else { b }).to_string(), text.to_string())).collect();
        assert_eq!(lines(&t), expected, "{file}");
        assert_eq!(t.speakers, [a, b], "{file}");
        assert_eq!(t.language.as_deref(), Some("en-US"), "{file}");
        assert_eq!((t.turns[0].start_ms, t.turns[0].end_ms), (400, 4200), "{file}");
        assert!(t.turns.windows(2).all(|w| w[0].end_ms <= w[1].start_ms), "{file}: turns in time order");
        assert!(t.turns.iter().all(|x| (x.confidence - 0.987).abs() < 1e-3), "{file}");
    }
}

#[test]
fn without_speaker_information_everything_is_one_speaker() {
    let t = parsed("plain.json");
    assert_eq!(t.turns.len(), 1);
    assert_eq!(t.turns[0].text, CONVERSATION.join(" "));
    assert_eq!(SpeakerNames::default().name(&t, &t.turns[0].speaker), "Speaker 1");
}

#[test]
fn the_best_alternative_redactions_and_masked_words_are_kept_as_transcribed() {
    let t = parsed("alternatives.json");
    assert_eq!(t.turns[1].text, CONVERSATION[1], "the first alternative is Transcribe's best");
    let t = parsed("redacted.json");
    assert!(t.redacted);
    assert_eq!(lines(&t), [("spk_0".into(), "May I have your card number?".into()), ("spk_1".to_string(), "It is [PII].".to_string())]);
    let t = parsed("vocabulary-filter.json");
    assert_eq!(t.turns[0].text, "This is a *** mess.");
    assert!(!t.redacted);
}

#[test]
fn each_turn_keeps_its_language() {
    let t = parsed("multiple-languages.json");
    let languages: Vec<_> = t.turns.iter().map(|x| x.language.as_deref().unwrap_or("-")).collect();
    assert_eq!(languages, ["en-US", "es-US", "es-US"]);
    assert_eq!(t.language.as_deref(), Some("es-US"), "the identified language with the highest score");
    assert_eq!(t.turns[1].text, "Sí, por favor.");
}

#[test]
fn unfinished_truncated_and_foreign_documents_are_refused() {
    assert_eq!(parse(&fixture("in-progress.json")), Err(TranscriptError::NotCompleted("IN_PROGRESS".into())));
    let whole = fixture("speakers-items.json");
    assert!(matches!(parse(&whole[..whole.len() / 2]), Err(TranscriptError::Malformed(_))));
    let event = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/calls-chime-events.json")).unwrap();
    assert!(matches!(parse(&event), Err(TranscriptError::Malformed(_))), "a Chime event is not a transcript");
    assert!(matches!(parse(b"[1,2,3]"), Err(TranscriptError::Malformed(_))));
    assert!(matches!(parse(b""), Err(TranscriptError::Malformed(_))));
}

#[test]
fn exports_name_the_speakers_in_every_format() {
    let t = parsed("speakers-items.json");
    let names = SpeakerNames::new([("spk_0".to_string(), "Ann (agent)".to_string()), ("spk_1".to_string(), "Ada Lovelace".to_string())]);
    let txt = render(&t, &names, Format::Txt);
    assert_eq!(txt.lines().next(), Some("[00:00:00] Ann (agent): Thanks for calling Acme support. How can I help you today?"));
    let srt = render(&t, &names, Format::Srt);
    assert_eq!(srt.matches(" --> ").count(), 4);
    assert!(srt.starts_with("1\n00:00:00,400 --> 00:00:04,200\nAnn (agent): Thanks"), "{srt}");
    let vtt = render(&t, &names, Format::Vtt);
    assert!(vtt.starts_with("WEBVTT\n\n00:00:00.400 --> 00:00:04.200\n<v Ann (agent)>Thanks"), "{vtt}");
    assert!(vtt.contains("<v Ada Lovelace>Hi, my parcel"));
    let json: serde_json::Value = serde_json::from_str(&render(&t, &names, Format::Json)).unwrap();
    assert_eq!(json["turns"].as_array().unwrap().len(), 4);
    assert_eq!((json["turns"][1]["speaker"].as_str(), json["turns"][1]["speaker_label"].as_str()), (Some("Ada Lovelace"), Some("spk_1")));
}
