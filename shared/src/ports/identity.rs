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

/// Agents who sign in with a name and a password.
#[async_trait]
pub trait AgentDirectory: Send + Sync + 'static {
    /// The agent, when the password is theirs and they are not disabled.
    async fn sign_in(&self, tenant: &str, username: &str, password: &str) -> Result<Option<Principal>, TokenError>;
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
}
