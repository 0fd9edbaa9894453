//! Recordings a video app made, brought into Confer's (docs/providers.md): the app's webhook
//! queues an import (`recordings-import`), which downloads the files into the recordings store,
//! streamed and size-limited, and hands them to the recording pipeline of the runtime — each
//! participant's own audio as a named track (the local speech engine transcribes tracks), or
//! everyone's audio as the recording's audio (Amazon Transcribe tells the voices apart). From
//! there it is a recording like any other: `recording.available`, its transcript, translations
//! and search. Every step is idempotent: a repeated webhook or a retried message finds its work
//! done, and files already stored are not fetched again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::super::calls::MeetingRef;
use super::super::recordings::assemble::{available_event, participant_name};
use super::super::recordings::store::{Recordings, StoredRecording, TrackInfo};
use super::super::sessions::load;
use super::super::{from_item, App};
use crate::domain::call::CallProvider;
use crate::domain::provider::ExternalProvider;
use crate::domain::recording::{
    track_name, track_object_name, MediaFile, Recording, RecordingMode, RecordingStatus, Track, TranscriptState, TranscriptStatus,
};
use crate::domain::{now_rfc3339, ParticipantRef, RecordingId, SessionId, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::meetings::{DownloadError, ProviderFile};
use crate::ports::queue::{QueueError, QueueMessage};
use crate::ports::recorder::{objects, AssembledFile};
use crate::ports::table::StoreError;

/// The largest file imported (a provider announcing more is refused before any byte is read;
/// a download passing it is stopped).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Files of one recording considered (participants' audio and the shared files).
pub const MAX_FILES: usize = 32;

/// One recording to import, as the webhook queues it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub tenant: String,
    pub provider: ExternalProvider,
    /// The provider's meeting id (what Confer keeps with the call).
    pub meeting_id: String,
    /// The provider's id of this recording (one meeting may be recorded more than once).
    pub recording_key: String,
    /// When the recording began (RFC 3339), as the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The download authorisation the notification carried (Zoom's `download_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// Each participant's own audio (`speaker` set), and the shared audio or video.
    pub files: Vec<ProviderFile>,
}

impl ImportJob {
    /// Confer's id of the recording: the same for every delivery of the same provider recording.
    pub fn recording_id(&self) -> RecordingId {
        let digest = Sha256::digest(format!("{}:{}:{}", self.tenant, self.provider.as_str(), self.recording_key));
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let millis = self
            .started_at
            .as_deref()
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000).clamp(0, (1i128 << 48) - 1) as u64)
            .unwrap_or(0);
        let ulid = ulid::Ulid::from_parts(millis, u128::from_be_bytes(random));
        RecordingId::parse(&format!("{}{ulid}", RecordingId::PREFIX)).expect("a ULID in canonical form")
    }

    /// The queue message: its id is the recording's, so resending the same work is harmless.
    pub fn message(&self) -> AppResult<QueueMessage> {
        let body = serde_json::to_string(self).map_err(AppError::internal)?;
        Ok(QueueMessage::new(format!("import-{}", self.recording_id()), body))
    }
}

/// Queues the import of a finished recording (from a provider's webhook).
pub async fn enqueue(app: &App, mut job: ImportJob) -> AppResult<()> {
    job.files.truncate(MAX_FILES);
    match app.imports.send(vec![job.message()?]).await {
        Ok(()) => Ok(()),
        Err(QueueError::NotAvailable) => Err(AppError::NotAvailable("recording imports")),
        Err(QueueError::Backend(e)) => Err(AppError::internal(e)),
    }
}

fn content_type(extension: &str, audio_only: bool) -> &'static str {
    match (extension, audio_only) {
        ("m4a", _) | ("mp4", true) => "audio/mp4",
        ("mp4", false) => "video/mp4",
        ("webm", true) => "audio/webm",
        ("webm", false) => "video/webm",
        _ => "application/octet-stream",
    }
}

fn download_error(provider: ExternalProvider, e: DownloadError) -> Result<String, AppError> {
    match e {
        DownloadError::Unavailable(why) => Err(AppError::ProviderUnavailable(why)),
        DownloadError::TooLarge { limit } => Ok(format!("a {} recording file is larger than {limit} bytes", provider.title())),
        DownloadError::Refused(why) => Ok(why),
    }
}

