//! One handler per REST endpoint. Each is what a Lambda runs and what confer-local calls.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::{json_body, path_param, principal, query_param, respond};
use crate::app::attachments::{self, AttachmentView, CustomerFile, UploadTicket};
use crate::app::paging::{page_size, PageOf};
use crate::app::sessions::SessionSummary;
use crate::app::{customers, messages, sessions, App};
use crate::domain::attachment::NewUpload;
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::message::Message;
use crate::domain::session::{NewSession, Session};
use crate::domain::{CustomerId, SessionId};
use crate::error::{AppError, ErrorBody};
use crate::ports::events::LoggedEvent;

#[utoipa::path(post, path = "/v1/customers", tag = "customers", request_body = NewCustomer,
    responses((status = 201, body = Customer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        customers::create(&app, &p, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers", tag = "customers",
    params(("limit" = Option<usize>, Query, description = "1-100, default 25"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PageOf<Customer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customers(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        customers::list(&app, &p, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}", tag = "customers",
    params(("customerId" = String, Path)),
    responses((status = 200, body = Customer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?).map_err(|_| AppError::NotFound("customer"))?;
        customers::get(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(patch, path = "/v1/customers/{customerId}", tag = "customers", request_body = CustomerPatch,
    params(("customerId" = String, Path)),
    responses((status = 200, body = Customer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?).map_err(|_| AppError::NotFound("customer"))?;
        let patch: CustomerPatch = json_body(&req)?;
        customers::update(&app, &p, &id, patch).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/sessions", tag = "sessions",
    params(("customerId" = String, Path), ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PageOf<SessionSummary>, description = "Newest first"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customer_sessions(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?).map_err(|_| AppError::NotFound("customer"))?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        sessions::list_for_customer(&app, &p, &id, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = NewSession,
    responses((status = 201, body = Session), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        sessions::create(&app, &p, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}", tag = "sessions",
    params(("sessionId" = String, Path)),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = SessionId::parse(&path_param(&req, "sessionId")?).map_err(|_| AppError::NotFound("session"))?;
        sessions::get(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/close", tag = "sessions",
    params(("sessionId" = String, Path)),
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = SessionId::parse(&path_param(&req, "sessionId")?).map_err(|_| AppError::NotFound("session"))?;
        sessions::close(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}/messages", tag = "messages",
    params(
        ("sessionId" = String, Path),
        ("direction" = Option<String>, Query, description = "backward (newest first, default) or forward (oldest first)"),
        ("after_seq" = Option<u64>, Query, description = "messages with a higher sequence number, oldest first: the catch-up after a reconnect or a gap (0 reads from the start)"),
        ("before_seq" = Option<u64>, Query, description = "messages with a lower sequence number, newest first"),
        ("cursor" = Option<String>, Query), ("limit" = Option<usize>, Query, description = "1-100, default 25")),
    responses((status = 200, body = PageOf<Message>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_messages(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let session = path_param(&req, "sessionId")?;
        if SessionId::parse(&session).is_err() {
            return Err(AppError::NotFound("session"));
        }
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        let seq_param = |name: &str| -> Result<Option<u64>, AppError> {
            query_param(&req, name)
                .map(|s| s.parse::<u64>().map_err(|_| AppError::validation(format!("{name} must be a whole number from 0"))))
                .transpose()
        };
        let (after_seq, before_seq) = (seq_param("after_seq")?, seq_param("before_seq")?);
        let (direction, cursor) = (query_param(&req, "direction"), query_param(&req, "cursor"));
        let q = messages::HistoryQuery { direction: direction.as_deref(), cursor: cursor.as_deref(), after_seq, before_seq, limit };
        messages::history(&app, &p, &session, q).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/attachments", tag = "attachments", request_body = NewUpload,
    params(("sessionId" = String, Path)),
    responses((status = 201, body = UploadTicket, description = "A pending attachment and where to PUT its bytes; a repeated request (same client_upload_id) answers the same attachment"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_attachment(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        let session = path_param(&req, "sessionId")?;
        attachments::request_upload(&app, &p, &session, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}/attachments/{attachmentId}", tag = "attachments",
    params(("sessionId" = String, Path), ("attachmentId" = String, Path)),
    responses((status = 200, body = AttachmentView, description = "Its status (pending, ready, rejected with the reason) and, once ready, download URLs"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_attachment(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        attachments::get(&app, &p, &path_param(&req, "sessionId")?, &path_param(&req, "attachmentId")?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/files", tag = "attachments",
    params(("customerId" = String, Path), ("kind" = Option<String>, Query, description = "image, audio or file"),
        ("limit" = Option<usize>, Query, description = "1-100, default 25"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PageOf<CustomerFile>, description = "Newest first, with download URLs"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_customer_files(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        let kind = query_param(&req, "kind");
        attachments::list_customer_files(&app, &p, &id, kind.as_deref(), limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(("after" = Option<u64>, Query, description = "sequence number of the last event already read; 0 to start"), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = PageOf<LoggedEvent>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 501, body = ErrorBody, description = "Cloud deployments publish to SNS instead")),
    security(("bearer" = [])))]
pub async fn read_events(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        p.require_admin()?;
        let log = app.event_log.as_ref().ok_or(AppError::NotAvailable("an event log (subscribe to the SNS topic)"))?;
        let after = match query_param(&req, "after") {
            None => 0,
            Some(s) => s.parse::<u64>().map_err(|_| AppError::validation("after must be a sequence number"))?,
        };
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        let items = log.read(p.tenant.as_str(), after, limit).await.map_err(AppError::internal)?;
        let next_cursor = items.last().map(|e| e.seq.to_string());
        Ok(PageOf { items, next_cursor })
    })
    .await
}
