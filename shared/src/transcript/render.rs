//! Transcript exports: plain text, SubRip (SRT), WebVTT and JSON, with speakers named.

use std::fmt::Write;

use super::{SpeakerNames, Transcript};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Txt,
    Srt,
    Vtt,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "txt" => Some(Format::Txt),
            "srt" => Some(Format::Srt),
            "vtt" => Some(Format::Vtt),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Txt => "text/plain; charset=utf-8",
            Format::Srt => "application/x-subrip; charset=utf-8",
            Format::Vtt => "text/vtt; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// `HH:MM:SS` + the millisecond separator and digits subtitle formats want.
fn clock(ms: u64, separator: char) -> String {
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{milli:03}")
}

/// Text a cue may carry: no blank lines (they end a cue) and, in WebVTT, no `-->`.
fn cue_text(text: &str) -> String {
    text.replace("-->", "→").lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

/// WebVTT voice names may not contain `>` and are escaped like text.
fn escape_vtt(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn render(t: &Transcript, names: &SpeakerNames, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Txt => {
            for turn in &t.turns {
                let _ = writeln!(out, "[{}] {}: {}", &clock(turn.start_ms, '.')[..8], names.name(t, &turn.speaker), turn.text);
            }
        }
        Format::Srt => {
            for (i, turn) in t.turns.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}\n{} --> {}\n{}: {}\n\n",
                    i + 1,
                    clock(turn.start_ms, ','),
                    clock(turn.end_ms.max(turn.start_ms + 1), ','),
                    names.name(t, &turn.speaker),
                    cue_text(&turn.text)
                );
            }
        }
        Format::Vtt => {
            out.push_str("WEBVTT\n\n");
            for turn in &t.turns {
                let _ = write!(
                    out,
                    "{} --> {}\n<v {}>{}\n\n",
                    clock(turn.start_ms, '.'),
                    clock(turn.end_ms.max(turn.start_ms + 1), '.'),
                    escape_vtt(&names.name(t, &turn.speaker)),
                    escape_vtt(&cue_text(&turn.text))
                );
            }
        }
        Format::Json => {
            let turns: Vec<_> = t
                .turns
                .iter()
                .map(|turn| {
                    serde_json::json!({
                        "speaker": names.name(t, &turn.speaker),
                        "speaker_label": turn.speaker,
                        "start_ms": turn.start_ms,
                        "end_ms": turn.end_ms,
                        "text": turn.text,
                        "confidence": turn.confidence,
                        "language": turn.language,
                    })
                })
                .collect();
            out = serde_json::to_string_pretty(&serde_json::json!({ "language": t.language, "redacted": t.redacted, "turns": turns }))
                .unwrap_or_default();
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Turn;

    fn sample() -> Transcript {
        let turn = |speaker: &str, start_ms, end_ms, text: &str| Turn {
            speaker: speaker.into(),
            start_ms,
            end_ms,
            text: text.into(),
            confidence: 0.9,
            language: None,
        };
        Transcript {
            language: Some("en-US".into()),
            speakers: vec!["spk_0".into(), "spk_1".into()],
            turns: vec![turn("spk_0", 490, 7_200, "Hello --> there."), turn("spk_1", 3_661_005, 3_662_000, "<b>Hi</b>")],
            redacted: false,
        }
    }

    #[test]
    fn each_format_reads_as_its_tools_expect() {
        let t = sample();
        let names = SpeakerNames::new([("spk_0".to_string(), "Ann Agent".to_string())]);
        assert_eq!(render(&t, &names, Format::Txt), "[00:00:00] Ann Agent: Hello --> there.\n[01:01:01] Speaker 2: <b>Hi</b>\n");
        assert_eq!(
            render(&t, &names, Format::Srt),
            "1\n00:00:00,490 --> 00:00:07,200\nAnn Agent: Hello → there.\n\n2\n01:01:01,005 --> 01:01:02,000\nSpeaker 2: <b>Hi</b>\n\n"
        );
        let vtt = render(&t, &names, Format::Vtt);
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.490 --> 00:00:07.200\n<v Ann Agent>Hello → there.\n\n"), "{vtt}");
        assert!(vtt.contains("<v Speaker 2>&lt;b&gt;Hi&lt;/b&gt;"));
        let json: serde_json::Value = serde_json::from_str(&render(&t, &names, Format::Json)).unwrap();
        assert_eq!(json["turns"][1]["speaker"], "Speaker 2");
        assert_eq!(json["turns"][0]["start_ms"], 490);
    }
}
