//! WebSocket route handlers (API Gateway WebSocket events) and the `$connect` authorizer.

pub mod authorizer;
pub mod protocol;

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};

use crate::app::{connections, messages, App};
use crate::domain::limits::MAX_WS_MESSAGE_BYTES;
use crate::domain::principal::{CLAIM_CUSTOMER, CLAIM_ROLE, CLAIM_SUB, CLAIM_TENANT};
use crate::domain::Principal;
use crate::error::AppError;
use crate::http::parse_json;
use protocol::{client_message_id_of, AckAction, ReadAction, SendAction, ServerFrame, SignalAction, TypingAction, SUBPROTOCOL};

/// Keys of the authorizer context (what API Gateway passes to every route of the connection).
pub const CTX_TENANT: &str = "tenant";
pub const CTX_ROLE: &str = "role";
pub const CTX_SUBJECT: &str = "subject";

/// The caller, from the context our `$connect` authorizer returned.
pub fn principal(event: &ApiGatewayWebsocketProxyRequest) -> Result<Principal, AppError> {
    let fields = &event.request_context.authorizer.fields;
    let get = |k: &str| fields.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut claims = HashMap::new();
    claims.insert(CLAIM_TENANT.to_string(), get(CTX_TENANT).ok_or(AppError::Unauthorized)?);
    claims.insert(CLAIM_ROLE.to_string(), get(CTX_ROLE).ok_or(AppError::Unauthorized)?);
    let subject = get(CTX_SUBJECT).ok_or(AppError::Unauthorized)?;
    claims.insert(CLAIM_SUB.to_string(), subject.clone());
    claims.insert(CLAIM_CUSTOMER.to_string(), subject);
    Principal::from_claims(&claims)
}

fn now_epoch_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> String {
    event.request_context.connection_id.clone().unwrap_or_default()
}

pub fn response(status: i64) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r
}

async fn reply_error(app: &App, connection: &str, e: &AppError, client_message_id: Option<String>) -> ApiGatewayProxyResponse {
    if e.status_code().is_server_error() {
        tracing::error!(code = e.code(), error = %e, "websocket action failed");
    }
    connections::post(app, connection, &ServerFrame::error(e, client_message_id).to_bytes()).await;
    response(e.status_code().as_u16() as i64)
}

/// Body of a MESSAGE event, bounded by API Gateway's 128 KB message limit.
fn bounded_body(event: &ApiGatewayWebsocketProxyRequest) -> Result<&str, AppError> {
    let body = event.body.as_deref().unwrap_or("");
    if body.len() > MAX_WS_MESSAGE_BYTES {
        return Err(AppError::PayloadTooLarge { actual: body.len(), limit: MAX_WS_MESSAGE_BYTES });
    }
    Ok(body)
}

pub async fn on_connect(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let p = match principal(&event) {
        Ok(p) => p,
        Err(_) => return response(401),
    };
    let connection = connection_id(&event);
    if let Err(e) = connections::connect(&app, &p, &connection).await {
        tracing::error!(error = %e, connection_id = %connection, "could not record connection");
        return response(500);
    }
    tracing::info!(
        connection_id = %connection,
        tenant = p.tenant.as_str(),
        role = p.role.as_str(),
        principal = p.id.as_str(),
        "websocket connected"
    );
    let mut r = response(200);
    // Browsers send the token as a subprotocol; the handshake must echo the one we speak.
    let offered = event.headers.get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
    if offered.split(',').any(|p| p.trim() == SUBPROTOCOL) {
        r.headers.insert("sec-websocket-protocol", http::HeaderValue::from_static(SUBPROTOCOL));
    }
    r
}

pub async fn on_disconnect(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let ctx = &event.request_context;
    let p = principal(&event).ok();
    let duration_ms = (ctx.connected_at > 0).then(|| now_epoch_millis().saturating_sub(ctx.connected_at));
    tracing::info!(
        connection_id = ctx.connection_id.as_deref(),
        tenant = p.as_ref().map(|p| p.tenant.as_str()),
        role = p.as_ref().map(|p| p.role.as_str()),
        principal = p.as_ref().map(|p| p.id.as_str()),
        close_code = ctx.disconnect_status_code,
        reason = ctx.disconnect_reason.as_deref(),
        duration_ms,
        "websocket disconnected"
    );
    match connections::disconnect(&app, &connection_id(&event)).await {
        Ok(()) => response(200),
        Err(e) => {
            tracing::error!(error = %e, "could not remove connection");
            response(500)
        }
    }
}

