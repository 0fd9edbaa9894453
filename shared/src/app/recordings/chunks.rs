//! Local recordings: the recording browser asks where to put each chunk of each participant's
//! track, and `PUT`s it there (through the recordings store).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::store::{Recordings, TrackInfo};
use crate::app::sessions::load;
use crate::app::App;
use crate::domain::recording::{parse_track_name, track_object_name, RecordingMode, RecordingStatus};
use crate::domain::{Principal, RecordingId, SessionId};
use crate::error::{AppError, AppResult};
use crate::ports::blobs::SignedUpload;
use crate::ports::recorder::objects;

/// A chunk is at most this many bytes.
pub const MAX_CHUNK_BYTES: u64 = 16 * 1024 * 1024;
/// How long a chunk's upload URL works.
const CHUNK_URL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChunk {
    /// The participant's track, `<kind>.<id>` (`agent.ann`, `customer.cus_…`).
    #[schema(pattern = "^(agent|customer)\\.[A-Za-z0-9._@:+-]{1,128}$")]
    pub track: String,
    /// From 0 per track.
    #[serde(deserialize_with = "crate::domain::whole_number")]
    #[schema(maximum = 43199)]
    pub seq: u64,
    /// `video/webm` or `audio/webm` (codecs parameters allowed).
    #[schema(pattern = "^(video|audio)/webm(;.*)?$")]
    pub content_type: String,
    /// Bytes, from 1 to 16 MiB (413 above).
    #[serde(deserialize_with = "crate::domain::whole_number")]
    #[schema(minimum = 1)]
    pub size: u64,
    /// Milliseconds after the recording's start at which this track began (its first chunk).
    #[serde(default, deserialize_with = "crate::domain::optional_whole_number")]
    pub offset_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChunkTicket {
    pub upload: SignedUpload,
}

/// Where to put one chunk. The recording agent only, while the recording runs or is stopping.
pub async fn create(app: &App, p: &Principal, recording_id: &str, chunk: NewChunk) -> AppResult<ChunkTicket> {
    let id = RecordingId::parse(recording_id)?;
    // What the recording is first (an unknown one is 404, whatever the chunk says).
    let repo = Recordings::new(app, &p.tenant);
    let stored = repo.get(&id).await?.ok_or(AppError::NotFound("recording"))?;
    let recording = &stored.recording;
    if recording.started_by != p.participant() {
        return Err(AppError::Forbidden("only the browser of the agent recording the call uploads its tracks".into()));
    }
    let who = parse_track_name(&chunk.track).ok_or_else(|| AppError::validation("track is <kind>.<id>: agent.<id> or customer.<id>"))?;
    if chunk.seq >= crate::app::calls::MAX_CHUNKS {
        return Err(AppError::validation(format!("seq is below {}", crate::app::calls::MAX_CHUNKS)));
    }
    if chunk.size == 0 {
        return Err(AppError::validation("an empty chunk has nothing to upload"));
    }
    if chunk.size > MAX_CHUNK_BYTES {
        return Err(AppError::PayloadTooLarge {
            actual: usize::try_from(chunk.size).unwrap_or(usize::MAX),
            limit: MAX_CHUNK_BYTES as usize,
        });
    }
    let essence = chunk.content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "video/webm" && essence != "audio/webm" {
        return Err(AppError::validation("content_type is video/webm or audio/webm"));
    }
    if recording.mode != RecordingMode::Browser {
        return Err(AppError::Conflict("this recording is made by the media pipeline, not the browser".into()));
    }
    match recording.status {
        RecordingStatus::Recording => {}
        // Stopped, assembly not begun: the last chunks are still welcome.
        RecordingStatus::Processing if !super::assemble::begun(&stored) => {}
        _ => return Err(AppError::RecordingStopped),
    }
    let session = load(app, &p.tenant, &SessionId::parse(&recording.session_id)?).await?.ok_or(AppError::NotFound("session"))?;
    if !session.participants.iter().any(|x| x.who == who) {
        return Err(AppError::validation("track names a participant of the session"));
    }
    let object_name = track_object_name(&who);
    if chunk.seq == 0 || repo.track(&id, &object_name).await?.is_none() {
        let info = TrackInfo {
            object_name: object_name.clone(),
            track: chunk.track.clone(),
            participant: who,
            content_type: essence.clone(),
            offset_ms: chunk.offset_ms.filter(|_| chunk.seq == 0).unwrap_or(0),
        };
        repo.put_track(&id, &info).await?;
    }
    let key = objects::chunk(p.tenant.as_str(), id.as_str(), &object_name, chunk.seq);
    let upload = app.recordings.sign_upload(&key, &essence, chunk.size, CHUNK_URL).await.map_err(|e| match e {
        crate::ports::BlobError::NotAvailable => AppError::NotAvailable("recordings storage"),
        other => AppError::internal(other),
    })?;
    Ok(ChunkTicket { upload })
}
