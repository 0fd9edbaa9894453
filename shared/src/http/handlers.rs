//! One handler per REST endpoint. Each is what a Lambda runs and what confer-local calls.
//!
//! The annotations are the OpenAPI document: every parameter with the rule the server applies,
//! every status the operation can answer. 401, 413 and 500, which every operation can answer, are
//! added to each by `openapi.rs`.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::openapi::{
    AfterSeq, BeforeSeq, Cursor, EventSeq, FileKind, HistoryDirection, MessageSeq, PageSize, SearchText, SessionStatusParam,
};
use super::{body_is_absent, json_body, path_param, principal, query_param, query_sequence, respond, respond_with_status};
use crate::app::agents::{self, AgentPatch, InvitedAgent, NewAgent};
use crate::app::attachments::{self, AttachmentView, CustomerFile, UploadTicket};
use crate::app::calls;
use crate::app::invitations::{self, Invitation, InvitationExchange, IssuedToken, NewInvitation, SignIn};
use crate::app::message_translations::{self, MessageTranslation};
use crate::app::paging::{page_size, PageOf};
use crate::app::sessions::{SessionListItem, SessionSummary};
use crate::app::{customers, messages, sessions, App};
use crate::domain::attachment::NewUpload;
use crate::domain::call::{Call, CallPatch, CallWithJoin, NewCall};
use crate::domain::customer::{Customer, CustomerPatch, NewCustomer};
use crate::domain::ids::AgentId;
use crate::domain::limits::{MAX_SEQ, MAX_SEQUENCE};
use crate::domain::message::Message;
use crate::domain::session::{NewSession, Session};
use crate::domain::{AttachmentId, CustomerId, SessionId};
use crate::error::{AppError, ErrorBody};
use crate::ports::events::{EventLogError, LoggedEvent};
use crate::ports::identity::AgentEntry;

#[utoipa::path(post, path = "/v1/customers", tag = "customers", request_body = NewCustomer,
    responses(
        (status = 201, body = Customer),
        (status = 400, body = ErrorBody, description = "`invalid_json` or `validation_failed`"),
        (status = 403, body = ErrorBody, description = "Customers may not create customers")),
    security(("bearer" = [])))]
pub async fn create_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        customers::create(&app, &p, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers", tag = "customers",
    params(("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query),
        ("q" = Option<SearchText>, Query)),
    responses(
        (status = 200, body = PageOf<Customer>, description = "Oldest first. With `q`, the customers whose name or email contains it (any case); a page may hold fewer than `limit` while `next_cursor` says the search goes on"),
        (status = 400, body = ErrorBody, description = "A bad `limit`, `cursor` or `q`"),
        (status = 403, body = ErrorBody, description = "Customers may not list customers")),
    security(("bearer" = [])))]
