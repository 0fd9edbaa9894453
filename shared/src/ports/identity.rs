//! Minting Confer's own tokens (customers invited by link, agents signed in locally) and the
//! directory of agents who sign in with a password (local runtime; Cognito in the cloud).

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::Principal;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("this deployment does not mint tokens")]
    NotAvailable,
    #[error("token: {0}")]
    Backend(String),
}

pub trait TokenIssuer: Send + Sync + 'static {
    fn mint(&self, principal: &Principal, valid_for: Duration) -> Result<String, TokenError>;
}

impl TokenIssuer for crate::identity::LocalIssuer {
    fn mint(&self, principal: &Principal, valid_for: Duration) -> Result<String, TokenError> {
        crate::identity::LocalIssuer::mint(self, principal, valid_for).map_err(|e| TokenError::Backend(e.to_string()))
    }
}

/// An agent as the directory knows them (never their password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AgentEntry {
    pub username: String,
    pub role: crate::domain::Role,
    pub disabled: bool,
}

/// Agents who sign in with a name and a password. Every call names the tenant; an adapter never
/// lists or changes an agent of another.
#[async_trait]
pub trait AgentDirectory: Send + Sync + 'static {
    /// The agent, when the password is theirs and they are not disabled.
    async fn sign_in(&self, tenant: &str, username: &str, password: &str) -> Result<Option<Principal>, TokenError>;
    async fn list(&self, tenant: &str) -> Result<Vec<AgentEntry>, TokenError>;
    /// Creates an agent with a one-time password, returned once; `Ok(None)` when the name is taken.
    async fn invite(&self, tenant: &str, username: &str, role: crate::domain::Role) -> Result<Option<String>, TokenError>;
    /// Changes role and/or disabled; `Ok(None)` when there is no such agent in the tenant.
    async fn update(
        &self,
        tenant: &str,
        username: &str,
        role: Option<crate::domain::Role>,
        disabled: Option<bool>,
    ) -> Result<Option<AgentEntry>, TokenError>;
}

/// The identity ports of a runtime that has none.
pub struct NoIdentity;

impl TokenIssuer for NoIdentity {
    fn mint(&self, _: &Principal, _: Duration) -> Result<String, TokenError> {
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
    async fn invite(&self, _: &str, _: &str, _: crate::domain::Role) -> Result<Option<String>, TokenError> {
        Err(TokenError::NotAvailable)
    }
    async fn update(&self, _: &str, _: &str, _: Option<crate::domain::Role>, _: Option<bool>) -> Result<Option<AgentEntry>, TokenError> {
        Err(TokenError::NotAvailable)
    }
}
