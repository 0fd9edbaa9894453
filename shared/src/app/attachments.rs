//! Media in a session: request an upload (a pending attachment and a signed PUT), verify what
//! arrived (the storage trigger), and read it back through short-lived URLs.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use super::connections::deliver;
use super::customers::require_customer_access;
use super::messages::{append, created_event, Appended, Content};
use super::paging::{decode_cursor, read_page, PageOf};
use super::sessions::{can_read, load};
use super::{from_item, to_item, App};
use crate::domain::attachment::{inline_safe, Attachment, AttachmentStatus, DownloadUrls, MediaInfo, NewUpload, RejectionReason};
use crate::domain::limits::{DOWNLOAD_URL_SECONDS, PENDING_UPLOAD_SECONDS, UPLOAD_URL_SECONDS};
use crate::domain::message::{Message, MessageAttachment};
use crate::domain::session::SessionStatus;
use crate::domain::{format_rfc3339, now_epoch_seconds, now_rfc3339, AttachmentId, CustomerId, Principal, SessionId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::media::{self, MediaKind};
use crate::ports::blobs::{BlobError, Download, SignedUpload};
use crate::ports::table::{Condition, Query, SortKey, StoreError, TransactOp, Update, TTL};
use crate::ws::protocol::ServerFrame;

/// The answer to an upload request: the attachment and, while it waits for its bytes, where
/// to put them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadTicket {
    pub attachment: Attachment,
    /// Absent once the attachment is no longer pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload: Option<SignedUpload>,
}

/// An attachment as a reader sees it: with download URLs once it is ready.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    #[serde(flatten)]
    pub attachment: Attachment,
    #[serde(flatten)]
    pub urls: DownloadUrls,
}

/// One of a customer's files, across all their sessions.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CustomerFile {
    pub attachment_id: String,
    pub session_id: String,
    pub message_seq: u64,
    pub kind: MediaKind,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    #[serde(flatten)]
    pub media: MediaInfo,
    pub uploader: crate::domain::ParticipantRef,
    pub created_at: String,
    #[serde(flatten)]
    pub urls: DownloadUrls,
}

fn blob_error(e: BlobError) -> AppError {
    match e {
        BlobError::NotAvailable => AppError::NotAvailable("media storage"),
        other => AppError::internal(other),
    }
}

/// Requests an upload into a session the caller takes part in. A repeated request with the same
/// `client_upload_id` answers the same attachment (with a fresh URL while it is pending).
pub async fn request_upload(app: &App, p: &Principal, session_id: &str, input: NewUpload) -> AppResult<UploadTicket> {
    let session_id = SessionId::parse(session_id)?;
    let upload = input.check()?;
    let me = p.participant();
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !session.participants.iter().any(|x| x.who == me) {
        return Err(if can_read(p, &session) { AppError::NotAParticipant } else { AppError::NotFound("session") });
    }
    let request_key = keys::upload_request(&p.tenant, &session_id, &me, &upload.client_upload_id);
    if let Some(existing) = app.table.get(&request_key).await? {
        return repeat(app, p, &session_id, existing, &upload).await;
    }
    if session.status == SessionStatus::Closed {
        return Err(AppError::SessionClosed);
    }
    let id = AttachmentId::generate();
    let attachment = Attachment {
        id: id.to_string(),
        session_id: session_id.to_string(),
        customer_id: session.customer_id.clone(),
        uploader: me.clone(),
        client_upload_id: upload.client_upload_id.clone(),
        file_name: upload.file_name.clone(),
        kind: upload.kind,
        declared_type: upload.content_type.clone(),
        size: upload.size,
        caption: upload.caption.clone(),
        status: AttachmentStatus::Pending,
        content_type: None,
        media: MediaInfo::default(),
        rejection: None,
        message_seq: None,
        created_at: now_rfc3339(),
        ready_at: None,
    };
    // Both records expire if the upload never arrives (DynamoDB TTL; locally the same purge).
    let expires = now_epoch_seconds() + PENDING_UPLOAD_SECONDS;
    let record = to_item(
        &json!({ "attachment_id": attachment.id, "file_name": upload.file_name, "content_type": upload.content_type, "size": upload.size }),
        &request_key,
        &[("entity", "upload_request".into()), (TTL, expires.into())],
    )?;
    let item =
        to_item(&attachment, &keys::attachment(&p.tenant, &session_id, &id), &[("entity", "attachment".into()), (TTL, expires.into())])?;
    let ops = vec![
        TransactOp::Put { item, condition: Some(Condition::NotExists) },
        TransactOp::Put { item: record, condition: Some(Condition::NotExists) },
    ];
    match app.table.transact_write(ops).await {
        Ok(()) => {}
        // The same request, concurrently: answer what the other one stored.
        Err(StoreError::TransactionCancelled { reasons }) if reasons.get(1) == Some(&true) => {
            let existing = app.table.get(&request_key).await?.ok_or_else(|| AppError::internal("upload request vanished"))?;
            return repeat(app, p, &session_id, existing, &upload).await;
        }
        Err(e) => return Err(e.into()),
    }
    let signed = sign_upload(app, &p.tenant, &session_id, &id, &attachment).await?;
    Ok(UploadTicket { attachment, upload: Some(signed) })
}

