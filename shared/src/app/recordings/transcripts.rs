//! Reading a recording's transcript: turns with speakers named, paged; in the reader's
//! language (translated once, stored, reused); exported as text, SRT, WebVTT or JSON; and
//! speakers named by an agent where the recording does not tell who spoke.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::read::readable;
use super::store::{Recordings, StoredRecording, TranscriptHeader};
use crate::app::App;
use crate::domain::recording::{valid_language, TranscriptStatus};
use crate::domain::{ParticipantRef, Principal, RecordingId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::transcript::render::{render, Format};
use crate::transcript::{SpeakerNames, Transcript, Turn};

pub const DEFAULT_TURNS: usize = 200;
pub const MAX_TURNS: usize = 500;
pub const MAX_SPEAKER_NAME: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Speaker {
    /// The engine's label (`spk_0`, `ch_1`, a participant's track `agent.ann`).
    pub label: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<ParticipantRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TurnView {
    pub index: usize,
    pub speaker: String,
    pub name: String,
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub confidence: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TranscriptPage {
    #[schema(value_type = crate::domain::RecordingId)]
    pub recording_id: String,
    /// The recording's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The language of these turns' text: the recording's, or the translation asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub redacted: bool,
    pub speakers: Vec<Speaker>,
    pub turns: Vec<TurnView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::http::openapi::Cursor>)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeakerNamesPatch {
    /// Label → name; an empty name gives the label its default back.
    pub speakers: BTreeMap<String, String>,
}

fn names_of(stored: &StoredRecording, header: &TranscriptHeader) -> (Vec<Speaker>, SpeakerNames) {
    let t = Transcript { language: None, speakers: header.speakers.clone(), turns: Vec::new(), redacted: false };
    let default = SpeakerNames::default();
    let speakers: Vec<Speaker> = header
        .speakers
        .iter()
        .map(|label| {
            let known = header.known.get(label);
            let name =
                stored.speaker_names.get(label).cloned().or_else(|| known.map(|k| k.0.clone())).unwrap_or_else(|| default.name(&t, label));
            Speaker { label: label.clone(), name, participant: known.and_then(|k| k.1.clone()) }
        })
        .collect();
    let names = SpeakerNames::new(speakers.iter().map(|s| (s.label.clone(), s.name.clone())));
    (speakers, names)
}

fn ready(stored: &StoredRecording) -> AppResult<()> {
    let t = &stored.recording.transcript;
    match t.status {
        TranscriptStatus::Ready => Ok(()),
        TranscriptStatus::Unavailable | TranscriptStatus::Failed => Err(AppError::TranscriptNotReady(format!(
            "this recording has no transcript: {}",
            t.reason.clone().unwrap_or_else(|| "it could not be made".into())
        ))),
        TranscriptStatus::Pending | TranscriptStatus::Processing => {
            Err(AppError::TranscriptNotReady("the transcript is being made; try again shortly".into()))
        }
    }
}

/// The primary language subtag (`en` of `en-US`), which translation services take.
fn primary(lang: &str) -> &str {
    lang.split('-').next().unwrap_or(lang)
}

/// The header in `lang` (`None`: the original) and, for a translation, the language its turns
/// are stored under; translated and stored first when nobody has asked for that language yet.
async fn in_language(
    app: &App,
    tenant: &TenantId,
    id: &RecordingId,
    original: &TranscriptHeader,
    lang: Option<&str>,
) -> AppResult<(TranscriptHeader, Option<String>)> {
    let repo = Recordings::new(app, tenant);
    let Some(lang) = lang else { return Ok((original.clone(), None)) };
    if !valid_language(lang) {
        return Err(AppError::validation("lang is a language code such as es or pt-BR"));
    }
    let target = lang.to_ascii_lowercase();
    // The recording's own language (`en` for an `en-US` recording) is the original.
    if original
        .language
        .as_deref()
        .is_some_and(|l| l.eq_ignore_ascii_case(&target) || (!target.contains('-') && primary(l).eq_ignore_ascii_case(&target)))
    {
        return Ok((original.clone(), None));
    }
    if let Some(h) = repo.transcript_header(id, Some(&target)).await? {
        return Ok((h, Some(target)));
    }
    let turns = repo.transcript_turns(id, None, 0, original.turns).await?;
    let texts: Vec<String> = turns.iter().map(|t| t.text.clone()).collect();
    let source = original.language.as_deref().map(primary);
    let (translated, calls) = crate::translation::translate_all(app.translator.as_ref(), &texts, source, &target).await?;
    let turns: Vec<Turn> = turns.into_iter().zip(translated).map(|(t, text)| Turn { text, language: Some(target.clone()), ..t }).collect();
    let header = TranscriptHeader { language: Some(target.clone()), ..original.clone() };
    if repo.put_transcript(id, Some(&target), &header, &turns).await? {
        tracing::info!(recording_id = %id, lang = %target, calls, turns = turns.len(), "transcript translated");
        app.publish(EventEnvelope::new(
            types::TRANSCRIPT_TRANSLATED,
            tenant,
            format!("{id}:translated:{target}"),
            json!({ "recording_id": id.as_str(), "language": target, "turns": turns.len() }),
        ))
        .await;
    }
    Ok((repo.transcript_header(id, Some(&target)).await?.unwrap_or(header), Some(target)))
}

fn decode_cursor(c: &str) -> AppResult<usize> {
    let bad = || AppError::validation("cursor is not valid for this list");
    let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    s.strip_prefix("turn:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

fn encode_cursor(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("turn:{n}"))
}

pub fn page_size(requested: Option<&str>) -> AppResult<usize> {
    match requested {
        None => Ok(DEFAULT_TURNS),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_TURNS).contains(&n) => Ok(n),
            _ => Err(AppError::validation(format!("limit must be a whole number from 1 to {MAX_TURNS}"))),
        },
    }
}

async fn original_header(app: &App, p: &Principal, stored: &StoredRecording) -> AppResult<TranscriptHeader> {
    ready(stored)?;
    let id = RecordingId::parse(&stored.recording.id)?;
    Recordings::new(app, &p.tenant)
        .transcript_header(&id, None)
        .await?
        .ok_or_else(|| AppError::TranscriptNotReady("the transcript is being made".into()))
}

/// A page of the transcript, in `lang` when asked.
pub async fn get(
    app: &App,
    p: &Principal,
    recording_id: &str,
    lang: Option<&str>,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<TranscriptPage> {
    let stored = readable(app, p, recording_id).await?;
    let original = original_header(app, p, &stored).await?;
    let id = RecordingId::parse(&stored.recording.id)?;
    let from = cursor.map(decode_cursor).transpose()?.unwrap_or(0);
    let (header, translation) = in_language(app, &p.tenant, &id, &original, lang).await?;
    let turns = Recordings::new(app, &p.tenant).transcript_turns(&id, translation.as_deref(), from, limit).await?;
    let (speakers, names) = names_of(&stored, &header);
    let t = Transcript { language: None, speakers: header.speakers.clone(), turns: Vec::new(), redacted: false };
    let next = from + turns.len();
    let views = turns
        .into_iter()
        .enumerate()
        .map(|(i, turn)| TurnView {
            index: from + i,
            name: names.name(&t, &turn.speaker),
            speaker: turn.speaker,
            start_ms: turn.start_ms,
            end_ms: turn.end_ms,
            text: turn.text,
            confidence: turn.confidence,
            language: turn.language,
        })
        .collect();
    Ok(TranscriptPage {
        recording_id: stored.recording.id.clone(),
        language: original.language.clone(),
        lang: translation.or_else(|| original.language.clone()),
        redacted: original.redacted,
        speakers,
        turns: views,
        next_cursor: (next < header.turns).then(|| encode_cursor(next)),
    })
}

/// The whole transcript rendered: `(content type, file name, body)`.
pub async fn export(app: &App, p: &Principal, recording_id: &str, format: &str, lang: Option<&str>) -> AppResult<(String, String, String)> {
    let format = Format::parse(format).ok_or_else(|| AppError::validation("format is txt, srt, vtt or json"))?;
    let stored = readable(app, p, recording_id).await?;
    let original = original_header(app, p, &stored).await?;
    let id = RecordingId::parse(&stored.recording.id)?;
    let (header, translation) = in_language(app, &p.tenant, &id, &original, lang).await?;
    let stored_lang = translation.as_deref();
    let turns = Recordings::new(app, &p.tenant).transcript_turns(&id, stored_lang, 0, header.turns).await?;
    let (_, names) = names_of(&stored, &header);
    let t = Transcript {
        language: translation.clone().or_else(|| original.language.clone()),
        speakers: header.speakers.clone(),
        turns,
        redacted: header.redacted,
    };
    let extension = match format {
        Format::Txt => "txt",
        Format::Srt => "srt",
        Format::Vtt => "vtt",
        Format::Json => "json",
    };
    let suffix = stored_lang.map(|l| format!(".{l}")).unwrap_or_default();
    Ok((format.content_type().to_string(), format!("{}{suffix}.{extension}", stored.recording.id), render(&t, &names, format)))
}

/// Names speakers (agents only).
pub async fn name_speakers(app: &App, p: &Principal, recording_id: &str, patch: SpeakerNamesPatch) -> AppResult<Vec<Speaker>> {
    p.require_staff()?;
    let stored = readable(app, p, recording_id).await?;
    let header = original_header(app, p, &stored).await?;
    if patch.speakers.is_empty() || patch.speakers.len() > 30 {
        return Err(AppError::validation("speakers names 1 to 30 speakers"));
    }
    for (label, name) in &patch.speakers {
        if !header.speakers.contains(label) {
            return Err(AppError::validation(format!("{label:?} is not a speaker of this transcript")));
        }
        if name.chars().count() > MAX_SPEAKER_NAME || name.chars().any(char::is_control) {
            return Err(AppError::validation(format!(
                "a speaker's name is at most {MAX_SPEAKER_NAME} characters, without control characters"
            )));
        }
    }
    let id = RecordingId::parse(&stored.recording.id)?;
    let (updated, _) = Recordings::new(app, &p.tenant)
        .update(&id, |s| {
            let before = s.speaker_names.clone();
            for (label, name) in &patch.speakers {
                let name = name.trim();
                if name.is_empty() {
                    s.speaker_names.remove(label);
                } else {
                    s.speaker_names.insert(label.clone(), name.to_string());
                }
            }
            Ok(s.speaker_names != before)
        })
        .await?
        .ok_or(AppError::NotFound("recording"))?;
    Ok(names_of(&updated, &header).0)
}
