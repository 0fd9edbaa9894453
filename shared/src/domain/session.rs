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
    #[schema(value_type = super::SessionId)]
    pub id: String,
    #[schema(value_type = super::CustomerId)]
    pub customer_id: String,
    pub status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 300)]
    pub subject: Option<String>,
    /// The agent who opened it.
    #[schema(value_type = super::ids::AgentId)]
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
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
    #[schema(minimum = 0)]
    pub delivered_seq: u64,
    /// Read watermark: this participant has seen every message up to this sequence number.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub read_seq: u64,
    /// Whether the participant has a live connection now (filled in when the session is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
}

impl Participant {
    /// A participant as they join: nothing received or read yet.
    pub fn joining(who: ParticipantRef, at: &str) -> Self {
        Participant { who, joined_at: at.to_string(), delivered_seq: 0, read_seq: 0, online: None }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    #[schema(value_type = super::CustomerId)]
    pub customer_id: String,
    /// Further agents to add (repeats count once); the calling agent is always a participant.
    #[serde(default)]
    #[schema(value_type = Vec<super::ids::AgentId>, max_items = 9)]
    pub agent_ids: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub subject: Option<String>,
}

/// At most [`MAX_SUBJECT_CHARS`] as sent; surrounding white space is trimmed.
pub fn validate_subject(s: &str) -> Result<String, AppError> {
    if s.chars().count() > MAX_SUBJECT_CHARS {
        return Err(AppError::validation(format!("subject is longer than {MAX_SUBJECT_CHARS} characters")));
    }
    Ok(s.trim().to_string())
}

/// The agents of a new session: the creator first, then the listed ones (at most
/// `MAX_SESSION_AGENTS - 1`), without repeats.
pub fn session_agents(creator: &str, listed: &[String]) -> Result<Vec<String>, AppError> {
    if listed.len() >= MAX_SESSION_AGENTS {
        return Err(AppError::validation(format!("agent_ids lists at most {} agents", MAX_SESSION_AGENTS - 1)));
    }
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
        assert_eq!(session_agents("me", &many[..9]).unwrap().len(), 10);
        // The count is of the list as sent, repeats included.
        assert!(session_agents("me", &vec!["x".to_string(); 10]).is_err());
        assert!(session_agents("me", &["bad#id".into()]).is_err());
    }
}