pub async fn list_customers(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        customers::list(&app, &p, limit, query_param(&req, "cursor").as_deref(), query_param(&req, "q").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}", tag = "customers",
    params(("customerId" = CustomerId, Path)),
    responses(
        (status = 200, body = Customer),
        (status = 400, body = ErrorBody, description = "A malformed customer id"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn get_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        customers::get(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(patch, path = "/v1/customers/{customerId}", tag = "customers", request_body = CustomerPatch,
    params(("customerId" = CustomerId, Path)),
    responses(
        (status = 200, body = Customer),
        (status = 400, body = ErrorBody, description = "A malformed customer id, `invalid_json` or `validation_failed`"),
        (status = 403, body = ErrorBody, description = "Customers may not update customers"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn update_customer(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let patch: CustomerPatch = json_body(&req)?;
        customers::update(&app, &p, &id, patch).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/sessions", tag = "sessions",
    params(("customerId" = CustomerId, Path), ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<SessionSummary>, description = "Newest first"),
        (status = 400, body = ErrorBody, description = "A malformed customer id, a bad `limit` or `cursor`"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn list_customer_sessions(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        sessions::list_for_customer(&app, &p, &id, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = NewSession,
    responses(
        (status = 201, body = Session),
        (status = 400, body = ErrorBody, description = "`invalid_json` or `validation_failed`"),
        (status = 403, body = ErrorBody, description = "Customers may not open sessions"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn create_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        sessions::create(&app, &p, json_body(&req)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}", tag = "sessions",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Session),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 404, body = ErrorBody, description = "No such session for this caller")),
    security(("bearer" = [])))]
pub async fn get_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = SessionId::parse(&path_param(&req, "sessionId")?)?;
        sessions::get_with_presence(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions", tag = "sessions",
    params(("status" = Option<SessionStatusParam>, Query), ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<SessionListItem>, description = "The caller's sessions, newest first, each with its unread count. With `status`, a page may hold fewer than `limit` while `next_cursor` says more may follow"),
        (status = 400, body = ErrorBody, description = "A bad `status`, `limit` or `cursor`")),
    security(("bearer" = [])))]
pub async fn list_my_sessions(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let status = sessions::parse_status(query_param(&req, "status").as_deref())?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        sessions::list_mine(&app, &p, status, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/invitations", tag = "identity", request_body(content = Option<NewInvitation>, description = "Optional: no body (or `null`) takes the default lifetime"),
    params(("customerId" = CustomerId, Path)),
    responses(
        (status = 201, body = Invitation, description = "A single-use link for the customer: the web client opens `join_path` on its origin"),
        (status = 400, body = ErrorBody, description = "A malformed customer id or a lifetime out of range"),
        (status = 403, body = ErrorBody, description = "Customers may not invite"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
    security(("bearer" = [])))]
pub async fn create_invitation(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let input: NewInvitation = if body_is_absent(&req) { NewInvitation::default() } else { json_body(&req)? };
        invitations::create(&app, &p, &id, input).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/customers/{customerId}/tokens", tag = "identity",
    params(("customerId" = CustomerId, Path)),
    responses(
        (status = 201, body = IssuedToken, description = "A customer token for a customer the business's own backend has authenticated (server to server)"),
        (status = 400, body = ErrorBody, description = "A malformed customer id"),
        (status = 403, body = ErrorBody, description = "Customers may not mint tokens"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller"),
        (status = 501, body = ErrorBody, description = "This deployment does not mint customer tokens")),
    security(("bearer" = [])))]
pub async fn create_customer_token(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        invitations::customer_token(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/invitations/exchange", tag = "identity", request_body = InvitationExchange,
    responses(
        (status = 200, body = IssuedToken, description = "A customer token bound to the invited customer"),
        (status = 400, body = ErrorBody, description = "A body of the wrong shape, or a secret that is not an invitation's"),
        (status = 404, body = ErrorBody, description = "`invitation_invalid`: the link was used, has expired, or never existed"),
        (status = 501, body = ErrorBody, description = "This deployment does not mint customer tokens")),
    security(()))]
pub async fn exchange_invitation(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { invitations::exchange(&app, json_body(&req)?).await }).await
}

#[utoipa::path(post, path = "/v1/local/sign-in", tag = "identity", request_body = SignIn,
    responses(
        (status = 200, body = IssuedToken, description = "An agent token (confer-local's agents, `confer-local agent add`)"),
        (status = 400, body = ErrorBody, description = "A body of the wrong shape"),
        (status = 401, body = ErrorBody, description = "Unknown tenant, name or password, or a disabled agent")),
    security(()))]
pub async fn local_sign_in(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { invitations::sign_in(&app, json_body(&req)?).await }).await
}

#[utoipa::path(get, path = "/v1/agents", tag = "identity",
    responses(
        (status = 200, body = Vec<AgentEntry>, description = "The tenant's agents who sign in with a password (confer-local)"),
        (status = 403, body = ErrorBody, description = "Admins only"),
        (status = 501, body = ErrorBody, description = "No agent directory here")),
    security(("bearer" = [])))]
pub async fn list_agents(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { agents::list(&app, &principal(&req)?).await }).await
}

#[utoipa::path(post, path = "/v1/agents", tag = "identity", request_body = NewAgent,
    responses(
        (status = 201, body = InvitedAgent, description = "The agent, with a one-time password shown once"),
        (status = 400, body = ErrorBody, description = "A bad username or role"),
        (status = 403, body = ErrorBody, description = "Admins only"),
        (status = 409, body = ErrorBody, description = "The name is taken in this tenant"),
        (status = 501, body = ErrorBody, description = "No agent directory here")),
    security(("bearer" = [])))]
pub async fn invite_agent(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move { agents::invite(&app, &principal(&req)?, json_body(&req)?).await }).await
}

#[utoipa::path(patch, path = "/v1/agents/{agentId}", tag = "identity", request_body = AgentPatch,
    params(("agentId" = AgentId, Path)),
    responses(
        (status = 200, body = AgentEntry, description = "The agent as changed; disabling closes their open sockets"),
        (status = 400, body = ErrorBody, description = "A bad agent id or body"),
        (status = 403, body = ErrorBody, description = "Admins only"),
        (status = 404, body = ErrorBody, description = "No such agent in this tenant"),
        (status = 409, body = ErrorBody, description = "An admin disabling or demoting themself"),
        (status = 501, body = ErrorBody, description = "No agent directory here")),
    security(("bearer" = [])))]
pub async fn update_agent(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = path_param(&req, "agentId")?;
        agents::update(&app, &p, &id, json_body(&req)?).await
    })
    .await
}

