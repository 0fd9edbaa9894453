//! Every limit Confer enforces, in one place (documented in docs/limits.md).

/// Largest WebSocket message API Gateway accepts (128 KB); the local gateway enforces the same.
pub const MAX_WS_MESSAGE_BYTES: usize = 128 * 1024;
/// Largest REST request body Confer accepts.
pub const MAX_REST_BODY_BYTES: usize = 64 * 1024;
/// Longest chat text, in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Longest client message id.
pub const MAX_CLIENT_MESSAGE_ID: usize = 64;
/// Page sizes.
pub const DEFAULT_PAGE: usize = 25;
pub const MAX_PAGE: usize = 100;
/// Agents on one session, besides the customer: the agent who opens it and at most
/// `MAX_SESSION_AGENTS - 1` listed in `agent_ids`.
pub const MAX_SESSION_AGENTS: usize = 10;
/// Largest sequence number a query may name (`after_seq`, `before_seq`, the event log's `after`):
/// 2^53 - 1, exact in every JSON number.
pub const MAX_SEQUENCE: u64 = (1 << 53) - 1;
/// Customer fields.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 32;
pub const MAX_EXTERNAL_REF_CHARS: usize = 128;
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1_024;
pub const MAX_SUBJECT_CHARS: usize = 300;
/// Longest identifier (agent subject, external ids).
pub const MAX_ID_CHARS: usize = 128;
/// A WebSocket connection lives at most 2 hours (API Gateway's limit); its record expires then.
pub const CONNECTION_TTL_SECONDS: i64 = 2 * 60 * 60;
/// API Gateway closes a WebSocket idle for 10 minutes.
pub const WS_IDLE_TIMEOUT_SECONDS: u64 = 10 * 60;
