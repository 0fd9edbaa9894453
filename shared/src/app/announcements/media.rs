//! An announcement's video or audio: requested like a chat upload (a pending record and a signed
//! PUT), verified by the same storage trigger with the same checks, then read through
//! short-lived URLs by agents and by the customers whose inbox holds the announcement.

use std::time::Duration;

use serde::Serialize;

use super::store::Announcements;
use crate::app::{from_item, App};
use crate::domain::announcement::NewMediaUpload;
use crate::domain::announcement::{new_media_id, parse_media_id, AnnouncementMedia, MediaStatus};
use crate::domain::attachment::{NewUpload, RejectionReason};
use crate::domain::limits::{DOWNLOAD_URL_SECONDS, PENDING_UPLOAD_SECONDS, UPLOAD_URL_SECONDS};
use crate::domain::{format_rfc3339, now_epoch_seconds, now_rfc3339, Principal, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::media;
use crate::ports::blobs::{BlobError, Download, SignedUpload};
use crate::ports::table::{Update, TTL};

/// The answer to a media upload request.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MediaTicket {
    pub media: AnnouncementMedia,
    /// Where to PUT the bytes, while the media waits for them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<SignedUpload>,
}

/// Media as an agent reads it: with a URL to play it once ready.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MediaView {
    #[serde(flatten)]
    pub media: AnnouncementMedia,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub url_expires_at: Option<String>,
}

pub(crate) fn blob_error(e: BlobError) -> AppError {
    match e {
        BlobError::NotAvailable => AppError::NotAvailable("media storage"),
        other => AppError::internal(other),
    }
}

/// Requests an upload of a video or audio file for announcements. A repeated request with the
/// same `client_upload_id` answers the same media.
pub async fn request_upload(app: &App, p: &Principal, input: NewMediaUpload) -> AppResult<MediaTicket> {
    p.require_staff()?;
    let input = NewUpload::from(input);
    let upload = input.check_with(|t| media::announcement_kind_of_declared(t).map(|(_, limit)| limit))?;
    let (kind, _) = media::announcement_kind_of_declared(&upload.content_type).map_err(|r| AppError::validation(r.message))?;
    let repo = Announcements::new(app, &p.tenant);
    if let Some(existing) = repo.media_request(&upload.client_upload_id).await? {
        return repeat(app, p, existing, &upload).await;
    }
    let media = AnnouncementMedia {
        id: new_media_id(),
        client_upload_id: upload.client_upload_id.clone(),
        file_name: upload.file_name.clone(),
        kind,
        declared_type: upload.content_type.clone(),
        size: upload.size,
        status: MediaStatus::Pending,
        content_type: None,
        width: None,
        height: None,
        duration_ms: None,
        rejection: None,
        uploaded_by: p.id.clone(),
        created_at: now_rfc3339(),
    };
    if !repo.create_media(&media, now_epoch_seconds() + PENDING_UPLOAD_SECONDS).await? {
        let existing = repo.media_request(&upload.client_upload_id).await?.ok_or_else(|| AppError::internal("upload request vanished"))?;
        return repeat(app, p, existing, &upload).await;
    }
    let upload = sign_upload(app, &p.tenant, &media).await?;
    Ok(MediaTicket { media, upload: Some(upload) })
}

async fn sign_upload(app: &App, tenant: &TenantId, m: &AnnouncementMedia) -> AppResult<SignedUpload> {
    app.blobs
        .sign_upload(&keys::blob_announcement_upload(tenant, &m.id), &m.declared_type, m.size, Duration::from_secs(UPLOAD_URL_SECONDS))
        .await
        .map_err(blob_error)
}

async fn repeat(
    app: &App,
    p: &Principal,
    record: crate::ports::table::Item,
    upload: &crate::domain::attachment::CheckedUpload,
) -> AppResult<MediaTicket> {
    let same = record.get("file_name").and_then(|v| v.as_str()) == Some(upload.file_name.as_str())
        && record.get("content_type").and_then(|v| v.as_str()) == Some(upload.content_type.as_str())
        && record.get("size").and_then(|v| v.as_u64()) == Some(upload.size);
    if !same {
        return Err(AppError::Conflict("client_upload_id was already used for another file".into()));
    }
    let id = record.get("media_id").and_then(|v| v.as_str()).ok_or_else(|| AppError::internal("upload request without media"))?;
    let media = Announcements::new(app, &p.tenant).media(id).await?.ok_or(AppError::NotFound("media"))?;
    let upload = match media.status {
        MediaStatus::Pending => Some(sign_upload(app, &p.tenant, &media).await?),
        _ => None,
    };
    Ok(MediaTicket { media, upload })
}

pub async fn get(app: &App, p: &Principal, id: &str) -> AppResult<MediaView> {
    p.require_staff()?;
    let id = parse_media_id(id)?;
    let media = Announcements::new(app, &p.tenant).media(&id).await?.ok_or(AppError::NotFound("media"))?;
    let (url, url_expires_at) = match media.status {
        MediaStatus::Ready => {
            let (url, expires) =
                sign_download(app, &p.tenant, &media.id, &media.file_name, media.content_type.as_deref().unwrap_or("")).await?;
            (Some(url), Some(expires))
        }
        _ => (None, None),
    };
    Ok(MediaView { media, url, url_expires_at })
}