async fn sign_upload(app: &App, tenant: &TenantId, session: &SessionId, id: &AttachmentId, a: &Attachment) -> AppResult<SignedUpload> {
    app.blobs
        .sign_upload(&keys::blob_upload(tenant, session, id), &a.declared_type, a.size, Duration::from_secs(UPLOAD_URL_SECONDS))
        .await
        .map_err(blob_error)
}

async fn repeat(
    app: &App,
    p: &Principal,
    session_id: &SessionId,
    record: crate::ports::table::Item,
    upload: &crate::domain::attachment::CheckedUpload,
) -> AppResult<UploadTicket> {
    let same = record.get("file_name").and_then(|v| v.as_str()) == Some(upload.file_name.as_str())
        && record.get("content_type").and_then(|v| v.as_str()) == Some(upload.content_type.as_str())
        && record.get("size").and_then(|v| v.as_u64()) == Some(upload.size);
    if !same {
        return Err(AppError::Conflict("client_upload_id was already used for another file".into()));
    }
    let id = record.get("attachment_id").and_then(|v| v.as_str()).ok_or_else(|| AppError::internal("upload request without attachment"))?;
    let id = AttachmentId::parse(id)?;
    let item = app.table.get(&keys::attachment(&p.tenant, session_id, &id)).await?.ok_or(AppError::NotFound("attachment"))?;
    let attachment: Attachment = from_item(item)?;
    let upload = match attachment.status {
        AttachmentStatus::Pending => Some(sign_upload(app, &p.tenant, session_id, &id, &attachment).await?),
        _ => None,
    };
    Ok(UploadTicket { attachment, upload })
}

/// An attachment of a session the caller may read, with download URLs once ready.
pub async fn get(app: &App, p: &Principal, session_id: &str, attachment_id: &str) -> AppResult<AttachmentView> {
    let session_id = SessionId::parse(session_id)?;
    let id = AttachmentId::parse(attachment_id)?;
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    let item = app.table.get(&keys::attachment(&p.tenant, &session_id, &id)).await?.ok_or(AppError::NotFound("attachment"))?;
    let attachment: Attachment = from_item(item)?;
    let mut view = AttachmentView { attachment, urls: DownloadUrls::default() };
    if view.attachment.status == AttachmentStatus::Ready {
        let a = &view.attachment;
        let content_type = a.content_type.clone().unwrap_or_else(|| a.declared_type.clone());
        view.urls = sign_downloads(app, &p.tenant, &session_id, &id, &a.file_name, &content_type, a.media.has_thumbnail).await?;
    }
    Ok(view)
}

/// Signed URLs of a ready attachment.
async fn sign_downloads(
    app: &App,
    tenant: &TenantId,
    session: &SessionId,
    id: &AttachmentId,
    file_name: &str,
    content_type: &str,
    has_thumbnail: bool,
) -> AppResult<DownloadUrls> {
    let valid = Duration::from_secs(DOWNLOAD_URL_SECONDS);
    let download = Download { file_name: file_name.to_string(), content_type: content_type.to_string(), inline: inline_safe(content_type) };
    let url = app.blobs.sign_download(&keys::blob_media(tenant, session, id), &download, valid).await.map_err(blob_error)?;
    let thumbnail = if has_thumbnail {
        let thumb = Download { file_name: "thumbnail.jpg".into(), content_type: "image/jpeg".into(), inline: true };
        Some(app.blobs.sign_download(&keys::blob_thumbnail(tenant, session, id), &thumb, valid).await.map_err(blob_error)?)
    } else {
        None
    };
    let expires =
        time::OffsetDateTime::from_unix_timestamp(now_epoch_seconds() + valid.as_secs() as i64).map(format_rfc3339).unwrap_or_default();
    Ok(DownloadUrls { url: Some(url), thumbnail_url: thumbnail, urls_expire_at: Some(expires) })
}

