//! Integration events: a CloudEvents-style envelope (docs/events.md lists every type).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{now_rfc3339, TenantId};

pub const SCHEMA_VERSION: &str = "1";
pub const SOURCE: &str = "confer";

pub mod types {
    pub const CUSTOMER_CREATED: &str = "customer.created";
    pub const CUSTOMER_UPDATED: &str = "customer.updated";
    pub const SESSION_CREATED: &str = "session.created";
    pub const SESSION_CLOSED: &str = "session.closed";
    pub const MESSAGE_CREATED: &str = "message.created";
    pub const MESSAGE_DELIVERED: &str = "message.delivered";
    pub const MESSAGE_READ: &str = "message.read";
    pub const ATTACHMENT_READY: &str = "attachment.ready";
    pub const ATTACHMENT_REJECTED: &str = "attachment.rejected";
    pub const MEETING_STARTED: &str = "meeting.started";
    pub const MEETING_ENDED: &str = "meeting.ended";
    pub const MEETING_ATTENDEE_JOINED: &str = "meeting.attendee_joined";
    pub const MEETING_ATTENDEE_LEFT: &str = "meeting.attendee_left";
    pub const RECORDING_AVAILABLE: &str = "recording.available";
    pub const TRANSCRIPT_READY: &str = "transcript.ready";
    pub const TRANSCRIPT_TRANSLATED: &str = "transcript.translated";
    pub const GROUP_UPDATED: &str = "group.updated";
    pub const ANNOUNCEMENT_PUBLISHED: &str = "announcement.published";
    pub const ANNOUNCEMENT_DELIVERED: &str = "announcement.delivered";
    pub const ANNOUNCEMENT_READ: &str = "announcement.read";
    /// Every type Confer publishes today.
    pub const ALL: &[&str] = &[
        CUSTOMER_CREATED,
        CUSTOMER_UPDATED,
        SESSION_CREATED,
        SESSION_CLOSED,
        MESSAGE_CREATED,
        MESSAGE_DELIVERED,
        MESSAGE_READ,
        ATTACHMENT_READY,
        ATTACHMENT_REJECTED,
        MEETING_STARTED,
        MEETING_ENDED,
        MEETING_ATTENDEE_JOINED,
        MEETING_ATTENDEE_LEFT,
        RECORDING_AVAILABLE,
        TRANSCRIPT_READY,
        TRANSCRIPT_TRANSLATED,
        GROUP_UPDATED,
        ANNOUNCEMENT_PUBLISHED,
        ANNOUNCEMENT_DELIVERED,
        ANNOUNCEMENT_READ,
    ];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventEnvelope {
    /// Unique per event; deterministic for events derived from a stored fact, so a retried
    /// publication carries the same id and subscribers can de-duplicate.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub source: String,
    pub time: String,
    pub tenant: String,
    #[serde(rename = "schemaversion")]
    pub schema_version: String,
    #[schema(value_type = Object)]
    pub data: Value,
}

impl EventEnvelope {
    pub fn new(event_type: &str, tenant: &TenantId, id: String, data: Value) -> Self {
        EventEnvelope {
            id,
            event_type: event_type.to_string(),
            source: SOURCE.to_string(),
            time: now_rfc3339(),
            tenant: tenant.to_string(),
            schema_version: SCHEMA_VERSION.to_string(),
            data,
        }
    }
}
