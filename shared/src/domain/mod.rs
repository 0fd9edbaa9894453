//! Entities, identifiers, validation and pure rules. No I/O.

pub mod announcement;
pub mod attachment;
pub mod call;
pub mod customer;
pub mod group;
pub mod ids;
pub mod limits;
pub mod message;
pub mod principal;
pub mod provider;
pub mod recording;
pub mod search;
pub mod session;

pub use ids::{AttachmentId, CallId, CustomerId, GroupId, MessageId, RecordingId, SessionId, TenantId};
pub use principal::{ParticipantRef, Principal, Role};

/// Current time as RFC 3339 in UTC with exactly three fraction digits, e.g.
/// `2026-12-04T15:04:45.120Z`: every timestamp Confer writes has this one shape, so their
/// strings sort in time order.
pub fn now_rfc3339() -> String {
    format_rfc3339(time::OffsetDateTime::now_utc())
}

/// `t` in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds always three digits).
pub fn format_rfc3339(t: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(time::UtcOffset::UTC).format(FORMAT).unwrap_or_default()
}

/// A JSON integer, also when written with a zero fraction (`1024.0` is the integer JSON Schema
/// means by `1024`).
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::Error;
    let n = <serde_json::Number as serde::Deserialize>::deserialize(d)?;
    if let Some(v) = n.as_u64() {
        return Ok(v);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => Ok(f as u64),
        _ => Err(D::Error::custom(format!("size must be a whole number of bytes, not {n}"))),
    }
}

/// [`whole_number`] for an optional field (`null` or absent is `None`).
pub fn optional_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] u64);
    Ok(<Option<Whole> as serde::Deserialize>::deserialize(d)?.map(|w| w.0))
}

pub fn now_epoch_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_one_fixed_shape_and_sort_as_strings() {
        let whole = time::macros::datetime!(2026-12-04 15:04:44 UTC);
        assert_eq!(format_rfc3339(whole), "2026-12-04T15:04:44.000Z");
        assert_eq!(format_rfc3339(whole + time::Duration::milliseconds(900)), "2026-12-04T15:04:44.900Z");
        assert_eq!(format_rfc3339(whole + time::Duration::nanoseconds(14_856_999)), "2026-12-04T15:04:44.014Z");
        let offset = time::macros::datetime!(2026-12-04 17:04:44.5 +02:00);
        assert_eq!(format_rfc3339(offset), "2026-12-04T15:04:44.500Z");
        let mut stamps: Vec<String> = (0..50).map(|i| format_rfc3339(whole + time::Duration::milliseconds(i * 37))).collect();
        let in_time_order = stamps.clone();
        stamps.sort();
        assert_eq!(stamps, in_time_order);
        assert!(time::OffsetDateTime::parse(&now_rfc3339(), &time::format_description::well_known::Rfc3339).is_ok());
    }
}