/// Adds download URLs to the attachment of a media message (history, frames).
pub async fn sign_message(app: &App, tenant: &TenantId, message: &mut Message) -> AppResult<()> {
    let Some(a) = message.attachment.as_mut() else { return Ok(()) };
    let session = SessionId::parse(&message.session_id)?;
    let id = AttachmentId::parse(&a.id)?;
    a.urls = sign_downloads(app, tenant, &session, &id, &a.file_name, &a.content_type, a.media.has_thumbnail).await?;
    Ok(())
}

/// What the storage trigger made of one uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Verified and posted as the session's message `seq`.
    Ready {
        seq: u64,
    },
    Rejected(RejectionReason),
    /// Nothing to do: already verified or refused (a redelivered event), or no such attachment
    /// (expired, or never requested) — the object is deleted.
    Ignored(&'static str),
}

/// The attachment item's attribute holding the file's text (plain text, CSV, PDF), for search.
pub const FILE_TEXT: &str = "text";

/// Verifies an upload that arrived under `uploads/<tenant>/<session>/<attachment>` and turns it
/// into a message, or refuses it. Safe to run twice for one object (S3 delivers events at least
/// once): an attachment leaves `pending` once, in the transaction that posts its message.
/// Errors are transient backend failures only, for the trigger to retry.
pub async fn verify_upload(app: &App, tenant: &TenantId, session_id: &SessionId, id: &AttachmentId) -> AppResult<Verification> {
    let upload_key = keys::blob_upload(tenant, session_id, id);
    let Some(item) = app.table.get(&keys::attachment(tenant, session_id, id)).await? else {
        app.blobs.delete(&upload_key).await.map_err(blob_error)?;
        return Ok(Verification::Ignored("no pending attachment for this object"));
    };
    let attachment: Attachment = from_item(item)?;
    let upload = Upload { app, tenant, session_id, id, attachment: &attachment };
    if attachment.status != AttachmentStatus::Pending {
        // A second delivery, or the same URL used again: the verified copy lives under media/.
        app.blobs.delete(&upload_key).await.map_err(blob_error)?;
        return Ok(Verification::Ignored("already verified or refused"));
    }
    let Some(meta) = app.blobs.head(&upload_key).await.map_err(blob_error)? else {
        return Ok(Verification::Ignored("the object is gone"));
    };
    if meta.size != attachment.size {
        let code = if meta.size > attachment.size { "too_large" } else { "size_mismatch" };
        let message = format!("the upload has {} bytes; {} were declared", meta.size, attachment.size);
        return upload.reject(code, message).await;
    }
    let bytes = match app.blobs.read(&upload_key, attachment.size).await {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(Verification::Ignored("the object is gone")),
        Err(BlobError::TooLarge { actual, limit }) => {
            return upload.reject("too_large", format!("the upload has {actual} bytes; {limit} were declared")).await
        }
        Err(e) => return Err(blob_error(e)),
    };
    let declared = attachment.declared_type.clone();
    let verified = match tokio::task::spawn_blocking(move || media::verify(&declared, &bytes)).await {
        Ok(Ok(v)) => v,
        Ok(Err(r)) => return upload.reject(r.code, r.message).await,
        Err(e) => return Err(AppError::internal(format!("verification stopped: {e}"))),
    };
    if verified.kind != attachment.kind {
        let message = format!("the bytes are {}, not the declared {}", verified.content_type, attachment.declared_type);
        return upload.reject("type_mismatch", message).await;
    }
    let served_type = verified.served_content_type.clone().unwrap_or_else(|| verified.content_type.clone());
    let media_key = keys::blob_media(tenant, session_id, id);
    match verified.served {
        Some(bytes) => app.blobs.write(&media_key, bytes, &served_type).await,
        None => app.blobs.copy(&upload_key, &media_key, &served_type).await,
    }
    .map_err(blob_error)?;
    let info = MediaInfo {
        width: verified.width,
        height: verified.height,
        duration_ms: verified.duration_ms,
        has_thumbnail: verified.thumbnail.is_some(),
    };
    if let Some(thumb) = verified.thumbnail {
        app.blobs.write(&keys::blob_thumbnail(tenant, session_id, id), thumb, "image/jpeg").await.map_err(blob_error)?;
    }

    let media = MessageAttachment {
        id: id.to_string(),
        file_name: attachment.file_name.clone(),
        content_type: served_type.clone(),
        size: attachment.size,
        media: info.clone(),
        urls: DownloadUrls::default(),
    };
    let content = Content {
        sender: attachment.uploader.clone(),
        client_message_id: attachment.client_upload_id.clone(),
        kind: verified.kind.into(),
        text: attachment.caption.clone().unwrap_or_default(),
        attachment: Some(media.clone()),
        call: None,
    };
    let customer = CustomerId::parse(&attachment.customer_id)?;
    let now = now_rfc3339();
    let extra = |m: &Message| -> AppResult<Vec<TransactOp>> {
        let ready = Update::default()
            .set("status", AttachmentStatus::Ready.as_str())
            .set("content_type", served_type.clone())
            .set("has_thumbnail", info.has_thumbnail)
            .set("message_seq", m.seq)
            .set("ready_at", now.clone())
            .remove(TTL);
        let ready =
            [("width", verified.width.map(u64::from)), ("height", verified.height.map(u64::from)), ("duration_ms", verified.duration_ms)]
                .into_iter()
                .fold(ready, |u, (k, v)| match v {
                    Some(v) => u.set(k, v),
                    None => u,
                });
        // The file's text, for search (the indexer reads it with the message).
        let ready = match &verified.text {
            Some(text) => ready.set(FILE_TEXT, text.clone()),
            None => ready,
        };
        let file = CustomerFile {
            attachment_id: id.to_string(),
            session_id: session_id.to_string(),
            message_seq: m.seq,
            kind: verified.kind,
            file_name: attachment.file_name.clone(),
            content_type: served_type.clone(),
            size: attachment.size,
            media: info.clone(),
            uploader: attachment.uploader.clone(),
            created_at: m.created_at.clone(),
            urls: DownloadUrls::default(),
        };
        let kind = kind_name(verified.kind);
        Ok(vec![
            TransactOp::Update {
                key: keys::attachment(tenant, session_id, id),
                update: ready,
                condition: Some(Condition::Equals("status".into(), AttachmentStatus::Pending.as_str().into())),
            },
            TransactOp::Put {
                item: to_item(&file, &keys::customer_file(tenant, &customer, id), &[("entity", "customer_file".into())])?,
                condition: None,
            },
            TransactOp::Put {
                item: to_item(&file, &keys::customer_file_of_kind(tenant, &customer, kind, id), &[("entity", "customer_file".into())])?,
                condition: None,
            },
        ])
    };
    let events = |m: &Message| {
        vec![
            created_event(tenant, m),
            EventEnvelope::new(
                types::ATTACHMENT_READY,
                tenant,
                format!("{id}:ready"),
                json!({ "session_id": session_id, "attachment_id": id, "message_seq": m.seq, "kind": verified.kind, "content_type": served_type, "size": attachment.size, "uploader": attachment.uploader }),
            ),
        ]
    };
    let appended = match append(app, tenant, session_id, content, extra, events).await {
        Err(AppError::NotAParticipant) => {
            return upload.reject("not_a_participant", "the uploader no longer takes part in the session".into()).await
        }
        other => other?,
    };
    match appended {
        Appended::Stored { mut message, session, unpublished } => {
            app.blobs.delete(&upload_key).await.map_err(blob_error)?;
            sign_message(app, tenant, &mut message).await?;
            let recipients: Vec<_> = session.participants.iter().map(|x| x.who.clone()).collect();
            let frame = ServerFrame::Message { message: message.clone() }.to_bytes();
            deliver(app, tenant, &recipients, &frame, None).await?;
            for event in unpublished {
                app.publish(event).await;
            }
            Ok(Verification::Ready { seq: message.seq })
        }
        Appended::Refused => Ok(Verification::Ignored("already verified or refused")),
        Appended::Closed => upload.reject("session_closed", "the session closed before the upload was verified".into()).await,
    }
}

