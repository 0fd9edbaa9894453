//! The API Gateway emulation: REST routes from the shared route table with JWT verification,
//! and a WebSocket endpoint with the `$connect` authorizer, route selection on `action`, and
//! `$disconnect` — each calling the same handler a Lambda runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::{Json, Router};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Map, Value};

use confer::adapters::local::connections::Outbound;
use confer::domain::limits::{CONNECTION_TTL_SECONDS, MAX_WS_MESSAGE_BYTES, WS_IDLE_TIMEOUT_SECONDS};
use confer::domain::Principal;
use confer::error::AppError;
use confer::http::routes::{find, ws_handler, Matched};
use confer::http::REQUEST_ID_HEADER;
use confer::identity::bearer;
use confer::ws::protocol::{route_key_of, ServerFrame, SUBPROTOCOL};

use crate::apigw_events as events;
use crate::stack::LocalStack;
use crate::web::{Console, WebRoot};

/// Read buffer of each WebSocket (frames are small; tungstenite zero-fills the buffer on every
/// read, so its 128 KiB default costs more than the frames). Larger frames still arrive whole.
const WS_READ_BUFFER_BYTES: usize = 8 * 1024;

/// API Gateway HTTP APIs accept request bodies up to 10 MB; handlers apply their own limits.
pub const MAX_GATEWAY_BODY_BYTES: usize = 10 * 1024 * 1024;
pub const WS_PATH: &str = "/ws";

#[derive(Clone)]
struct Gateway {
    stack: Arc<LocalStack>,
    host: String,
    /// The web client, served for `GET`/`HEAD` of every path outside the APIs.
    console: Arc<Console>,
}

/// The id API Gateway gives a request when it arrives: in the event handed to the handler, in
/// every error body, and in the `apigw-requestid` response header.
#[derive(Clone)]
struct RequestId(String);

pub fn router(stack: Arc<LocalStack>, addr: SocketAddr, web: WebRoot) -> Router {
    let console = Arc::new(Console::new(web, &format!("http://{addr}")));
    let state = Gateway { stack, host: addr.to_string(), console };
    Router::new()
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }).fallback(get_only))
        .route("/openapi.json", get(|| async { Json(confer::http::openapi::document_json()) }).fallback(get_only))
        .route("/.well-known/jwks.json", get(jwks).fallback(get_only))
        .fallback(rest_or_console)
        // Everything above is the HTTP API; the WebSocket API below is another API in AWS.
        .layer(axum::middleware::from_fn(with_request_id))
        .route(WS_PATH, get(websocket).fallback(get_only))
        .with_state(state.clone())
        .merge(blob_router(state.stack))
}

/// Signed object URLs (`/blobs/<key>`), the local stand-in for the attachments bucket.
fn blob_router(stack: Arc<LocalStack>) -> Router {
    use crate::blob_routes::{get_object, get_recording, put_object, put_recording};
    Router::new()
        .route("/blobs/{*key}", get(get_object).put(put_object))
        .route("/recordings/{*key}", get(get_recording).put(put_recording))
        .with_state(stack)
}

/// Another method on one of the gateway's own GET paths: 405 with `Allow`, in the error envelope.
async fn get_only(request_id: Option<Extension<RequestId>>, req: Request) -> Response {
    let e = AppError::MethodNotAllowed { method: req.method().to_string(), path: req.uri().path().to_string(), allow: vec!["GET", "HEAD"] };
    error(&e, request_id.as_ref().map(|Extension(RequestId(id))| id.as_str()))
}