/// Who the caller is, as the verified token says.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    pub tenant: String,
    pub role: crate::domain::Role,
    /// The agent's subject, or the customer's id.
    pub id: String,
}

#[utoipa::path(get, path = "/v1/me", tag = "identity",
    responses((status = 200, body = Me)),
    security(("bearer" = [])))]
pub async fn get_me(_app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        Ok(Me { tenant: p.tenant.to_string(), role: p.role, id: p.id })
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/call", tag = "calls", request_body(content = Option<NewCall>, description = "Optional: no body (or `null`) starts at 480p"),
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 201, body = CallWithJoin, description = "A new call and the caller's join information; the other participants get a `call` frame"),
        (status = 200, body = CallWithJoin, description = "The session's running call (one per session) and the caller's join information"),
        (status = 400, body = ErrorBody, description = "A malformed session id or an unknown preset"),
        (status = 403, body = ErrorBody, description = "`not_a_participant`: an agent of the tenant who is not in the session"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`session_closed`"),
        (status = 501, body = ErrorBody, description = "This deployment has no video calls")),
    security(("bearer" = [])))]
pub async fn start_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond_with_status(req, |req| async move {
        let p = principal(&req)?;
        let id = path_param(&req, "sessionId")?;
        let input: NewCall = if body_is_absent(&req) { NewCall::default() } else { json_body(&req)? };
        let (created, started) = calls::start(&app, &p, &id, input).await?;
        Ok((if created { 201 } else { 200 }, started))
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}/call", tag = "calls",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Call, description = "The session's active call"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 404, body = ErrorBody, description = "No such session for this caller, or no active call")),
    security(("bearer" = [])))]
pub async fn get_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { calls::get(&app, &principal(&req)?, &path_param(&req, "sessionId")?).await }).await
}

#[utoipa::path(patch, path = "/v1/sessions/{sessionId}/call", tag = "calls", request_body = CallPatch,
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Call, description = "The call at its new quality; every participant gets a `call` frame"),
        (status = 400, body = ErrorBody, description = "A malformed session id or an unknown preset"),
        (status = 403, body = ErrorBody, description = "`not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`quality_unavailable` above the call's `max_quality`, `no_active_call`, or `session_closed`")),
    security(("bearer" = [])))]
pub async fn update_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = path_param(&req, "sessionId")?;
        calls::set_quality(&app, &p, &id, json_body::<CallPatch>(&req)?).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/call/join", tag = "calls",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = CallWithJoin, description = "The caller's join information; they count as in the call"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 403, body = ErrorBody, description = "`not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`no_active_call`, or `session_closed`")),
    security(("bearer" = [])))]
