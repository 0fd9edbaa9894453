//! Tenants' video app credentials in AWS Secrets Manager: one secret per tenant and app,
//! `{prefix}{tenant}/{provider}` (the prefix names the stack: `confer/dev/video-apps/`), whose
//! string is `{"credentials": …, "updated_at": …}`, encrypted with the account's Secrets Manager
//! key and tagged with the tenant and the app. Setting credentials again puts a new version
//! (rotation: the previous one stays as `AWSPREVIOUS`); removing them deletes the secret at once
//! (no recovery window: an admin who removes credentials means it). The tenant comes from the
//! caller's verified token, never from the secret.

use async_trait::async_trait;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use serde::{Deserialize, Serialize};

use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::ports::secrets::{ProviderSecrets, SecretsError, StoredCredentials};

pub struct SecretsManagerSecrets {
    client: Client,
    prefix: String,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    credentials: ProviderCredentials,
    updated_at: String,
}

fn backend<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_secretsmanager::error::SdkError<E, R>,
) -> SecretsError {
    SecretsError::Backend(DisplayErrorContext(&e).to_string())
}

fn code<E: ProvideErrorMetadata, R>(e: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

impl SecretsManagerSecrets {
    pub fn new(config: &aws_config::SdkConfig, prefix: String) -> Self {
        Self::with_client(Client::new(config), prefix)
    }

    pub fn with_client(client: Client, prefix: String) -> Self {
        SecretsManagerSecrets { client, prefix }
    }

    /// The secret's name: the tenant and app, under the stack's prefix.
    pub fn name(&self, tenant: &str, provider: ExternalProvider) -> String {
        format!("{}{tenant}/{}", self.prefix, provider.as_str())
    }
}

#[async_trait]
impl ProviderSecrets for SecretsManagerSecrets {
    async fn get(&self, tenant: &str, provider: ExternalProvider) -> Result<Option<StoredCredentials>, SecretsError> {
        let name = self.name(tenant, provider);
        let out = match self.client.get_secret_value().secret_id(&name).send().await {
            Ok(out) => out,
            // Absent, or deleted and not yet purged.
            Err(e) if matches!(code(&e), Some("ResourceNotFoundException" | "InvalidRequestException")) => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        let text = out.secret_string().ok_or_else(|| SecretsError::Backend(format!("{name} holds no string")))?;
        let sealed: Sealed = serde_json::from_str(text).map_err(|e| SecretsError::Backend(format!("{name} is not Confer's: {e}")))?;
        if sealed.credentials.provider() != provider {
            return Err(SecretsError::Backend(format!("{name} holds another app's credentials")));
        }
        Ok(Some(StoredCredentials { credentials: sealed.credentials, updated_at: sealed.updated_at }))
    }

    async fn put(&self, tenant: &str, credentials: &ProviderCredentials, updated_at: &str) -> Result<(), SecretsError> {
        let provider = credentials.provider();
        let name = self.name(tenant, provider);
        let text = serde_json::to_string(&Sealed { credentials: credentials.clone(), updated_at: updated_at.to_string() })
            .map_err(|e| SecretsError::Backend(e.to_string()))?;
        // A new version of an existing secret (the common case: rotation), else the secret.
        match self.client.put_secret_value().secret_id(&name).secret_string(&text).send().await {
            Ok(_) => return Ok(()),
            Err(e) if code(&e) == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(backend(e)),
        }
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let created = self
            .client
            .create_secret()
            .name(&name)
            .description(format!("Confer: {} credentials of tenant {tenant}", provider.title()))
            .secret_string(&text)
            .tags(tag("confer:tenant", tenant))
            .tags(tag("confer:provider", provider.as_str()))
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Created meanwhile by another request: this one becomes its new version.
            Err(e) if code(&e) == Some("ResourceExistsException") => {
                self.client.put_secret_value().secret_id(&name).secret_string(&text).send().await.map_err(backend)?;
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, tenant: &str, provider: ExternalProvider) -> Result<bool, SecretsError> {
        // Whether there was anything: a secret already deleted may still answer a deletion.
        if self.get(tenant, provider).await?.is_none() {
            return Ok(false);
        }
        let name = self.name(tenant, provider);
        match self.client.delete_secret().secret_id(&name).force_delete_without_recovery(true).send().await {
            Ok(_) => Ok(true),
            Err(e) if code(&e) == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}