fn kind_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Audio => "audio",
        MediaKind::File => "file",
    }
}

/// Refuses an upload: the attachment records why, its bytes are deleted, the uploader's live
/// connections get an error frame, and `attachment.rejected` names the reason.
/// The upload being verified: what refusing it touches.
struct Upload<'a> {
    app: &'a App,
    tenant: &'a TenantId,
    session_id: &'a SessionId,
    id: &'a AttachmentId,
    attachment: &'a Attachment,
}

impl Upload<'_> {
    async fn reject(&self, code: &str, message: String) -> AppResult<Verification> {
        let Upload { app, tenant, session_id, id, attachment } = *self;
        let reason = RejectionReason { code: code.to_string(), message };
        let update = Update::default()
            .set("status", AttachmentStatus::Rejected.as_str())
            .set("rejection", serde_json::to_value(&reason).map_err(AppError::internal)?);
        let pending = Some(Condition::Equals("status".into(), AttachmentStatus::Pending.as_str().into()));
        match app.table.update(&keys::attachment(tenant, session_id, id), update, pending).await {
            Ok(_) => {}
            Err(StoreError::ConditionFailed) => return Ok(Verification::Ignored("already verified or refused")),
            Err(e) => return Err(e.into()),
        }
        for key in [
            keys::blob_upload(tenant, session_id, id),
            keys::blob_media(tenant, session_id, id),
            keys::blob_thumbnail(tenant, session_id, id),
        ] {
            app.blobs.delete(&key).await.map_err(blob_error)?;
        }
        tracing::info!(attachment_id = %id, session_id = %session_id, code = %reason.code, "upload refused");
        let frame = ServerFrame::Error {
            code: "attachment_rejected".into(),
            message: reason.message.clone(),
            client_message_id: Some(attachment.client_upload_id.clone()),
            attachment_id: Some(id.to_string()),
        }
        .to_bytes();
        deliver(app, tenant, std::slice::from_ref(&attachment.uploader), &frame, None).await?;
        app.publish(EventEnvelope::new(
        types::ATTACHMENT_REJECTED,
        tenant,
        format!("{id}:rejected"),
        json!({ "session_id": session_id, "attachment_id": id, "uploader": attachment.uploader, "file_name": attachment.file_name, "declared_type": attachment.declared_type, "reason": reason }),
    ))
    .await;
        Ok(Verification::Rejected(reason))
    }
}

