//! The recordings repository: every stored item of a recording (the recording, its tracks,
//! each track's turns, the transcript, its translations, the pipeline lookup) is built here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::app::{from_item, to_item, App};
use crate::domain::recording::Recording;
use crate::domain::{CustomerId, ParticipantRef, RecordingId, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::table::{Condition, Item, Query, SortKey, StoreError, TransactOp};
use crate::transcript::Turn;

/// Turns per stored page (a page stays far below the 400 KB item limit).
pub const TURNS_PER_PAGE: usize = 200;

/// The stored recording: what clients see, and what only Confer needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRecording {
    #[serde(flatten)]
    pub recording: Recording,
    #[serde(default)]
    pub version: u64,
    /// The capture pipeline (cloud).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// Chunks per track the recording browser reported when it stopped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected_chunks: BTreeMap<String, u64>,
    /// Whether the browser reported its chunks at all (an empty report: nothing was recorded).
    #[serde(default)]
    pub chunks_reported: bool,
    /// Speaker names an agent gave (label → name); they win over the participants' names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub speaker_names: BTreeMap<String, String>,
    /// The local assembly has begun: chunks are no longer accepted.
    #[serde(default)]
    pub assembling: bool,
    /// Where each of `recording.media` is stored (by its `track`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media_keys: BTreeMap<String, String>,
}

/// A track the browser announced with its first chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInfo {
    /// The storage-safe name (`track_object_name`).
    pub object_name: String,
    pub track: String,
    pub participant: ParticipantRef,
    pub content_type: String,
    /// When the track began, after the recording's start.
    #[serde(default)]
    pub offset_ms: u64,
}

/// Where a pipeline's events find their recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineRef {
    pub tenant: String,
    pub recording_id: String,
}

/// A stored transcript (or translation) header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptHeader {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Speaker labels in the order they first speak.
    pub speakers: Vec<String>,
    pub turns: usize,
    #[serde(default)]
    pub redacted: bool,
    /// Names the recording tells (a participant's track): label → (name, participant).
    #[serde(default)]
    pub known: BTreeMap<String, (String, Option<ParticipantRef>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TurnPage {
    turns: Vec<Turn>,
}

pub struct Recordings<'a> {
    app: &'a App,
    tenant: &'a TenantId,
}

impl<'a> Recordings<'a> {
    pub fn new(app: &'a App, tenant: &'a TenantId) -> Self {
        Recordings { app, tenant }
    }

