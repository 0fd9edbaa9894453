//! Reading recordings: one, a customer's list, and a short-lived URL to play or download one.
//! Agents of the tenant read every recording; a customer reads those of their own sessions only
//! when the tenant allows it (`recordings.customer_access`).

use std::time::Duration;

use serde::Serialize;

use super::store::{Recordings, StoredRecording};
use crate::app::customers::require_customer_access;
use crate::app::paging::{decode_cursor, read_page, PageOf};
use crate::app::{settings, App};
use crate::domain::recording::Recording;
use crate::domain::{format_rfc3339, now_epoch_seconds, CustomerId, Principal, RecordingId, Role};
use crate::error::{AppError, AppResult};
use crate::ports::blobs::{BlobError, Download};

/// How long a recording's URL works.
pub const MEDIA_URL: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MediaUrl {
    pub url: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub content_type: String,
}

async fn customers_may_read(app: &App, p: &Principal) -> AppResult<()> {
    if settings::load(app, &p.tenant).await?.recordings.customer_access {
        Ok(())
    } else {
        Err(AppError::Forbidden("this business does not share recordings with its customers".into()))
    }
}

/// The recording, when the caller may read it.
pub async fn readable(app: &App, p: &Principal, recording_id: &str) -> AppResult<StoredRecording> {
    let id = RecordingId::parse(recording_id)?;
    let stored = Recordings::new(app, &p.tenant).get(&id).await?.ok_or(AppError::NotFound("recording"))?;
    if p.role == Role::Customer {
        // Another customer's recording is as absent as one that does not exist.
        if stored.recording.customer_id != p.id {
            return Err(AppError::NotFound("recording"));
        }
        customers_may_read(app, p).await?;
    }
    Ok(stored)
}

pub async fn get(app: &App, p: &Principal, recording_id: &str) -> AppResult<Recording> {
    Ok(readable(app, p, recording_id).await?.recording)
}

/// A customer's recordings, newest first.
pub async fn list_for_customer(
    app: &App,
    p: &Principal,
    customer: &CustomerId,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<PageOf<Recording>> {
    require_customer_access(p, customer)?;
    if p.role == Role::Customer {
        customers_may_read(app, p).await?;
    }
    let repo = Recordings::new(app, &p.tenant);
    let mut query = repo.customer_query(customer);
    if let Some(c) = cursor {
        let key = decode_cursor(c, &query)?;
        if !key.get("sk").and_then(|v| v.as_str()).is_some_and(|sk| sk.starts_with(crate::keys::CUSTOMER_RECORDING_PREFIX)) {
            return Err(AppError::validation("cursor is not valid for this list"));
        }
        query.start_after = Some(key);
    }
    if app.table.get(&crate::keys::customer(&p.tenant, customer)).await?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, limit).await?;
    let ids: Vec<RecordingId> =
        items.iter().filter_map(|i| i.get("recording_id").and_then(|v| v.as_str())).filter_map(|s| RecordingId::parse(s).ok()).collect();
    let found = futures::future::join_all(ids.iter().map(|id| repo.get(id))).await;
    let mut recordings = Vec::with_capacity(found.len());
    for r in found {
        if let Some(stored) = r? {
            recordings.push(stored.recording);
        }
    }
    Ok(PageOf { items: recordings, next_cursor })
}

/// A URL that plays (or downloads) one of the recording's media files: `mixed`, `audio` or a
/// participant's track.
pub async fn media(app: &App, p: &Principal, recording_id: &str, track: Option<&str>) -> AppResult<MediaUrl> {
    let stored = readable(app, p, recording_id).await?;
    let wanted = track.unwrap_or("mixed");
    let file = stored
        .recording
        .media
        .iter()
        .find(|m| m.track == wanted)
        .or_else(|| if track.is_none() { stored.recording.media.first() } else { None })
        .ok_or(AppError::NotFound("recording media"))?;
    let key = stored.media_keys.get(&file.track).ok_or(AppError::NotFound("recording media"))?;
    let extension = key.rsplit('.').next().unwrap_or("webm");
    let download = Download {
        file_name: format!("{}-{}.{extension}", stored.recording.id, file.track.replace(['.', '/'], "-")),
        content_type: file.content_type.clone(),
        inline: true,
    };
    let url = app.recordings.sign_download(key, &download, MEDIA_URL).await.map_err(|e| match e {
        BlobError::NotAvailable => AppError::NotAvailable("recordings storage"),
        other => AppError::internal(other),
    })?;
    let expires_at =
        time::OffsetDateTime::from_unix_timestamp(now_epoch_seconds() + MEDIA_URL.as_secs() as i64).map(format_rfc3339).unwrap_or_default();
    Ok(MediaUrl { url, expires_at, content_type: file.content_type.clone() })
}
