//! Conversations between a customer and agents of the business.

use serde::{Deserialize, Serialize};

use super::limits::*;
use super::principal::ParticipantRef;
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Closed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Open => "open",
            SessionStatus::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    pub id: String,
    pub customer_id: String,
    pub status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub created_by: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// Sequence number of the session's latest message (0 before the first).
    #[serde(default)]
    pub last_seq: u64,
    /// Filled in when the session is read with its participants.
    #[serde(default)]
    pub participants: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Participant {
    #[serde(flatten)]
    pub who: ParticipantRef,
    pub joined_at: String,
    /// Delivery watermark: this participant acknowledged every message up to this sequence
    /// number (0 before the first acknowledgement). Only moves forward.
    #[serde(default)]
    pub delivered_seq: u64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    pub customer_id: String,
    /// Further agents to add; the calling agent is always a participant.
    #[serde(default)]
    pub agent_ids: Vec<String>,
    #[serde(default)]
    pub subject: Option<String>,
}

pub fn validate_subject(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.chars().count() > MAX_SUBJECT_CHARS {
        return Err(AppError::validation(format!("subject is longer than {MAX_SUBJECT_CHARS} characters")));
    }
    Ok(s.to_string())
}

/// The agents of a new session: the creator first, then the listed ones, without repeats.
pub fn session_agents(creator: &str, listed: &[String]) -> Result<Vec<String>, AppError> {
    let mut agents = vec![creator.to_string()];
    for a in listed {
        let a = super::ids::parse_subject(a, "agent id")?;
        if !agents.contains(&a) {
            agents.push(a);
        }
    }
    if agents.len() > MAX_SESSION_AGENTS {
        return Err(AppError::validation(format!("a session has at most {MAX_SESSION_AGENTS} agents")));
    }
    Ok(agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_deduplicated_and_bounded() {
        let a = session_agents("me", &["x".into(), "me".into(), "x".into()]).unwrap();
        assert_eq!(a, vec!["me", "x"]);
        let many: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
        assert!(session_agents("me", &many).is_err());
        assert!(session_agents("me", &["bad#id".into()]).is_err());
    }
}
