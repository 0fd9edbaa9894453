//! Handlers of recordings, transcripts and tenant settings (docs/recordings.md).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::openapi::{Cursor, PageSize};
use super::{body_is_absent, error_response, json_body, path_param, principal, query_param, request_id, respond, respond_with_status};
use crate::app::calls::{self, StopRecording};
use crate::app::paging::{page_size, PageOf};
use crate::app::recordings::chunks::{self, ChunkTicket, NewChunk};
use crate::app::recordings::read::{self, MediaUrl};
use crate::app::recordings::transcripts::{self, Speaker, SpeakerNamesPatch, TranscriptPage};
use crate::app::settings::{self, SettingsPatch, TenantSettings};
use crate::app::App;
use crate::domain::recording::Recording;
use crate::domain::{CustomerId, RecordingId, SessionId};
use crate::error::ErrorBody;
use crate::ports::blobs::Download;
use crate::transcript::render::Format;

/// A recording's wrapper in start and stop answers.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RecordingEnvelope {
    pub recording: Recording,
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/call/recording", tag = "recordings",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 201, body = RecordingEnvelope, description = "Recording started; every participant gets a `call` frame `recording_started`"),
        (status = 200, body = RecordingEnvelope, description = "The call is being recorded already: that recording"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 403, body = ErrorBody, description = "`forbidden` for customers; `not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`no_active_call`, `session_closed`, or `conflict` when the caller is not in the call"),
        (status = 501, body = ErrorBody, description = "This deployment does not record calls")),
    security(("bearer" = [])))]
pub async fn start_recording(app: Arc<App>, req: Request) -> Response<Body> {
    respond_with_status(req, |req| async move {
        let p = principal(&req)?;
        let (created, recording) = calls::start_recording(&app, &p, &path_param(&req, "sessionId")?).await?;
        Ok((if created { 201 } else { 200 }, RecordingEnvelope { recording }))
    })
    .await
}

#[utoipa::path(delete, path = "/v1/sessions/{sessionId}/call/recording", tag = "recordings",
    request_body(content = Option<StopRecording>, description = "Optional: the chunks the recording browser uploaded per track"),
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = RecordingEnvelope, description = "Stopped (`processing`); every participant gets a `call` frame `recording_stopped`"),
        (status = 400, body = ErrorBody, description = "A malformed session id or chunk counts"),
        (status = 403, body = ErrorBody, description = "`forbidden` for customers; `not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`not_recording`")),
    security(("bearer" = [])))]
pub async fn stop_recording(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let input: StopRecording = if body_is_absent(&req) { StopRecording::default() } else { json_body(&req)? };
        let recording = calls::stop_recording(&app, &p, &path_param(&req, "sessionId")?, input).await?;
        Ok(RecordingEnvelope { recording })
    })
    .await
}

#[utoipa::path(post, path = "/v1/recordings/{recordingId}/chunks", tag = "recordings", request_body = NewChunk,
    params(("recordingId" = RecordingId, Path)),
    responses(
        (status = 201, body = ChunkTicket, description = "`PUT` the chunk's bytes to `upload.url` with `upload.headers`"),
        (status = 400, body = ErrorBody, description = "A bad track, sequence number or content type"),
        (status = 403, body = ErrorBody, description = "Only the recording agent uploads its tracks"),
        (status = 404, body = ErrorBody, description = "No such recording"),
        (status = 409, body = ErrorBody, description = "`recording_stopped` once assembly began, or a recording the pipeline makes"),
        (status = 413, body = ErrorBody, description = "A chunk over 16 MiB")),
    security(("bearer" = [])))]
pub async fn create_chunk(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        chunks::create(&app, &p, &path_param(&req, "recordingId")?, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/recordings", tag = "recordings",
    params(("customerId" = CustomerId, Path), ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<Recording>, description = "The customer's recordings, newest first"),
        (status = 400, body = ErrorBody, description = "A malformed id, limit or cursor"),
        (status = 403, body = ErrorBody, description = "A customer, when the business does not share recordings"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn list_customer_recordings(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        read::list_for_customer(&app, &p, &id, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/recordings/{recordingId}", tag = "recordings",
    params(("recordingId" = RecordingId, Path)),
    responses(
        (status = 200, body = Recording),
        (status = 400, body = ErrorBody, description = "A malformed recording id"),
        (status = 403, body = ErrorBody, description = "A customer, when the business does not share recordings"),
        (status = 404, body = ErrorBody, description = "No such recording for this caller")),
    security(("bearer" = [])))]
pub async fn get_recording(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { read::get(&app, &principal(&req)?, &path_param(&req, "recordingId")?).await }).await
}

#[utoipa::path(get, path = "/v1/recordings/{recordingId}/media", tag = "recordings",
    params(("recordingId" = RecordingId, Path),
        ("track" = Option<String>, Query, description = "`mixed` (the default), `audio`, or a participant's track (`agent.ann`)")),
    responses(
        (status = 200, body = MediaUrl, description = "A URL that plays the file for 5 minutes"),
        (status = 400, body = ErrorBody, description = "A malformed recording id"),
        (status = 403, body = ErrorBody, description = "A customer, when the business does not share recordings"),
        (status = 404, body = ErrorBody, description = "No such recording, or no such file of it (yet)")),
    security(("bearer" = [])))]