    pub async fn get(&self, id: &RecordingId) -> AppResult<Option<StoredRecording>> {
        match self.app.table.get(&keys::recording(self.tenant, id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The operations that create a recording: itself and its customer's edge.
    pub fn create_ops(&self, stored: &StoredRecording) -> AppResult<Vec<TransactOp>> {
        let id = RecordingId::parse(&stored.recording.id)?;
        let customer = CustomerId::parse(&stored.recording.customer_id)?;
        let mut ops = vec![
            TransactOp::Put {
                item: to_item(stored, &keys::recording(self.tenant, &id), &[("entity", "recording".into())])?,
                condition: Some(Condition::NotExists),
            },
            TransactOp::Put {
                item: to_item(
                    &serde_json::json!({ "recording_id": id.as_str() }),
                    &keys::customer_recording(self.tenant, &customer, &id),
                    &[("entity", "customer_recording".into())],
                )?,
                condition: None,
            },
        ];
        if let Some(pipeline) = &stored.pipeline_id {
            let reference = PipelineRef { tenant: self.tenant.to_string(), recording_id: id.to_string() };
            ops.push(TransactOp::Put {
                item: to_item(&reference, &keys::media_pipeline(pipeline), &[("entity", "media_pipeline".into())])?,
                condition: None,
            });
        }
        Ok(ops)
    }

    /// The operation that replaces `stored` if nobody changed it since it was read (its
    /// version is advanced).
    pub fn replace_op(&self, stored: &mut StoredRecording) -> AppResult<TransactOp> {
        let id = RecordingId::parse(&stored.recording.id)?;
        let read = stored.version;
        stored.version += 1;
        Ok(TransactOp::Put {
            item: to_item(&*stored, &keys::recording(self.tenant, &id), &[("entity", "recording".into())])?,
            condition: Some(Condition::Equals("version".into(), read.into())),
        })
    }

    /// Reads, changes and writes the recording, again when someone else changed it first.
    /// `change` answers whether it changed anything; the result is the recording as stored and
    /// whether this call changed it.
    pub async fn update(
        &self,
        id: &RecordingId,
        mut change: impl FnMut(&mut StoredRecording) -> AppResult<bool>,
    ) -> AppResult<Option<(StoredRecording, bool)>> {
        for _ in 0..16 {
            let Some(mut stored) = self.get(id).await? else { return Ok(None) };
            if !change(&mut stored)? {
                return Ok(Some((stored, false)));
            }
            let op = self.replace_op(&mut stored)?;
            let TransactOp::Put { item, condition } = op else { unreachable!("replace_op puts") };
            match self.app.table.put(item, condition).await {
                Ok(()) => return Ok(Some((stored, true))),
                Err(StoreError::ConditionFailed) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Conflict("the recording is changing; try again".into()))
    }

    /// A customer's recordings, newest first.
    pub fn customer_query(&self, customer: &CustomerId) -> Query {
        Query::partition(keys::customer_partition(self.tenant, customer))
            .sort(SortKey::BeginsWith(keys::CUSTOMER_RECORDING_PREFIX.into()))
            .backward()
    }

    pub async fn pipeline(app: &App, pipeline_id: &str) -> AppResult<Option<PipelineRef>> {
        match app.table.get(&keys::media_pipeline(pipeline_id)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    pub async fn put_track(&self, id: &RecordingId, track: &TrackInfo) -> AppResult<()> {
        let item = to_item(track, &keys::recording_track(self.tenant, id, &track.object_name), &[("entity", "recording_track".into())])?;
        self.app.table.put(item, None).await?;
        Ok(())
    }

    pub async fn track(&self, id: &RecordingId, object_name: &str) -> AppResult<Option<TrackInfo>> {
        match self.app.table.get(&keys::recording_track(self.tenant, id, object_name)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    pub async fn tracks(&self, id: &RecordingId) -> AppResult<Vec<TrackInfo>> {
        let query =
            Query::partition(keys::recording_partition(self.tenant, id)).sort(SortKey::BeginsWith(keys::RECORDING_TRACK_PREFIX.into()));
        let page = self.app.table.query(query).await?;
        page.items.into_iter().map(from_item).collect()
    }

    /// Stores one track's turns (once: a repeated trigger finds them there).
    pub async fn put_track_turns(&self, id: &RecordingId, object_name: &str, turns: &[Turn]) -> AppResult<()> {
        let pages: Vec<&[Turn]> = if turns.is_empty() { vec![&[]] } else { turns.chunks(TURNS_PER_PAGE).collect() };
        // Later pages first: the first page is the mark that the track is done.
        for (i, page) in pages.iter().enumerate().rev() {
            let item = to_item(
                &TurnPage { turns: page.to_vec() },
                &keys::track_turns(self.tenant, id, object_name, i),
                &[("entity", "track_turns".into()), ("pages", pages.len().into())],
            )?;
            self.app.table.put(item, None).await?;
        }
        Ok(())
    }

    /// A track's turns, or `None` while it is not transcribed.
    pub async fn track_turns(&self, id: &RecordingId, object_name: &str) -> AppResult<Option<Vec<Turn>>> {
        let query =
            Query::partition(keys::recording_partition(self.tenant, id)).sort(SortKey::BeginsWith(keys::track_turns_prefix(object_name)));
        let items = self.all(query).await?;
        let Some(first) = items.first() else { return Ok(None) };
        let pages = first.get("pages").and_then(|v| v.as_u64()).unwrap_or(1) as usize;
        if items.len() < pages {
            return Ok(None);
        }
        let mut turns = Vec::new();
        for item in items {
            turns.extend(from_item::<TurnPage>(item)?.turns);
        }
        Ok(Some(turns))
    }

    /// Stores a transcript (`lang` `None`) or a translation: its pages, then its header, which
    /// is written once (a second writer finds it and changes nothing). `Ok(false)`: it existed.
    pub async fn put_transcript(&self, id: &RecordingId, lang: Option<&str>, header: &TranscriptHeader, turns: &[Turn]) -> AppResult<bool> {
        for (i, page) in turns.chunks(TURNS_PER_PAGE).enumerate() {
            let item = to_item(
                &TurnPage { turns: page.to_vec() },
                &keys::transcript_page(self.tenant, id, lang, i),
                &[("entity", "transcript_page".into())],
            )?;
            self.app.table.put(item, None).await?;
        }
        let item = to_item(header, &keys::transcript(self.tenant, id, lang), &[("entity", "transcript".into())])?;
        match self.app.table.put(item, Some(Condition::NotExists)).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn transcript_header(&self, id: &RecordingId, lang: Option<&str>) -> AppResult<Option<TranscriptHeader>> {
        match self.app.table.get(&keys::transcript(self.tenant, id, lang)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Turns `from..from+limit` of a stored transcript or translation.
    pub async fn transcript_turns(&self, id: &RecordingId, lang: Option<&str>, from: usize, limit: usize) -> AppResult<Vec<Turn>> {
        let mut out = Vec::new();
        let mut page = from / TURNS_PER_PAGE;
        let mut skip = from % TURNS_PER_PAGE;
        while out.len() < limit {
            let Some(item) = self.app.table.get(&keys::transcript_page(self.tenant, id, lang, page)).await? else { break };
            let turns = from_item::<TurnPage>(item)?.turns;
            let n = turns.len();
            out.extend(turns.into_iter().skip(skip).take(limit - out.len()));
            if n < TURNS_PER_PAGE {
                break;
            }
            page += 1;
            skip = 0;
        }
        Ok(out)
    }

    async fn all(&self, mut query: Query) -> AppResult<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            let page = self.app.table.query(query.clone()).await?;
            items.extend(page.items);
            match page.last_key {
                Some(k) => query.start_after = Some(k),
                None => return Ok(items),
            }
        }
    }
}