/// A short-lived URL of ready media, shown in the page (never as a download).
pub async fn sign_download(app: &App, tenant: &TenantId, id: &str, file_name: &str, content_type: &str) -> AppResult<(String, String)> {
    let valid = Duration::from_secs(DOWNLOAD_URL_SECONDS);
    let download = Download { file_name: file_name.to_string(), content_type: content_type.to_string(), inline: true };
    let url = app.blobs.sign_download(&keys::blob_announcement_media(tenant, id), &download, valid).await.map_err(blob_error)?;
    let expires =
        time::OffsetDateTime::from_unix_timestamp(now_epoch_seconds() + valid.as_secs() as i64).map(format_rfc3339).unwrap_or_default();
    Ok((url, expires))
}

/// What the storage trigger made of an announcement's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaVerification {
    Ready,
    Rejected(String),
    Ignored(&'static str),
}

/// Verifies media that arrived under `uploads/<tenant>/announcements/<amd>`. Safe to run twice
/// (the media leaves `pending` once); errors are transient failures, for the trigger to retry.
pub async fn verify_upload(app: &App, tenant: &TenantId, id: &str) -> AppResult<MediaVerification> {
    let upload_key = keys::blob_announcement_upload(tenant, id);
    let repo = Announcements::new(app, tenant);
    let Some(item) = app.table.get(&repo.media_key(id)).await? else {
        app.blobs.delete(&upload_key).await.map_err(blob_error)?;
        return Ok(MediaVerification::Ignored("no pending media for this object"));
    };
    let media: AnnouncementMedia = from_item(item)?;
    if media.status != MediaStatus::Pending {
        app.blobs.delete(&upload_key).await.map_err(blob_error)?;
        return Ok(MediaVerification::Ignored("already verified or refused"));
    }
    let Some(meta) = app.blobs.head(&upload_key).await.map_err(blob_error)? else {
        return Ok(MediaVerification::Ignored("the object is gone"));
    };
    if meta.size != media.size {
        let code = if meta.size > media.size { "too_large" } else { "size_mismatch" };
        return reject(app, tenant, id, code, format!("the upload has {} bytes; {} were declared", meta.size, media.size)).await;
    }
    let bytes = match app.blobs.read(&upload_key, media.size).await {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(MediaVerification::Ignored("the object is gone")),
        Err(BlobError::TooLarge { actual, limit }) => {
            return reject(app, tenant, id, "too_large", format!("the upload has {actual} bytes; {limit} were declared")).await
        }
        Err(e) => return Err(blob_error(e)),
    };
    let declared = media.declared_type.clone();
    let verified = match tokio::task::spawn_blocking(move || media::verify_announcement_media(&declared, &bytes)).await {
        Ok(Ok(v)) => v,
        Ok(Err(r)) => return reject(app, tenant, id, r.code, r.message).await,
        Err(e) => return Err(AppError::internal(format!("verification stopped: {e}"))),
    };
    if verified.kind != media.kind {
        return reject(
            app,
            tenant,
            id,
            "type_mismatch",
            format!("the bytes are {}, not the declared {}", verified.content_type, media.declared_type),
        )
        .await;
    }
    app.blobs.copy(&upload_key, &keys::blob_announcement_media(tenant, id), &verified.content_type).await.map_err(blob_error)?;
    let update =
        [("width", verified.width.map(u64::from)), ("height", verified.height.map(u64::from)), ("duration_ms", verified.duration_ms)]
            .into_iter()
            .fold(
                Update::default().set("status", MediaStatus::Ready.as_str()).set("content_type", verified.content_type.clone()).remove(TTL),
                |u, (k, v)| match v {
                    Some(v) => u.set(k, v),
                    None => u,
                },
            );
    if repo.settle_media(id, update).await?.is_none() {
        return Ok(MediaVerification::Ignored("already verified or refused"));
    }
    app.blobs.delete(&upload_key).await.map_err(blob_error)?;
    tracing::info!(media_id = %id, content_type = %verified.content_type, "announcement media verified");
    Ok(MediaVerification::Ready)
}

async fn reject(app: &App, tenant: &TenantId, id: &str, code: &str, message: String) -> AppResult<MediaVerification> {
    let reason = RejectionReason { code: code.to_string(), message };
    let update = Update::default()
        .set("status", MediaStatus::Rejected.as_str())
        .set("rejection", serde_json::to_value(&reason).map_err(AppError::internal)?);
    if Announcements::new(app, tenant).settle_media(id, update).await?.is_none() {
        return Ok(MediaVerification::Ignored("already verified or refused"));
    }
    for key in [keys::blob_announcement_upload(tenant, id), keys::blob_announcement_media(tenant, id)] {
        app.blobs.delete(&key).await.map_err(blob_error)?;
    }
    tracing::info!(media_id = %id, code = %reason.code, "announcement media refused");
    Ok(MediaVerification::Rejected(reason.code))
}
