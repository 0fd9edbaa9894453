//! Per-tenant credentials for the video apps Confer creates meetings in. Never in the table in
//! clear: AWS Secrets Manager in the cloud, an encrypted file in the data directory locally.

use async_trait::async_trait;

use crate::domain::provider::{ExternalProvider, ProviderCredentials};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error("no credential store here")]
    NotAvailable,
    #[error("credential store: {0}")]
    Backend(String),
}

/// Credentials as stored, with when they were last set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub credentials: ProviderCredentials,
    pub updated_at: String,
}

#[async_trait]
pub trait ProviderSecrets: Send + Sync + 'static {
    async fn get(&self, tenant: &str, provider: ExternalProvider) -> Result<Option<StoredCredentials>, SecretsError>;
    /// Sets (or replaces: rotation) the tenant's credentials for their provider.
    async fn put(&self, tenant: &str, credentials: &ProviderCredentials, updated_at: &str) -> Result<(), SecretsError>;
    /// Removes them; `false` when there were none.
    async fn delete(&self, tenant: &str, provider: ExternalProvider) -> Result<bool, SecretsError>;
}

pub struct NoSecrets;

#[async_trait]
impl ProviderSecrets for NoSecrets {
    async fn get(&self, _: &str, _: ExternalProvider) -> Result<Option<StoredCredentials>, SecretsError> {
        Err(SecretsError::NotAvailable)
    }
    async fn put(&self, _: &str, _: &ProviderCredentials, _: &str) -> Result<(), SecretsError> {
        Err(SecretsError::NotAvailable)
    }
    async fn delete(&self, _: &str, _: ExternalProvider) -> Result<bool, SecretsError> {
        Err(SecretsError::NotAvailable)
    }
}