/// Every file of a customer across their sessions, newest first; `kind` narrows to one kind.
pub async fn list_customer_files(
    app: &App,
    p: &Principal,
    customer: &CustomerId,
    kind: Option<&str>,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<PageOf<CustomerFile>> {
    require_customer_access(p, customer)?;
    let prefix = match kind {
        None => keys::CUSTOMER_FILE_PREFIX.to_string(),
        Some(k @ ("image" | "audio" | "file")) => keys::customer_files_of_kind_prefix(k),
        Some(_) => return Err(AppError::validation("kind is image, audio or file")),
    };
    let mut query = Query::partition(keys::customer_partition(&p.tenant, customer)).sort(SortKey::BeginsWith(prefix.clone())).backward();
    if let Some(c) = cursor {
        let key = decode_cursor(c, &query)?;
        if !key.get("sk").and_then(|v| v.as_str()).is_some_and(|sk| sk.starts_with(&prefix)) {
            return Err(AppError::validation("cursor is not valid for this list"));
        }
        query.start_after = Some(key);
    }
    let profile_key = keys::customer(&p.tenant, customer);
    let (page, profile) = futures::join!(read_page(app.table.as_ref(), query, limit), app.table.get(&profile_key));
    if profile?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let (items, next_cursor) = page?;
    let mut files = Vec::with_capacity(items.len());
    for item in items {
        let mut file: CustomerFile = from_item(item)?;
        let session = SessionId::parse(&file.session_id)?;
        let id = AttachmentId::parse(&file.attachment_id)?;
        file.urls = sign_downloads(app, &p.tenant, &session, &id, &file.file_name, &file.content_type, file.media.has_thumbnail).await?;
        files.push(file);
    }
    Ok(PageOf { items: files, next_cursor })
}
