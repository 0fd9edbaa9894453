//! Transcript benchmark: a one-hour, two-speaker Amazon Transcribe output (made here, in both
//! layouts Transcribe writes: speakers per item, and speakers per segment as older outputs have
//! them) parsed into speaker turns, and the turns rendered to each export format. Prints the
//! median (and range) of `--runs` runs of each.
//!
//! ```text
//! cargo build --profile server -p confer-local --bin confer-transcriptbench
//! target/server/confer-transcriptbench --runs 20
//! ```

use std::time::{Duration, Instant};

use clap::Parser;
use confer::transcript::render::{render, Format};
use confer::transcript::transcribe::parse;
use confer::transcript::SpeakerNames;
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    /// Runs of each measurement.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Minutes of conversation.
    #[arg(long, default_value_t = 60)]
    minutes: u64,
}

const WORDS: &[&str] = &[
    "the", "parcel", "arrived", "this", "morning", "and", "the", "box", "was", "crushed", "could", "you", "send", "a", "photo", "of", "it",
    "please", "we", "will", "replace", "order", "today", "thank", "you",
];

/// Speech at about 150 words a minute, speakers taking turns of 5 to 25 words, a sentence end
/// every 12 words, one word in 40 with three alternatives.
fn output(minutes: u64, per_item_speakers: bool) -> Value {
    let (mut items, mut segments) = (Vec::new(), Vec::new());
    let end_ms = minutes * 60_000;
    let (mut t, mut n, mut speaker) = (500u64, 0usize, 0usize);
    while t < end_ms {
        let turn_words = 5 + (n * 7919) % 21;
        let (label, seg_start) = (format!("spk_{speaker}"), t);
        let mut seg_items = Vec::new();
        for i in 0..turn_words {
            let (start, end) = (t, t + 300);
            let word = WORDS[(n + i) % WORDS.len()];
            let mut alternatives = vec![json!({ "confidence": "0.962", "content": word })];
            if (n + i) % 40 == 0 {
                alternatives.push(json!({ "confidence": "0.021", "content": "partial" }));
                alternatives.push(json!({ "confidence": "0.017", "content": "parcels" }));
            }
            let mut item = json!({
                "start_time": format!("{:.3}", start as f64 / 1000.0),
                "end_time": format!("{:.3}", end as f64 / 1000.0),
                "alternatives": alternatives,
                "type": "pronunciation",
            });
            if per_item_speakers {
                item["speaker_label"] = json!(label);
            }
            seg_items.push(json!({ "start_time": item["start_time"], "end_time": item["end_time"], "speaker_label": label }));
            items.push(item);
            if (n + i) % 12 == 11 || i + 1 == turn_words {
                items.push(json!({ "alternatives": [{ "confidence": "0.0", "content": "." }], "type": "punctuation" }));
            }
            t = end + 100;
        }
        segments.push(json!({ "start_time": format!("{:.3}", seg_start as f64 / 1000.0), "end_time": format!("{:.3}", t as f64 / 1000.0), "speaker_label": label, "items": seg_items }));
        n += turn_words;
        speaker = 1 - speaker;
        t += 600;
    }
    json!({
        "jobName": "confer-bench", "accountId": "123456789012", "status": "COMPLETED",
        "results": { "language_code": "en-US", "transcripts": [{ "transcript": "" }], "speaker_labels": { "speakers": 2, "segments": segments }, "items": items }
    })
}

fn measure(runs: usize, mut f: impl FnMut()) -> (Duration, Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args = Args::parse();
    for (layout, per_item) in [("speakers per item", true), ("speakers per segment", false)] {
        let bytes = serde_json::to_vec(&output(args.minutes, per_item)).expect("json");
        let transcript = parse(&bytes).expect("parses");
        let words = transcript.turns.iter().map(|t| t.text.split(' ').count()).sum::<usize>();
        let (median, low, high) = measure(args.runs, || {
            std::hint::black_box(parse(std::hint::black_box(&bytes)).expect("parses"));
        });
        println!(
            "parse, {layout}: {} min, {:.1} MiB, {words} words, {} turns: median {} ({}–{})",
            args.minutes,
            bytes.len() as f64 / 1048576.0,
            transcript.turns.len(),
            ms(median),
            ms(low),
            ms(high)
        );
        if per_item {
            let names = SpeakerNames::new([("spk_0".to_string(), "Ann".to_string()), ("spk_1".to_string(), "Ada Lovelace".to_string())]);
            for format in [Format::Txt, Format::Srt, Format::Vtt, Format::Json] {
                let size = render(&transcript, &names, format).len();
                let (median, low, high) = measure(args.runs, || {
                    std::hint::black_box(render(&transcript, &names, format));
                });
                println!("render {format:?}: {:.0} KiB: median {} ({}–{})", size as f64 / 1024.0, ms(median), ms(low), ms(high));
            }
            // Translation packs the turns, one per line, under Amazon Translate's 10,000-byte limit.
            let texts: Vec<String> = transcript.turns.iter().map(|t| t.text.clone()).collect();
            let bytes: usize = texts.iter().map(|t| t.len() + 1).sum();
            let batches = confer::translation::pack(&texts, 10_000);
            let calls: usize =
                batches.iter().map(|b| if b.len() == 1 { confer::translation::split(&texts[b[0]], 10_000).len() } else { 1 }).sum();
            let floor = bytes.div_ceil(10_000);
            println!(
                "translate: {} turns, {:.0} KiB: {calls} TranslateText calls (at least {floor} at 10,000 bytes each)",
                texts.len(),
                bytes as f64 / 1024.0
            );
        }
    }
}