/// Any frame whose `action` names no route: malformed JSON, a missing or unknown action, or `ping`.
pub async fn on_default(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let conn = connection_id(&event);
    let body = match bounded_body(&event) {
        Ok(b) => b,
        Err(e) => return reply_error(&app, &conn, &e, None).await,
    };
    let cmid = client_message_id_of(body);
    let value: serde_json::Value = match parse_json(body.as_bytes()) {
        Ok(v) => v,
        Err(e) => return reply_error(&app, &conn, &e, cmid).await,
    };
    match value.get("action").and_then(|a| a.as_str()) {
        Some("ping") => {
            connections::post(&app, &conn, &ServerFrame::Pong.to_bytes()).await;
            response(200)
        }
        Some(other) => reply_error(&app, &conn, &AppError::UnknownAction(other.chars().take(64).collect()), cmid).await,
        None => reply_error(&app, &conn, &AppError::validation("a frame needs an \"action\""), cmid).await,
    }
}

pub async fn on_send(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let conn = connection_id(&event);
    let body = match bounded_body(&event) {
        Ok(b) => b,
        Err(e) => return reply_error(&app, &conn, &e, None).await,
    };
    let cmid = client_message_id_of(body);
    let result = async {
        let p = principal(&event)?;
        let action: SendAction = parse_json(body.as_bytes())?;
        messages::send(&app, &p, &action.session_id, &action.client_message_id, &action.text, Some(&conn)).await
    }
    .await;
    match result {
        Ok(sent) => {
            let frame = ServerFrame::Ack {
                client_message_id: sent.message.client_message_id.clone(),
                message: sent.message,
                duplicate: sent.duplicate,
            };
            connections::post(&app, &conn, &frame.to_bytes()).await;
            response(200)
        }
        Err(e) => reply_error(&app, &conn, &e, cmid).await,
    }
}

/// Runs an action that answers nothing but errors: its frame is parsed as `A` and handed to `run`
/// with the caller and the connection id.
async fn silent_action<A, F, Fut>(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest, run: F) -> ApiGatewayProxyResponse
where
    A: serde::de::DeserializeOwned,
    F: FnOnce(Arc<App>, Principal, A, String) -> Fut,
    Fut: std::future::Future<Output = Result<bool, AppError>>,
{
    let conn = connection_id(&event);
    let body = match bounded_body(&event) {
        Ok(b) => b,
        Err(e) => return reply_error(&app, &conn, &e, None).await,
    };
    let parsed = principal(&event).and_then(|p| Ok((p, parse_json::<A>(body.as_bytes())?)));
    let result = match parsed {
        Ok((p, action)) => run(app.clone(), p, action, conn.clone()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => response(200),
        Err(e) => reply_error(&app, &conn, &e, None).await,
    }
}

pub async fn on_read(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    silent_action(app, event, |app, p, a: ReadAction, _| async move {
        messages::acknowledge(&app, &p, &a.session_id, a.up_to_seq, messages::Watermark::Read).await
    })
    .await
}

pub async fn on_typing(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    silent_action(app, event, |app, p, a: TypingAction, conn| async move { messages::typing(&app, &p, &a.session_id, &conn).await }).await
}

/// `signal`: WebRTC signalling relayed to one participant of the session's call.
pub async fn on_signal(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let size = event.body.as_deref().map(str::len).unwrap_or(0);
    silent_action(app, event, move |app, p, a: SignalAction, _| async move { crate::app::calls::signal(&app, &p, a, size).await }).await
}

pub async fn on_ack(app: Arc<App>, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    silent_action(app, event, |app, p, a: AckAction, _| async move {
        messages::acknowledge(&app, &p, &a.session_id, a.up_to_seq, messages::Watermark::Delivered).await
    })
    .await
}
