//! Identifiers. Every id that reaches a storage key is validated here, so no input can forge a
//! key segment (`#`) or escape its tenant.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

fn valid_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.chars().count() <= max
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | ':' | '+'))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Lower-case letters, digits and dashes, 1 to 63 characters, starting with a letter or digit.
    pub fn parse(s: &str) -> Result<Self, AppError> {
        let ok = !s.is_empty()
            && s.len() <= 63
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-');
        if ok {
            Ok(TenantId(s.to_string()))
        } else {
            Err(AppError::validation("tenant id must be 1-63 lower-case letters, digits or dashes"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Agent subjects (agent ids): the pattern [`parse_subject`] enforces, in the OpenAPI document.
pub struct AgentId;

impl AgentId {
    pub fn pattern() -> String {
        format!("^[A-Za-z0-9._@:+-]{{1,{}}}$", crate::domain::limits::MAX_ID_CHARS)
    }
}

impl utoipa::PartialSchema for AgentId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(AgentId::pattern()))
            .description(Some("An agent's (or admin's) id: the subject of their token."))
            .into()
    }
}

impl utoipa::ToSchema for AgentId {}

/// Agent subjects and customer ids of external origin share these rules.
pub fn parse_subject(s: &str, what: &str) -> Result<String, AppError> {
    if valid_token(s, crate::domain::limits::MAX_ID_CHARS) {
        Ok(s.to_string())
    } else {
        Err(AppError::validation(format!("{what} must be 1-128 characters of letters, digits and - _ . @ : +")))
    }
}

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                $name(format!("{}{}", $prefix, crate::domain::ids::next_ulid()))
            }

            /// The prefix and a ULID in canonical form: 26 upper-case Crockford base-32 characters
            /// ([`ULID_PATTERN`]), as generated — so each id has exactly one spelling.
            pub fn parse(s: &str) -> Result<Self, AppError> {
                match s.strip_prefix($prefix) {
                    Some(rest) if is_canonical_ulid(rest) => Ok($name(s.to_string())),
                    _ => Err(AppError::validation(concat!("malformed ", $what))),
                }
            }

            /// The id's pattern in the OpenAPI document.
            pub fn pattern() -> String {
                format!("^{}{}$", $prefix, ULID_PATTERN)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The ULID part, which sorts by creation time.
            pub fn ulid_part(&self) -> &str {
                &self.0[$prefix.len()..]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($name::pattern()))
                    .description(Some(concat!("A ", $what, ": `", $prefix, "` and a ULID (26 upper-case Crockford base-32 characters).")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// A ULID as Confer writes it: 26 upper-case Crockford base-32 characters, the first at most `7`
/// (128 bits).
pub const ULID_PATTERN: &str = "[0-7][0-9A-HJKMNP-TV-Z]{25}";

fn is_canonical_ulid(s: &str) -> bool {
    // The ulid crate also reads lower case and lets a first character above 7 overflow; only the
    // spelling it writes back is accepted.
    ulid::Ulid::from_string(s).is_ok_and(|u| u.to_string() == s)
}

prefixed_id!(CustomerId, "cus_", "customer id");
prefixed_id!(SessionId, "ses_", "session id");
prefixed_id!(MessageId, "msg_", "message id");
prefixed_id!(AttachmentId, "att_", "attachment id");
prefixed_id!(CallId, "cal_", "call id");
prefixed_id!(RecordingId, "rec_", "recording id");
prefixed_id!(GroupId, "grp_", "group id");
prefixed_id!(AnnouncementId, "ann_", "announcement id");
prefixed_id!(MediaId, "amd_", "media id");

/// Monotonic ULIDs: ids generated in one process sort in generation order even within a millisecond.
pub fn next_ulid() -> ulid::Ulid {
    use std::sync::Mutex;
    static GEN: Mutex<Option<ulid::Generator>> = Mutex::new(None);
    let mut guard = GEN.lock().unwrap_or_else(|e| e.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
}

/// Client-chosen idempotency key of a chat message or an upload.
pub fn parse_client_message_id(s: &str) -> Result<String, AppError> {
    let ok = !s.is_empty()
        && s.len() <= crate::domain::limits::MAX_CLIENT_MESSAGE_ID
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(AppError::validation("client_message_id must be 1-64 letters, digits, - or _"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_key_separators() {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.as_str()).unwrap(), id);
        assert!(SessionId::parse("ses_01H#T#other").is_err());
        assert!(SessionId::parse("cus_01HZZZZZZZZZZZZZZZZZZZZZZZ").is_err());
        // One spelling per id: no lower case, no first character past 7 (it would overflow).
        assert!(SessionId::parse("ses_01hzzzzzzzzzzzzzzzzzzzzz").is_err());
        assert!(SessionId::parse("ses_81HZZZZZZZZZZZZZZZZZZZZZZZ").is_err());
        assert!(SessionId::parse("ses_7ZZZZZZZZZZZZZZZZZZZZZZZZZ").is_ok());
        assert!(SessionId::parse("ses_01HZZZZZZZZZZZZZZZZZZZZZZ").is_err());
        assert!(CustomerId::parse("").is_err());
        assert!(parse_subject("agent#1", "agent").is_err());
        assert!(parse_subject("agent-1@example.com", "agent").is_ok());
        assert!(TenantId::parse("acme-1").is_ok());
        assert!(TenantId::parse("Acme").is_err());
        assert!(TenantId::parse("a#b").is_err());
        assert!(TenantId::parse("-a").is_err());
    }

    #[test]
    fn generated_ids_sort_in_creation_order() {
        let ids: Vec<MessageId> = (0..1000).map(|_| MessageId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn client_message_ids_are_restricted() {
        assert!(parse_client_message_id("c-1_a").is_ok());
        assert!(parse_client_message_id("").is_err());
        assert!(parse_client_message_id(&"x".repeat(65)).is_err());
        assert!(parse_client_message_id("a b").is_err());
    }
}
