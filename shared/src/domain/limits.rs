//! Every limit Confer enforces, in one place (documented in docs/limits.md).

/// Largest WebSocket message API Gateway accepts (128 KB); the local gateway enforces the same.
pub const MAX_WS_MESSAGE_BYTES: usize = 128 * 1024;
/// Largest REST request body Confer accepts.
pub const MAX_REST_BODY_BYTES: usize = 64 * 1024;
/// Largest body of a call that lists group members (10,000 ids fit with room to spare).
pub const MAX_MEMBERS_BODY_BYTES: usize = 512 * 1024;
/// Customer ids one call adds to or removes from a group.
pub const MAX_GROUP_MEMBERS_PER_CALL: usize = 10_000;
/// An announcement's body, in characters.
pub const MAX_ANNOUNCEMENT_BODY_CHARS: usize = 10_000;
/// Customers an announcement names one by one (groups reach more).
pub const MAX_ANNOUNCEMENT_CUSTOMERS: usize = 10_000;
/// Groups an announcement names.
pub const MAX_ANNOUNCEMENT_GROUPS: usize = 100;
/// Largest body of a request that writes an announcement (10,000 ids fit with room to spare).
pub const MAX_ANNOUNCEMENT_BODY_BYTES: usize = 512 * 1024;
/// A schedule may lie this far in the past (clocks differ) and is then sent at once.
pub const SCHEDULE_GRACE_SECONDS: i64 = 60;
/// The furthest ahead an announcement may be scheduled.
pub const MAX_SCHEDULE_AHEAD_SECONDS: i64 = 366 * 24 * 60 * 60;
/// Recipients of one fan-out chunk (one queue message).
pub const ANNOUNCEMENT_CHUNK: usize = 500;
/// Unread announcements counted at most (the count then says "at least").
pub const MAX_UNREAD_COUNTED: usize = 1_000;
/// A group's description.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
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
/// Largest event-log sequence number a query may name (the event log's `after`): 2^53 - 1,
/// exact in every JSON number.
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
/// Highest message sequence number a session can reach (the 12 digits of its sort key).
pub const MAX_SEQ: u64 = 999_999_999_999;
/// Longest file name of an upload, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// How long an upload URL accepts its upload.
pub const UPLOAD_URL_SECONDS: u64 = 15 * 60;
/// How long download URLs in answers and frames stay valid.
pub const DOWNLOAD_URL_SECONDS: u64 = 60 * 60;
/// A pending attachment whose upload never arrives (or never verifies) expires after this.
pub const PENDING_UPLOAD_SECONDS: i64 = 24 * 60 * 60;

// Media (shared/src/media; docs/media.md).
/// Largest image upload (JPEG, PNG, WebP, GIF, HEIC/HEIF).
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// Largest voice message or other audio upload.
pub const MAX_AUDIO_BYTES: u64 = 25 * 1024 * 1024;
/// Largest video an announcement carries (MP4 or WebM).
pub const MAX_VIDEO_BYTES: u64 = 100 * 1024 * 1024;
/// Largest file upload (PDF, text, CSV, Office documents, ZIP).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Most pixels an image may have (width × height, as decoded): a 48 MP phone photo passes.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// Longest side an image may have, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Most memory one image's decoded pixels may take: the pixel limit at four bytes a pixel
/// (8-bit RGBA). Images of 16 bits a channel therefore get half the pixels.
pub const MAX_IMAGE_DECODE_BYTES: u64 = MAX_IMAGE_PIXELS * 4;
/// Longest side of an image's thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 320;
/// A connection's `typing` is relayed at most once in this many milliseconds.
pub const TYPING_INTERVAL_MS: i64 = 2_000;
/// Invitation links: how long they may be used (default, least, most), and the customer token
/// an exchange yields.
pub const DEFAULT_INVITATION_SECONDS: u64 = 60 * 60;
pub const MIN_INVITATION_SECONDS: u64 = 60;
pub const MAX_INVITATION_SECONDS: u64 = 7 * 24 * 60 * 60;
pub const CUSTOMER_TOKEN_SECONDS: u64 = 12 * 60 * 60;

/// A `signal` frame's whole size (docs/calls.md).
pub const MAX_SIGNAL_FRAME_BYTES: usize = 64 * 1024;
/// An offer's or answer's session description.
pub const MAX_SIGNAL_SDP_BYTES: usize = 32 * 1024;
/// One ICE candidate line (with its mid and fragment).
pub const MAX_SIGNAL_CANDIDATE_BYTES: usize = 2 * 1024;
