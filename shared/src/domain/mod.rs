//! Entities, identifiers, validation and pure rules. No I/O.

pub mod customer;
pub mod ids;
pub mod limits;
pub mod message;
pub mod principal;
pub mod session;

pub use ids::{CustomerId, MessageId, SessionId, TenantId};
pub use principal::{ParticipantRef, Principal, Role};

/// Current time as RFC 3339 with millisecond precision, UTC.
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    let t = t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub fn now_epoch_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