pub async fn recording_media(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        read::media(&app, &principal(&req)?, &path_param(&req, "recordingId")?, query_param(&req, "track").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/recordings/{recordingId}/transcript", tag = "recordings",
    params(("recordingId" = RecordingId, Path),
        ("lang" = Option<String>, Query, pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$", description = "A language to read the transcript in (`es`, `pt-BR`)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Turns per page (200 by default)"),
        ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = TranscriptPage),
        (status = 400, body = ErrorBody, description = "A malformed id, language, limit or cursor; `unsupported_language`"),
        (status = 403, body = ErrorBody, description = "A customer, when the business does not share recordings"),
        (status = 404, body = ErrorBody, description = "No such recording for this caller"),
        (status = 409, body = ErrorBody, description = "`transcript_not_ready` (being made, unavailable or failed: the message says)"),
        (status = 503, body = ErrorBody, description = "`translation_unavailable`")),
    security(("bearer" = [])))]
pub async fn get_transcript(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let limit = transcripts::page_size(query_param(&req, "limit").as_deref())?;
        let lang = query_param(&req, "lang");
        transcripts::get(&app, &p, &path_param(&req, "recordingId")?, lang.as_deref(), limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/recordings/{recordingId}/transcript/export", tag = "recordings",
    params(("recordingId" = RecordingId, Path),
        ("format" = Format, Query, description = "`txt`, `srt`, `vtt` or `json`"),
        ("lang" = Option<String>, Query, pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$", description = "A language to export the transcript in")),
    responses(
        (status = 200, content_type = "text/plain", body = String, description = "The file, as an attachment"),
        (status = 400, body = ErrorBody, description = "A bad format or language"),
        (status = 403, body = ErrorBody, description = "A customer, when the business does not share recordings"),
        (status = 404, body = ErrorBody, description = "No such recording for this caller"),
        (status = 409, body = ErrorBody, description = "`transcript_not_ready`"),
        (status = 503, body = ErrorBody, description = "`translation_unavailable`")),
    security(("bearer" = [])))]
pub async fn export_transcript(app: Arc<App>, req: Request) -> Response<Body> {
    let rid = request_id(&req);
    let result = async {
        let p = principal(&req)?;
        let format = query_param(&req, "format").unwrap_or_default();
        transcripts::export(&app, &p, &path_param(&req, "recordingId")?, &format, query_param(&req, "lang").as_deref()).await
    }
    .await;
    match result {
        Ok((content_type, file_name, body)) => {
            let disposition = Download { file_name, content_type: content_type.clone(), inline: false }.content_disposition();
            Response::builder()
                .status(200)
                .header("content-type", content_type)
                .header("content-disposition", disposition)
                .header("x-content-type-options", "nosniff")
                .body(Body::Text(body))
                .expect("valid response parts")
        }
        Err(e) => error_response(&e, rid.as_deref()),
    }
}

#[utoipa::path(patch, path = "/v1/recordings/{recordingId}/transcript/speakers", tag = "recordings", request_body = SpeakerNamesPatch,
    params(("recordingId" = RecordingId, Path)),
    responses(
        (status = 200, body = Vec<Speaker>, description = "Every speaker with their name now"),
        (status = 400, body = ErrorBody, description = "An unknown speaker label or a bad name"),
        (status = 403, body = ErrorBody, description = "Agents only"),
        (status = 404, body = ErrorBody, description = "No such recording for this caller"),
        (status = 409, body = ErrorBody, description = "`transcript_not_ready`")),
    security(("bearer" = [])))]
pub async fn name_speakers(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        transcripts::name_speakers(&app, &p, &path_param(&req, "recordingId")?, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/tenant/settings", tag = "settings",
    responses(
        (status = 200, body = TenantSettings),
        (status = 403, body = ErrorBody, description = "Agents only")),
    security(("bearer" = [])))]
pub async fn get_settings(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { settings::get(&app, &principal(&req)?).await }).await
}

#[utoipa::path(patch, path = "/v1/tenant/settings", tag = "settings", request_body = SettingsPatch,
    responses(
        (status = 200, body = TenantSettings, description = "The settings now"),
        (status = 400, body = ErrorBody, description = "A bad language or option"),
        (status = 403, body = ErrorBody, description = "Administrators only")),
    security(("bearer" = [])))]
pub async fn update_settings(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        settings::update(&app, &p, json_body::<SettingsPatch>(&req)?).await
    })
    .await
}
