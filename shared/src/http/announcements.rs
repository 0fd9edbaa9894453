//! Handlers of announcements, their media and the customer's inbox (docs/announcements.md).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::openapi::{Cursor, PageSize};
use super::{json_body, json_body_up_to, path_param, principal, query_param, respond};
use crate::app::announcements::inbox::{self, InboxPage};
use crate::app::announcements::media::{self, MediaTicket, MediaView};
use crate::app::announcements::{self as announcements, AudiencePreview};
use crate::app::paging::{page_size, PageOf};
use crate::app::App;
use crate::domain::announcement::{Announcement, Audience, InboxEntry, NewAnnouncement, NewMediaUpload, OpenedAnnouncement};
use crate::domain::limits::MAX_ANNOUNCEMENT_BODY_BYTES;
use crate::error::ErrorBody;

use crate::domain::ids::{AnnouncementId, MediaId};

#[utoipa::path(post, path = "/v1/announcements", tag = "announcements", request_body = NewAnnouncement,
    responses(
        (status = 201, body = Announcement, description = "Stored and queued (`send_at` absent) or scheduled"),
        (status = 400, body = ErrorBody, description = "An empty audience, a blank or too long title or body, a malformed id, a schedule in the past or over a year ahead, refused media"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such media in this tenant"),
        (status = 409, body = ErrorBody, description = "`unknown_customers` or `unknown_groups`: ids of no customer or group of this tenant; `conflict`: the media is not verified yet. Nothing is stored"),
        (status = 413, body = ErrorBody, description = "A body over 512 KiB")),
    security(("bearer" = [])))]
pub async fn create_announcement(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        announcements::create(&app, &p, json_body_up_to(&req, MAX_ANNOUNCEMENT_BODY_BYTES)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/announcements", tag = "announcements",
    params(("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<Announcement>, description = "The tenant's announcements, newest first, with their counts"),
        (status = 400, body = ErrorBody, description = "A bad limit or cursor"),
        (status = 403, body = ErrorBody, description = "Customers")),
    security(("bearer" = [])))]
pub async fn list_announcements(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        announcements::list(&app, &principal(&req)?, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/announcements/{announcementId}", tag = "announcements",
    params(("announcementId" = AnnouncementId, Path)),
    responses(
        (status = 200, body = Announcement, description = "The announcement and its counts"),
        (status = 400, body = ErrorBody, description = "A malformed id"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such announcement in this tenant")),
    security(("bearer" = [])))]
pub async fn get_announcement(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { announcements::get(&app, &principal(&req)?, &path_param(&req, "announcementId")?).await }).await
}

#[utoipa::path(post, path = "/v1/announcements/{announcementId}/cancel", tag = "announcements",
    params(("announcementId" = AnnouncementId, Path)),
    responses(
        (status = 200, body = Announcement, description = "Cancelled (again: unchanged)"),
        (status = 400, body = ErrorBody, description = "A malformed id"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such announcement in this tenant"),
        (status = 409, body = ErrorBody, description = "Already being sent or sent")),
    security(("bearer" = [])))]
pub async fn cancel_announcement(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { announcements::cancel(&app, &principal(&req)?, &path_param(&req, "announcementId")?).await }).await
}

#[utoipa::path(post, path = "/v1/announcement-audience", tag = "announcements", request_body = Audience,
    responses(
        (status = 200, body = AudiencePreview, description = "Who the audience reaches now, each customer once"),
        (status = 400, body = ErrorBody, description = "An empty audience or a malformed id"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 409, body = ErrorBody, description = "`unknown_customers` or `unknown_groups`"),
        (status = 413, body = ErrorBody, description = "A body over 512 KiB")),
    security(("bearer" = [])))]
pub async fn preview_audience(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        announcements::preview(&app, &p, json_body_up_to(&req, MAX_ANNOUNCEMENT_BODY_BYTES)?).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/announcement-media", tag = "announcements", request_body = NewMediaUpload,
    responses(
        (status = 201, body = MediaTicket, description = "Pending media and where to PUT its bytes"),
        (status = 400, body = ErrorBody, description = "A type an announcement cannot carry, a size over its limit, a bad name"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 409, body = ErrorBody, description = "The client_upload_id was used for another file")),
    security(("bearer" = [])))]
pub async fn create_media(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move { media::request_upload(&app, &principal(&req)?, json_body(&req)?).await }).await
}

#[utoipa::path(get, path = "/v1/announcement-media/{mediaId}", tag = "announcements",
    params(("mediaId" = MediaId, Path)),
    responses(
        (status = 200, body = MediaView, description = "Its status; once ready, a short-lived URL to play it"),
        (status = 400, body = ErrorBody, description = "A malformed id"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such media in this tenant")),
    security(("bearer" = [])))]
pub async fn get_media(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { media::get(&app, &principal(&req)?, &path_param(&req, "mediaId")?).await }).await
}

#[utoipa::path(get, path = "/v1/inbox", tag = "announcements",
    params(("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = InboxPage, description = "The customer's announcements, newest first, and how many are unread"),
        (status = 400, body = ErrorBody, description = "A bad limit or cursor"),
        (status = 403, body = ErrorBody, description = "Agents (the inbox is a customer's)")),
    security(("bearer" = [])))]
pub async fn list_inbox(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        inbox::list(&app, &principal(&req)?, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/inbox/{announcementId}", tag = "announcements",
    params(("announcementId" = AnnouncementId, Path)),
    responses(
        (status = 200, body = OpenedAnnouncement, description = "The whole announcement, its media with a short-lived URL"),
        (status = 400, body = ErrorBody, description = "A malformed id"),
        (status = 403, body = ErrorBody, description = "Agents"),
        (status = 404, body = ErrorBody, description = "Not in this customer's inbox")),
    security(("bearer" = [])))]
pub async fn open_inbox_entry(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { inbox::open(&app, &principal(&req)?, &path_param(&req, "announcementId")?).await }).await
}

#[utoipa::path(post, path = "/v1/inbox/{announcementId}/read", tag = "announcements",
    params(("announcementId" = AnnouncementId, Path)),
    responses(
        (status = 200, body = InboxEntry, description = "Marked read (again: unchanged)"),
        (status = 400, body = ErrorBody, description = "A malformed id"),
        (status = 403, body = ErrorBody, description = "Agents"),
        (status = 404, body = ErrorBody, description = "Not in this customer's inbox")),
    security(("bearer" = [])))]
pub async fn read_inbox_entry(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { inbox::mark_read(&app, &principal(&req)?, &path_param(&req, "announcementId")?).await }).await
}
