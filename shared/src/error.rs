//! One error type for every use case and handler: a stable code and an HTTP status for the client,
//! internal details only in the logs.

use http::StatusCode;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{0}")]
    Validation(String),
    #[error("missing or invalid token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Customer ids in a request that name no customer of the caller's tenant (the message lists them).
    #[error("{0}")]
    UnknownCustomers(String),
    /// Group ids in a request that name no group of the caller's tenant (the message lists them).
    #[error("{0}")]
    UnknownGroups(String),
    #[error("{0}")]
    Conflict(String),
    /// Something that existed for this caller no longer does (a used or expired invitation).
    #[error("{0}")]
    Gone(String),
    #[error("the session is closed")]
    SessionClosed,
    /// Joining, leaving, ending or changing the call of a session that has none going.
    #[error("the session has no call going on; start one first")]
    NoActiveCall,
    /// A call asked for more than it was created for (a Chime meeting's features are fixed).
    #[error("{0}")]
    QualityUnavailable(String),
    #[error("not a participant of this session")]
    NotAParticipant,
    /// Stopping a recording, or sending it a chunk, when the call is not being recorded.
    #[error("the call is not being recorded")]
    NotRecording,
    /// A chunk for a recording whose assembly has begun.
    #[error("the recording has stopped; its files are being assembled")]
    RecordingStopped,
    /// A transcript asked for before it exists (or when it cannot exist: the reason says).
    #[error("{0}")]
    TranscriptNotReady(String),
    /// No translation service here, or it failed: the original stays readable.
    #[error("{0}")]
    TranslationUnavailable(String),
    /// A language the service does not transcribe or translate.
    #[error("{0}")]
    UnsupportedLanguage(String),
    #[error("payload of {actual} bytes exceeds the limit of {limit} bytes")]
    PayloadTooLarge { actual: usize, limit: usize },
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The path exists, but not with this method; `allow` lists the methods it has.
    #[error("{method} is not allowed on {path}; allowed: {}", allow.join(", "))]
    MethodNotAllowed { method: String, path: String, allow: Vec<&'static str> },
    #[error("this deployment does not provide {0}")]
    NotAvailable(&'static str),
    /// The tenant has not connected (or not enabled) the video app asked for.
    #[error("{0}")]
    ProviderNotConnected(String),
    /// The video app refused the tenant's credentials or the request.
    #[error("{0}")]
    ProviderRefused(String),
    /// The video app is throttling or did not answer, after retries.
    #[error("{0}")]
    ProviderUnavailable(String),
    /// A backend failed; AWS may retry. Details are logged, never returned.
    #[error("internal error")]
    Internal(String),
}

impl From<crate::ports::translator::TranslateError> for AppError {
    fn from(e: crate::ports::translator::TranslateError) -> Self {
        use crate::ports::translator::TranslateError;
        match e {
            TranslateError::NotAvailable(why) => AppError::TranslationUnavailable(why),
            TranslateError::UnsupportedLanguage(why) => AppError::UnsupportedLanguage(why),
            TranslateError::Backend(why) => {
                tracing::warn!(error = %why, "translation failed");
                AppError::TranslationUnavailable("the translation service did not answer; the original is readable".into())
            }
        }
    }
}

impl AppError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::InvalidJson(_) | AppError::Validation(_) | AppError::UnknownAction(_) | AppError::UnsupportedLanguage(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::NotAParticipant => StatusCode::FORBIDDEN,
            AppError::NotFound(_) | AppError::RouteNotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_)
            | AppError::UnknownCustomers(_)
            | AppError::UnknownGroups(_)
            | AppError::SessionClosed
            | AppError::QualityUnavailable(_)
            | AppError::NoActiveCall
            | AppError::NotRecording
            | AppError::RecordingStopped
            | AppError::TranscriptNotReady(_) => StatusCode::CONFLICT,
            AppError::TranslationUnavailable(_) | AppError::ProviderUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ProviderNotConnected(_) => StatusCode::CONFLICT,
            AppError::ProviderRefused(_) => StatusCode::BAD_GATEWAY,
            // No usable invitation for this secret: as a missing resource.
            AppError::Gone(_) => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::NotAvailable(_) => StatusCode::NOT_IMPLEMENTED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable, documented machine-readable code (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::InvalidJson(_) => "invalid_json",
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::UnknownCustomers(_) => "unknown_customers",
            AppError::UnknownGroups(_) => "unknown_groups",
            AppError::Conflict(_) => "conflict",
            AppError::Gone(_) => "invitation_invalid",
            AppError::SessionClosed => "session_closed",
            AppError::QualityUnavailable(_) => "quality_unavailable",
            AppError::NoActiveCall => "no_active_call",
            AppError::NotAParticipant => "not_a_participant",
            AppError::NotRecording => "not_recording",
            AppError::RecordingStopped => "recording_stopped",
            AppError::TranscriptNotReady(_) => "transcript_not_ready",
            AppError::TranslationUnavailable(_) => "translation_unavailable",
            AppError::UnsupportedLanguage(_) => "unsupported_language",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnknownAction(_) => "unknown_action",
            AppError::RouteNotFound(_) => "route_not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::NotAvailable(_) => "not_available",
            AppError::ProviderNotConnected(_) => "provider_not_connected",
            AppError::ProviderRefused(_) => "provider_refused",
            AppError::ProviderUnavailable(_) => "provider_unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// True when the same request may succeed later (Lambda should let AWS retry).
    pub fn is_retryable(&self) -> bool {
        matches!(self, AppError::Internal(_))
    }

    /// What the client sees: internal details are replaced by a generic message.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        }
    }

    pub fn body(&self, request_id: Option<&str>) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: self.code(), message: self.public_message(), request_id: request_id.map(str::to_string) } }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    pub fn validation(msg: impl Into<String>) -> Self {
        AppError::Validation(msg.into())
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable error code, e.g. `validation_failed`.
    #[schema(value_type = String)]
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<crate::ports::table::StoreError> for AppError {
    fn from(e: crate::ports::table::StoreError) -> Self {
        AppError::Internal(e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