/// Imports one recording. `Err` only for what a retry may fix.
pub async fn run(app: &App, job: ImportJob) -> AppResult<()> {
    let tenant = TenantId::parse(&job.tenant)?;
    let provider: CallProvider = job.provider.into();
    let Some(item) = app.table.get(&keys::provider_meeting(provider, &job.meeting_id)).await? else {
        tracing::info!(meeting_id = %job.meeting_id, "a recording of a meeting Confer does not know");
        return Ok(());
    };
    let reference: MeetingRef = from_item(item)?;
    if reference.tenant != tenant.as_str() {
        tracing::warn!(meeting_id = %job.meeting_id, "a recording import for another tenant's meeting; ignored");
        return Ok(());
    }
    let session_id = SessionId::parse(&reference.session_id)?;
    let Some(session) = load(app, &tenant, &session_id).await? else { return Ok(()) };
    let id = job.recording_id();
    let repo = Recordings::new(app, &tenant);
    let stored = match repo.get(&id).await? {
        Some(s) => s,
        None => create(app, &tenant, &job, &id, &session.customer_id, &reference, &session.participants).await?,
    };
    if stored.recording.status != RecordingStatus::Processing {
        tracing::info!(recording_id = %id, "recording already imported");
        return Ok(());
    }
    let mode = app.recorder.mode();
    let files = choose(&job.files, mode);
    if files.is_empty() {
        return fail(app, &tenant, &id, format!("{} sent no audio or video file of the recording", job.provider.title())).await;
    }
    let participants: Vec<ParticipantRef> = session.participants.iter().map(|p| p.who.clone()).collect();
    let speakers = match mode {
        RecordingMode::Browser => assign(app, &tenant, &files, &participants).await,
        RecordingMode::Pipeline => Vec::new(),
    };
    let mut stored_files = Vec::new();
    for (n, file) in files.iter().enumerate() {
        let key = match (mode, speakers.get(n)) {
            (RecordingMode::Browser, Some((who, _))) => {
                objects::track_file(tenant.as_str(), id.as_str(), &track_object_name(who), &file.extension)
            }
            (RecordingMode::Browser, None) => continue,
            (RecordingMode::Pipeline, _) => {
                format!("{}/audio/{}-{}.{}", objects::final_prefix(tenant.as_str(), id.as_str()), job.provider.as_str(), n, file.extension)
            }
        };
        let audio_only = file.speaker.is_some() || file.extension == "m4a";
        let content_type = content_type(&file.extension, audio_only);
        let size = match fetch(app, &job, file, &key, content_type).await? {
            Ok(size) => size,
            Err(why) => return fail(app, &tenant, &id, why).await,
        };
        stored_files.push((n, key, content_type, size));
    }
    if mode == RecordingMode::Pipeline {
        // The storage trigger takes the audio from here (S3 notifies it), as it does Chime's.
        tracing::info!(recording_id = %id, files = stored_files.len(), "recording imported for transcription");
        return Ok(());
    }
    let mut tracks = Vec::new();
    let mut media = Vec::new();
    let mut media_keys = BTreeMap::new();
    let mut announced = Vec::new();
    for (n, key, content_type, size) in &stored_files {
        let (who, name) = &speakers[*n];
        let track = track_name(who);
        let object_name = track_object_name(who);
        repo.put_track(
            &id,
            &TrackInfo {
                object_name: object_name.clone(),
                track: track.clone(),
                participant: who.clone(),
                content_type: content_type.to_string(),
                offset_ms: files[*n].offset_ms,
            },
        )
        .await?;
        tracks.push(Track {
            track: track.clone(),
            participant: who.clone(),
            name: name.clone(),
            content_type: content_type.to_string(),
            size: *size,
            duration_ms: None,
        });
        media.push(MediaFile { track: track.clone(), content_type: content_type.to_string(), size: *size });
        media_keys.insert(track, key.clone());
        announced.push(AssembledFile {
            object_name,
            key: key.clone(),
            content_type: content_type.to_string(),
            size: *size,
            duration_ms: None,
        });
    }
    for _ in 0..16 {
        let Some(mut current) = repo.get(&id).await? else { return Ok(()) };
        if current.recording.status != RecordingStatus::Processing {
            return Ok(());
        }
        current.recording.tracks = tracks.clone();
        current.recording.media = media.clone();
        current.media_keys = media_keys.clone();
        current.recording.status = RecordingStatus::Available;
        let op = repo.replace_op(&mut current)?;
        match app.transact_with_event(vec![op], available_event(&tenant, &current)).await {
            Ok(unpublished) => {
                if let Some(e) = unpublished {
                    app.publish(e).await;
                }
                super::super::recordings::notify(app, &tenant, &current.recording).await;
                tracing::info!(recording_id = %id, tracks = tracks.len(), provider = job.provider.as_str(), "recording imported");
                // The tracks' notifications start their transcription.
                app.recorder.announce(&announced);
                return Ok(());
            }
            Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Conflict("the recording is changing; try again".into()))
}

/// The files the runtime's pipeline takes: locally each participant's own audio (else the shared
/// audio, else the video); in the cloud the shared audio (else the video) for Transcribe.
fn choose(files: &[ProviderFile], mode: RecordingMode) -> Vec<ProviderFile> {
    let usable = |f: &&ProviderFile| matches!(f.extension.as_str(), "m4a" | "mp4");
    let own: Vec<ProviderFile> = files.iter().filter(usable).filter(|f| f.speaker.is_some()).cloned().collect();
    let shared_audio = files.iter().filter(usable).find(|f| f.speaker.is_none() && f.extension == "m4a");
    let shared_video = files.iter().filter(usable).find(|f| f.speaker.is_none() && f.extension == "mp4");
    match mode {
        RecordingMode::Browser if !own.is_empty() => own,
        _ => shared_audio.or(shared_video).cloned().into_iter().collect(),
    }
}

/// Whose voice each file holds, among the session's participants: a file whose speaker the
/// provider names like a participant is theirs; the rest go in order to those left (a 1:1
/// call: the agent and the customer). The provider's name for the speaker is kept. Files beyond
/// the participants are left out.
async fn assign(app: &App, tenant: &TenantId, files: &[ProviderFile], participants: &[ParticipantRef]) -> Vec<(ParticipantRef, String)> {
    let mut names = Vec::new();
    for p in participants {
        names.push((p.clone(), participant_name(app, tenant, p).await));
    }
    let normal = |s: &str| s.trim().to_lowercase();
    let mut taken: Vec<Option<ParticipantRef>> = vec![None; files.len()];
    for (n, file) in files.iter().enumerate() {
        let Some(speaker) = &file.speaker else { continue };
        if let Some((who, _)) =
            names.iter().find(|(who, name)| normal(name) == normal(speaker) && !taken.iter().flatten().any(|t| t == who))
        {
            taken[n] = Some(who.clone());
        }
    }
    for n in 0..files.len() {
        if taken[n].is_none() {
            taken[n] = names.iter().map(|(w, _)| w.clone()).find(|w| !taken.iter().flatten().any(|t| t == w));
        }
    }
    let mut out = Vec::new();
    for (n, who) in taken.into_iter().enumerate() {
        let Some(who) = who else { break };
        let name = match &files[n].speaker {
            Some(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => names.iter().find(|(w, _)| *w == who).map(|(_, name)| name.clone()).unwrap_or_default(),
        };
        out.push((who, name));
    }
    out
}

/// Downloads one file into the recordings store, unless it is there already. `Ok(Err(why))`:
/// the provider refused it for good.
async fn fetch(app: &App, job: &ImportJob, file: &ProviderFile, key: &str, content_type: &str) -> AppResult<Result<u64, String>> {
    if let Some(meta) = app.recordings.head(key).await.map_err(AppError::internal)? {
        return Ok(Ok(meta.size));
    }
    if file.size.is_some_and(|s| s > MAX_FILE_BYTES) {
        return Ok(Err(format!("a {} recording file is larger than {MAX_FILE_BYTES} bytes", job.provider.title())));
    }
    let credentials = match app.secrets.get(&job.tenant, job.provider).await {
        Ok(stored) => stored.map(|s| s.credentials),
        Err(e) => {
            tracing::warn!(error = %e, "the video app's credentials could not be read; downloading with the notification's grant");
            None
        }
    };
    let temp = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
    let size = match app
        .meeting_apps
        .download(job.provider, credentials.as_ref(), file, job.grant.as_deref(), MAX_FILE_BYTES, temp.path())
        .await
    {
        Ok(size) => size,
        Err(e) => return download_error(job.provider, e).map(Err),
    };
    app.recordings.write_file(key, temp.path(), content_type).await.map_err(AppError::internal)?;
    tracing::info!(key, size, provider = job.provider.as_str(), "recording file imported");
    Ok(Ok(size))
}

/// Creates the recording, processing, linked to the session's customer.
async fn create(
    app: &App,
    tenant: &TenantId,
    job: &ImportJob,
    id: &RecordingId,
    customer_id: &str,
    reference: &MeetingRef,
    participants: &[crate::domain::session::Participant],
) -> AppResult<StoredRecording> {
    let repo = Recordings::new(app, tenant);
    let started_by = participants
        .iter()
        .map(|p| p.who.clone())
        .find(|w| matches!(w, ParticipantRef::Agent(_)))
        .unwrap_or_else(|| ParticipantRef::Agent(job.provider.as_str().to_string()));
    let stored = StoredRecording {
        recording: Recording {
            id: id.to_string(),
            session_id: reference.session_id.clone(),
            customer_id: customer_id.to_string(),
            call_id: reference.call_id.clone(),
            mode: app.recorder.mode(),
            status: RecordingStatus::Processing,
            started_by,
            started_at: job.started_at.clone().unwrap_or_else(now_rfc3339),
            stopped_by: None,
            stopped_at: None,
            duration_ms: None,
            tracks: Vec::new(),
            media: Vec::new(),
            failure: None,
            transcript: TranscriptState::pending(),
            provider: Some(job.provider),
        },
        version: 0,
        pipeline_id: None,
        expected_chunks: BTreeMap::new(),
        chunks_reported: false,
        speaker_names: BTreeMap::new(),
        assembling: false,
        media_keys: BTreeMap::new(),
    };
    match app.table.transact_write(repo.create_ops(&stored)?).await {
        Ok(()) => {
            tracing::info!(recording_id = %id, provider = job.provider.as_str(), "importing a recording");
            Ok(stored)
        }
        Err(StoreError::TransactionCancelled { .. }) | Err(StoreError::ConditionFailed) => {
            repo.get(id).await?.ok_or(AppError::Conflict("the recording is changing; try again".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The import cannot complete: the recording says why.
async fn fail(app: &App, tenant: &TenantId, id: &RecordingId, why: String) -> AppResult<()> {
    tracing::warn!(recording_id = %id, reason = %why, "recording import failed");
    let updated = Recordings::new(app, tenant)
        .update(id, |s| {
            if s.recording.status != RecordingStatus::Processing {
                return Ok(false);
            }
            s.recording.status = RecordingStatus::Failed;
            s.recording.failure = Some(why.clone());
            s.recording.transcript = TranscriptState {
                status: TranscriptStatus::Unavailable,
                reason: Some("the recording could not be imported".into()),
                language: None,
                turns: None,
            };
            Ok(true)
        })
        .await?;
    if let Some((stored, true)) = updated {
        super::super::recordings::notify(app, tenant, &stored.recording).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str, extension: &str, speaker: Option<&str>) -> ProviderFile {
        ProviderFile {
            id: id.into(),
            download_url: format!("https://example.test/{id}"),
            extension: extension.into(),
            size: Some(10),
            speaker: speaker.map(str::to_string),
            offset_ms: 0,
        }
    }

    #[test]
    fn the_same_provider_recording_is_always_the_same_confer_recording() {
        let job = ImportJob {
            tenant: "acme".into(),
            provider: ExternalProvider::Zoom,
            meeting_id: "85746392012".into(),
            recording_key: "4444AAAiAAAAAiAiAiiAii==".into(),
            started_at: Some("2026-12-05T10:00:00Z".into()),
            grant: None,
            files: Vec::new(),
        };
        assert_eq!(job.recording_id(), job.recording_id());
        let mut other = job.clone();
        other.recording_key = "another".into();
        assert_ne!(job.recording_id(), other.recording_id());
        let mut other_tenant = job.clone();
        other_tenant.tenant = "globex".into();
        assert_ne!(job.recording_id(), other_tenant.recording_id());
        assert_eq!(job.message().unwrap().id, format!("import-{}", job.recording_id()));
    }

    #[test]
    fn each_runtime_takes_the_files_its_pipeline_transcribes() {
        let files = vec![file("v", "mp4", None), file("a", "m4a", None), file("p1", "m4a", Some("Ann")), file("c", "txt", None)];
        let ids = |v: Vec<ProviderFile>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(ids(choose(&files, RecordingMode::Browser)), ["p1"]);
        assert_eq!(ids(choose(&files, RecordingMode::Pipeline)), ["a"]);
        assert_eq!(ids(choose(&files[..1], RecordingMode::Browser)), ["v"]);
        assert!(choose(&files[3..], RecordingMode::Browser).is_empty());
    }
}
