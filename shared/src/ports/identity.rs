//! Minting tokens (customers invited by link or vouched for by the business's backend, agents
//! signed in locally) and the directory of a tenant's agents: files of confer-local locally,
//! Cognito in the cloud.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{Principal, Role};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("this deployment does not mint tokens")]
    NotAvailable,
    /// The identity backend refused the input (for example a username it cannot hold).
    #[error("{0}")]
    Rejected(String),
    #[error("token: {0}")]
    Backend(String),
}

/// A token and the moment it stops being accepted (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    pub token: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait TokenIssuer: Send + Sync + 'static {
    /// A token for `principal`, valid for `valid_for` or the backend's own fixed lifetime.
    async fn mint(&self, principal: &Principal, valid_for: Duration) -> Result<Minted, TokenError>;
}

#[async_trait]
impl TokenIssuer for crate::identity::LocalIssuer {
    async fn mint(&self, principal: &Principal, valid_for: Duration) -> Result<Minted, TokenError> {
        let token = crate::identity::LocalIssuer::mint(self, principal, valid_for).map_err(|e| TokenError::Backend(e.to_string()))?;
        Ok(Minted { token, expires_at: crate::domain::now_epoch_seconds() + valid_for.as_secs() as i64 })
    }
}

/// An agent as the directory knows them (never their password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AgentEntry {
    /// The agent's subject: the id their messages carry and `PATCH /v1/agents/{agentId}` takes
    /// (the username locally, Cognito's `sub` in the cloud).
    pub id: String,
    /// What they sign in with (an email address in the cloud).
    pub username: String,
    pub role: Role,
    pub disabled: bool,
}

/// A newly created agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedAgent {
    pub entry: AgentEntry,
    /// Returned once when the directory does not deliver it itself (locally); in the cloud
    /// Cognito emails the invitation with a temporary password.
    pub one_time_password: Option<String>,
}

/// A tenant's agents. Every call names the tenant; an adapter never lists or changes an agent
/// of another, nor a customer's identity.
#[async_trait]
pub trait AgentDirectory: Send + Sync + 'static {
    /// The agent, when the password is theirs and they are not disabled.
    async fn sign_in(&self, tenant: &str, username: &str, password: &str) -> Result<Option<Principal>, TokenError>;
    async fn list(&self, tenant: &str) -> Result<Vec<AgentEntry>, TokenError>;
    /// Creates an agent; `Ok(None)` when the name is taken.
    async fn invite(&self, tenant: &str, username: &str, role: Role) -> Result<Option<CreatedAgent>, TokenError>;
    /// Changes role and/or disabled; `Ok(None)` when there is no such agent in the tenant.
    async fn update(&self, tenant: &str, id: &str, role: Option<Role>, disabled: Option<bool>) -> Result<Option<AgentEntry>, TokenError>;
}

/// The identity ports of a runtime that has none.
pub struct NoIdentity;

#[async_trait]
impl TokenIssuer for NoIdentity {
    async fn mint(&self, _: &Principal, _: Duration) -> Result<Minted, TokenError> {
        Err(TokenError::NotAvailable)
    }
}

#[async_trait]
impl AgentDirectory for NoIdentity {
    async fn sign_in(&self, _: &str, _: &str, _: &str) -> Result<Option<Principal>, TokenError> {
        Err(TokenError::NotAvailable)
    }
    async fn list(&self, _: &str) -> Result<Vec<AgentEntry>, TokenError> {
        Err(TokenError::NotAvailable)
    }
    async fn invite(&self, _: &str, _: &str, _: Role) -> Result<Option<CreatedAgent>, TokenError> {
        Err(TokenError::NotAvailable)
    }
    async fn update(&self, _: &str, _: &str, _: Option<Role>, _: Option<bool>) -> Result<Option<AgentEntry>, TokenError> {
        Err(TokenError::NotAvailable)
    }
}