async fn with_request_id(mut req: Request, next: axum::middleware::Next) -> Response {
    let id = events::request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

async fn jwks(State(g): State<Gateway>) -> Json<Value> {
    Json(serde_json::to_value(g.stack.issuer.jwks()).unwrap_or_default())
}

fn error(e: &AppError, request_id: Option<&str>) -> Response {
    let body = e.body(request_id);
    let mut response = (e.status_code(), Json(serde_json::to_value(body).unwrap_or_default())).into_response();
    if let AppError::MethodNotAllowed { allow, .. } = e {
        if let Ok(value) = http::HeaderValue::from_str(&allow.join(", ")) {
            response.headers_mut().insert(http::header::ALLOW, value);
        }
    }
    response
}

/// Closes every live socket (shutdown).
pub fn close_all(stack: &LocalStack) {
    stack.connections.close_all();
}

/// The web client for `GET`/`HEAD` outside the APIs (not an API Gateway route: in the cloud a
/// CDN serves it); everything else is the REST API's.
async fn rest_or_console(
    state: State<Gateway>,
    source: ConnectInfo<SocketAddr>,
    request_id: Extension<RequestId>,
    req: Request,
) -> Response {
    if let Some(page) = state.console.answer(req.method(), req.uri().path(), req.headers()) {
        return page;
    }
    rest(state, source, request_id, req).await
}

/// What the request line of a REST request reports besides its status.
#[derive(Default)]
struct Handled {
    route_key: Option<String>,
    principal: Option<Principal>,
}

async fn rest(
    State(g): State<Gateway>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    req: Request,
) -> Response {
    let started = Instant::now();
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let mut handled = Handled::default();
    let response = match route_rest(&g, source, &request_id, req, &mut handled).await {
        Ok(response) => response,
        Err(e) => error(&e, Some(&request_id)),
    };
    confer::http::log_request(&confer::http::RequestLine {
        request_id: Some(&request_id),
        method: &method,
        path: &path,
        route_key: handled.route_key.as_deref(),
        principal: handled.principal.as_ref(),
        status: response.status().as_u16(),
        started,
    });
    response
}

/// What API Gateway does before and around the integration: route, authorize, bound the body,
/// build the event; then the route's handler.
async fn route_rest(g: &Gateway, source: SocketAddr, request_id: &str, req: Request, handled: &mut Handled) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let (method, path) = (parts.method.as_str(), parts.uri.path());
    let (route, params) = match find(method, path) {
        // API Gateway hands path parameters over decoded (`D%2B` is `D+`).
        Matched::Found(route, params) => (
            route,
            params
                .into_iter()
                .map(|(k, v)| (k, percent_encoding::percent_decode_str(&v).decode_utf8_lossy().into_owned()))
                .collect::<Vec<_>>(),
        ),
        Matched::MethodNotAllowed(allow) => {
            return Err(AppError::MethodNotAllowed { method: method.to_string(), path: path.to_string(), allow })
        }
        Matched::NotFound => return Err(AppError::RouteNotFound(format!("{method} {path}"))),
    };
    let route_key = format!("{} {}", route.method, route.path);
    handled.route_key = Some(route_key.clone());
    // The JWT authorizer: the same verification code that checks Cognito tokens.
    // Routes without an authorizer (an invitation's exchange, local sign-in) get no claims.
    let verified = if route.public {
        None
    } else {
        let token = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
        let verified = g.stack.verifier.verify(token.ok_or(AppError::Unauthorized)?).await?;
        handled.principal = Principal::from_claims(&verified.claims).ok();
        Some(verified)
    };
    let body = to_bytes(body, MAX_GATEWAY_BODY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge { actual: MAX_GATEWAY_BODY_BYTES + 1, limit: MAX_GATEWAY_BODY_BYTES })?;
    let event = events::http_v2_event(&events::HttpRequestParts {
        request_id,
        method,
        path,
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body: &body,
        route_key: &route_key,
        path_parameters: &params,
        claims: verified.as_ref().map(|v| &v.claims),
        source,
        host: &g.host,
    });
    let request = events::to_lambda_request(&event).map_err(|e| AppError::internal(format!("event shape: {e}")))?;
    let response = (route.handler)(g.stack.app.clone(), request).await;
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(s) => s.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => Vec::new(),
    };
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn new_connection_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    // Shaped like API Gateway's (base64, 16 characters); URL-safe so it can sit in a path.
    base64::engine::general_purpose::URL_SAFE.encode(bytes) + "="
}

