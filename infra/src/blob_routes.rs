//! Signed object URLs on confer-local's port: `PUT /blobs/<key>` stores an upload exactly as
//! signed (method, key, content type, size, expiry) and raises the S3 notification the cloud
//! bucket would; `GET /blobs/<key>` serves an object with its signed type and disposition.

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;
use std::sync::Arc;

use confer::adapters::local::blobs::{Allowed, Refused, StoreStreamError};
use confer::adapters::local::LocalBlobs;
use confer::error::AppError;

use crate::stack::LocalStack;

fn refuse(e: AppError) -> Response {
    (e.status_code(), Json(serde_json::to_value(e.body(None)).unwrap_or_default())).into_response()
}

fn refused(r: Refused) -> Response {
    match r {
        Refused::Incomplete => refuse(AppError::validation("the URL is incomplete")),
        Refused::BadSignature | Refused::Expired => refuse(AppError::Forbidden(r.to_string())),
    }
}

/// Which local store a route serves: the attachments bucket's or the recordings bucket's.
#[derive(Clone, Copy)]
pub enum Store {
    Attachments,
    Recordings,
}

impl Store {
    fn of(self, stack: &LocalStack) -> &LocalBlobs {
        match self {
            Store::Attachments => &stack.blobs,
            Store::Recordings => &stack.recordings,
        }
    }
    fn bucket(self) -> &'static str {
        match self {
            Store::Attachments => confer::inbound::ATTACHMENTS_BUCKET,
            Store::Recordings => confer::inbound::RECORDINGS_BUCKET,
        }
    }
}

pub async fn put_object(
    State(stack): State<Arc<LocalStack>>,
    connect: ConnectInfo<SocketAddr>,
    key: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    put_into(Store::Attachments, stack, connect, key, query, headers, body).await
}

pub async fn put_recording(
    State(stack): State<Arc<LocalStack>>,
    connect: ConnectInfo<SocketAddr>,
    key: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    put_into(Store::Recordings, stack, connect, key, query, headers, body).await
}

pub async fn get_object(State(stack): State<Arc<LocalStack>>, key: Path<String>, query: RawQuery, request: Request) -> Response {
    get_from(Store::Attachments, stack, key, query, request).await
}

pub async fn get_recording(State(stack): State<Arc<LocalStack>>, key: Path<String>, query: RawQuery, request: Request) -> Response {
    get_from(Store::Recordings, stack, key, query, request).await
}

async fn put_into(
    store: Store,
    stack: Arc<LocalStack>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let blobs = store.of(&stack);
    let (content_type, size) = match blobs.check("put", &key, query.as_deref().unwrap_or("")) {
        Ok(Allowed::Upload { content_type, size }) => (content_type, size),
        Ok(_) => return refused(Refused::BadSignature),
        Err(r) => return refused(r),
    };
    // The signed headers must be sent as signed (S3: SignatureDoesNotMatch).
    let sent_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !sent_type.eq_ignore_ascii_case(&content_type) {
        return refuse(AppError::Forbidden(format!("the upload must carry content-type: {content_type}")));
    }
    if let Some(len) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok()) {
        if len != size {
            return refuse(AppError::Forbidden(format!("the upload must be exactly {size} bytes, not {len}")));
        }
    }
    match blobs.store_stream(&key, body.into_data_stream(), size).await {
        Ok(()) => {}
        Err(StoreStreamError::TooLong) => {
            return refuse(AppError::PayloadTooLarge { actual: size as usize + 1, limit: size as usize });
        }
        Err(e @ (StoreStreamError::TooShort { .. } | StoreStreamError::Interrupted)) => return refuse(AppError::validation(e.to_string())),
        Err(StoreStreamError::Io(e)) => return refuse(AppError::internal(e)),
    }
    let etag = format!("{:032x}", rand::random::<u128>());
    crate::s3_events::dispatch_object_created(stack.app.clone(), store.bucket(), &key, size, &etag, &source.ip().to_string());
    let mut response = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// Serves an object as S3 serves a presigned GET: byte ranges (`Range`, `206`,
/// `Accept-Ranges`, as media players need to seek), with its signed type and disposition.
async fn get_from(store: Store, stack: Arc<LocalStack>, Path(key): Path<String>, RawQuery(query): RawQuery, request: Request) -> Response {
    use tower::ServiceExt as _;
    let blobs = store.of(&stack);
    let (content_type, disposition) = match blobs.check("get", &key, query.as_deref().unwrap_or("")) {
        Ok(Allowed::Download { content_type, disposition }) => (content_type, disposition),
        Ok(_) => return refused(Refused::BadSignature),
        Err(r) => return refused(r),
    };
    let Some(path) = blobs.file_of(&key) else { return refuse(AppError::NotFound("object")) };
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return refuse(AppError::NotFound("object"));
    }
    let Ok(served) = tower_http::services::ServeFile::new(&path).oneshot(request).await;
    let mut response = served.map(Body::new);
    if response.status() == StatusCode::NOT_FOUND {
        return refuse(AppError::NotFound("object"));
    }
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, value(&content_type));
    h.insert(header::CONTENT_DISPOSITION, value(&disposition));
    // Never sniffed into something else, never a page with powers on this origin.
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    response
}