pub async fn join_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { calls::join(&app, &principal(&req)?, &path_param(&req, "sessionId")?).await }).await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/call/leave", tag = "calls",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Call, description = "The call after the caller left; the last one to leave ends it"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 403, body = ErrorBody, description = "`not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`no_active_call`")),
    security(("bearer" = [])))]
pub async fn leave_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { calls::leave(&app, &principal(&req)?, &path_param(&req, "sessionId")?).await }).await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/call/end", tag = "calls",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Call, description = "The ended call; its end is in the session's history"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 403, body = ErrorBody, description = "`not_a_participant`"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "`no_active_call`")),
    security(("bearer" = [])))]
pub async fn end_call(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { calls::end(&app, &principal(&req)?, &path_param(&req, "sessionId")?).await }).await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/close", tag = "sessions",
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 200, body = Session, description = "The closed session (closing a closed session changes nothing)"),
        (status = 400, body = ErrorBody, description = "A malformed session id"),
        (status = 403, body = ErrorBody, description = "Customers, and agents who are not participants, may not close it"),
        (status = 404, body = ErrorBody, description = "No such session for this caller")),
    security(("bearer" = [])))]
pub async fn close_session(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = SessionId::parse(&path_param(&req, "sessionId")?)?;
        sessions::close(&app, &p, &id).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}/messages", tag = "messages",
    params(
        ("sessionId" = SessionId, Path),
        ("direction" = Option<HistoryDirection>, Query),
        ("cursor" = Option<Cursor>, Query),
        ("after_seq" = Option<AfterSeq>, Query),
        ("before_seq" = Option<BeforeSeq>, Query),
        ("limit" = Option<PageSize>, Query)),
    responses(
        (status = 200, body = PageOf<Message>),
        (status = 400, body = ErrorBody,
            description = "A malformed session id, a bad `limit`, `cursor`, `after_seq`, `before_seq` or `direction`, more than one of `cursor`, `after_seq` and `before_seq`, or a `direction` against them"),
        (status = 404, body = ErrorBody, description = "No such session for this caller")),
    security(("bearer" = [])))]
pub async fn list_messages(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let session = SessionId::parse(&path_param(&req, "sessionId")?)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        let (after_seq, before_seq) = (query_sequence(&req, "after_seq", 0, MAX_SEQ)?, query_sequence(&req, "before_seq", 1, MAX_SEQ)?);
        let (direction, cursor) = (query_param(&req, "direction"), query_param(&req, "cursor"));
        let q = messages::HistoryQuery { direction: direction.as_deref(), cursor: cursor.as_deref(), after_seq, before_seq, limit };
        messages::history(&app, &p, session.as_str(), q).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{sessionId}/messages/{seq}/translation", tag = "messages",
    params(
        ("sessionId" = SessionId, Path),
        ("seq" = MessageSeq, Path),
        ("lang" = String, Query, pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$", description = "The reader's language (`es`, `pt-BR`)")),
    responses(
        (status = 200, body = MessageTranslation, description = "The message's text (a media message's caption) in `lang`: translated on first demand, then stored and answered to every later reader"),
        (status = 400, body = ErrorBody, description = "A malformed session id or sequence number, a missing or malformed `lang`, or `unsupported_language`"),
        (status = 404, body = ErrorBody, description = "No such session or message for this caller"),
        (status = 409, body = ErrorBody, description = "`conflict`: the message has no text (a media message without a caption, a call entry)"),
        (status = 503, body = ErrorBody, description = "`translation_unavailable`: no translation service here, or it did not answer")),
    security(("bearer" = [])))]
pub async fn translate_message(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let session = path_param(&req, "sessionId")?;
        let seq = path_param(&req, "seq")?;
        let seq = match seq.parse::<u64>() {
            Ok(n) if (1..=MAX_SEQ).contains(&n) && seq.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(AppError::validation(format!("seq must be a whole number from 1 to {MAX_SEQ}"))),
        };
        message_translations::translate(&app, &p, &session, seq, query_param(&req, "lang").as_deref()).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/sessions/{sessionId}/attachments", tag = "attachments", request_body = NewUpload,
    params(("sessionId" = SessionId, Path)),
    responses(
        (status = 201, body = UploadTicket, description = "A pending attachment and where to PUT its bytes; a repeated request (same client_upload_id) answers the same attachment"),
        (status = 400, body = ErrorBody, description = "A malformed session id, or a body outside the rules: a type not in the allow-list, a blank or unsafe file name, a size of 0 or over its kind's limit, a caption too long"),
        (status = 403, body = ErrorBody, description = "An agent of the tenant who is not in the session"),
        (status = 404, body = ErrorBody, description = "No such session for this caller"),
        (status = 409, body = ErrorBody, description = "The session is closed, or the client_upload_id was used for another file")),
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
    params(("sessionId" = SessionId, Path), ("attachmentId" = AttachmentId, Path)),
    responses(
        (status = 200, body = AttachmentView, description = "Its status (pending, ready, rejected with the reason) and, once ready, download URLs"),
        (status = 400, body = ErrorBody, description = "A malformed session or attachment id"),
        (status = 404, body = ErrorBody, description = "No such session or attachment for this caller")),
    security(("bearer" = [])))]
pub async fn get_attachment(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        attachments::get(&app, &p, &path_param(&req, "sessionId")?, &path_param(&req, "attachmentId")?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/files", tag = "attachments",
    params(("customerId" = CustomerId, Path), ("kind" = Option<FileKind>, Query),
        ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<CustomerFile>, description = "Newest first, with download URLs"),
        (status = 400, body = ErrorBody, description = "A malformed customer id, a bad `kind`, `limit` or `cursor`"),
        (status = 404, body = ErrorBody, description = "No such customer for this caller")),
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
    params(("after" = Option<EventSeq>, Query), ("limit" = Option<PageSize>, Query)),
    responses(
        (status = 200, body = PageOf<LoggedEvent>, description = "Oldest first; `next_cursor` is the last event's `seq`"),
        (status = 400, body = ErrorBody, description = "A bad `after` or `limit`"),
        (status = 403, body = ErrorBody, description = "Only administrators read the event log"),
        (status = 501, body = ErrorBody, description = "Cloud deployments publish to SNS instead")),
    security(("bearer" = [])))]
pub async fn read_events(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        p.require_admin()?;
        let log = &app.event_log;
        let after = query_sequence(&req, "after", 0, MAX_SEQUENCE)?.unwrap_or(0);
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        let items = log.read(p.tenant.as_str(), after, limit).await.map_err(|e| match e {
            EventLogError::NotAvailable => AppError::NotAvailable("an event log (subscribe to the SNS topic)"),
            other => AppError::internal(other),
        })?;
        let next_cursor = items.last().map(|e| e.seq.to_string());
        Ok(PageOf { items, next_cursor })
    })
    .await
}