async fn websocket(State(g): State<Gateway>, ConnectInfo(source): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let headers = parts.headers.clone();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let connection_id = new_connection_id();
    let connected_at_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let conn = events::WsConnection { connection_id: &connection_id, connected_at_ms, source, host: &g.host };

    // $connect authorizer (the same function the cloud runs).
    let auth_event = match events::ws_authorizer_event(&conn, &headers, &raw_query) {
        Ok(e) => e,
        Err(e) => return error(&AppError::internal(e), None),
    };
    let allowed = match confer::ws::authorizer::authorize(&g.stack.verifier, auth_event).await {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(connection_id = %connection_id, status = e.status_code().as_u16(), "websocket handshake refused");
            return error(&e, None);
        }
    };
    let authorizer = events::authorizer_context(&allowed.principal_id, &allowed.context);
    let message_events = match events::WsMessageEvents::new(&conn, &authorizer) {
        Ok(m) => m,
        Err(e) => return error(&AppError::internal(e), None),
    };

    // $connect route: register the socket first so frames posted during $connect are not lost.
    let outbound = g.stack.connections.register(&connection_id);
    let connect = match events::ws_connect_event(&conn, &headers, &raw_query, &authorizer) {
        Ok(e) => e,
        Err(e) => return error(&AppError::internal(e), None),
    };
    let handler = ws_handler("$connect").expect("$connect is routed");
    let answer = handler(g.stack.app.clone(), connect).await;
    if answer.status_code != 200 {
        g.stack.connections.unregister(&connection_id);
        let status = StatusCode::from_u16(answer.status_code as u16).unwrap_or(StatusCode::FORBIDDEN);
        tracing::info!(connection_id = %connection_id, status = status.as_u16(), "websocket handshake refused by $connect");
        return (status, Json(json!({ "message": "Forbidden" }))).into_response();
    }
    let upgrade = if answer.headers.get("sec-websocket-protocol").is_some() { upgrade.protocols([SUBPROTOCOL]) } else { upgrade };
    let host = g.host.clone();
    upgrade.max_message_size(MAX_WS_MESSAGE_BYTES * 2).read_buffer_size(WS_READ_BUFFER_BYTES).on_upgrade(move |socket| async move {
        run_socket(g.clone(), socket, outbound, message_events, connection_id, connected_at_ms, source, host, authorizer).await
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_socket(
    g: Gateway,
    socket: WebSocket,
    mut outbound: tokio::sync::mpsc::UnboundedReceiver<Outbound>,
    message_events: events::WsMessageEvents,
    connection_id: String,
    connected_at_ms: i64,
    source: SocketAddr,
    host: String,
    authorizer: Map<String, Value>,
) {
    let (mut sink, mut stream) = socket.split();
    let (close_tx, mut close_rx) = tokio::sync::mpsc::unbounded_channel::<(u16, String)>();
    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                // A close decided by the reader (1009, idle, lifetime) wins over a drained queue.
                biased;
                Some((code, reason)) = close_rx.recv() => {
                    let _ = sink.send(WsMessage::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                    break;
                }
                next = outbound.recv() => {
                    let Some(first) = next else {
                        let _ = sink.send(WsMessage::Close(Some(CloseFrame { code: 1000, reason: "closed by server".into() }))).await;
                        break;
                    };
                    // Write every frame already queued, then flush once: one syscall for a burst.
                    let (mut item, mut closing, mut failed) = (Some(first), false, false);
                    while let Some(queued) = item.take() {
                        match queued {
                            Outbound::Frame(bytes) => {
                                let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                                if sink.feed(WsMessage::Text(text.into())).await.is_err() { failed = true; break; }
                                item = outbound.try_recv().ok();
                            }
                            Outbound::Close => closing = true,
                        }
                    }
                    if failed || sink.flush().await.is_err() { break; }
                    if closing {
                        let _ = sink.send(WsMessage::Close(Some(CloseFrame { code: 1000, reason: "closed by server".into() }))).await;
                        break;
                    }
                },
            }
        }
    });

    let conn = events::WsConnection { connection_id: &connection_id, connected_at_ms, source, host: &host };
    let lifetime = tokio::time::sleep(Duration::from_secs(CONNECTION_TTL_SECONDS as u64));
    tokio::pin!(lifetime);
    let (mut status, mut reason) = (1005u16, String::from("Client closed"));
    // Set when the gateway itself ends the connection, as API Gateway does.
    let mut forced: Option<&'static str> = None;
    loop {
        let next = tokio::select! {
            _ = &mut lifetime => {
                (status, reason, forced) = (1001, "Going away".into(), Some("connection lifetime reached"));
                let _ = close_tx.send((1001, "connection lifetime reached".into()));
                break;
            }
            next = tokio::time::timeout(Duration::from_secs(WS_IDLE_TIMEOUT_SECONDS), stream.next()) => next,
        };
        let message = match next {
            Err(_) => {
                (status, reason, forced) = (1001, "Idle timeout".into(), Some("idle timeout"));
                let _ = close_tx.send((1001, "idle timeout".into()));
                break;
            }
            Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(m))) => m,
        };
        match message {
            WsMessage::Text(text) => {
                if text.len() > MAX_WS_MESSAGE_BYTES {
                    // API Gateway closes the connection with 1009 when a message exceeds 128 KB.
                    (status, reason, forced) = (1009, "Message too big".into(), Some("message too big"));
                    let _ = close_tx.send((1009, "message too big".into()));
                    break;
                }
                let route_key = route_key_of(text.as_str());
                let handler = ws_handler(route_key).expect("route selection yields routed keys");
                handler(g.stack.app.clone(), message_events.event(route_key, text.as_str())).await;
            }
            WsMessage::Binary(_) => {
                let frame = ServerFrame::error(&AppError::validation("send JSON text frames; media travels through uploads"), None);
                let _ = confer::ports::ConnectionGateway::post(&g.stack.connections, &connection_id, &frame.to_bytes()).await;
            }
            WsMessage::Close(frame) => {
                if let Some(f) = frame {
                    status = f.code;
                    reason = f.reason.to_string();
                }
                break;
            }
            WsMessage::Ping(_) | WsMessage::Pong(_) => {}
        }
    }
    if let Some(why) = forced {
        let field = |k: &str| authorizer.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        tracing::warn!(
            connection_id = %connection_id,
            tenant = %field(confer::ws::CTX_TENANT),
            role = %field(confer::ws::CTX_ROLE),
            principal = %field(confer::ws::CTX_SUBJECT),
            close_code = status,
            reason = why,
            "websocket closed by the gateway"
        );
    }
    g.stack.connections.unregister(&connection_id);
    drop(close_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    match events::ws_disconnect_event(&conn, &authorizer, status, &reason) {
        Ok(event) => {
            let handler = ws_handler("$disconnect").expect("$disconnect is routed");
            handler(g.stack.app.clone(), event).await;
        }
        Err(e) => tracing::error!(error = %e, "could not build DISCONNECT event"),
    }
}
