//! Provider credentials in the data directory: `provider-secrets.json`, each entry sealed with
//! AES-256-GCM under `secrets.key` (32 random bytes, readable by its owner only), with the tenant
//! and provider as associated data, so an entry moved to another tenant does not open. Written
//! to a temporary file and renamed into place: a crash leaves the old file or the new one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::ports::secrets::{ProviderSecrets, SecretsError, StoredCredentials};

pub const SECRETS_FILE: &str = "provider-secrets.json";
pub const KEY_FILE: &str = "secrets.key";

#[derive(Default, Serialize, Deserialize)]
struct Sealed {
    entries: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    nonce: String,
    sealed: String,
    updated_at: String,
}

pub struct LocalSecrets {
    path: PathBuf,
    cipher: Aes256Gcm,
    lock: Mutex<()>,
}

fn backend(e: impl std::fmt::Display) -> SecretsError {
    SecretsError::Backend(e.to_string())
}

fn entry_name(tenant: &str, provider: ExternalProvider) -> String {
    format!("{tenant}/{}", provider.as_str())
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl LocalSecrets {
    /// The store in `data_dir`, its key made on first use.
    pub fn open(data_dir: &Path) -> Result<Self, SecretsError> {
        std::fs::create_dir_all(data_dir).map_err(backend)?;
        let key_path = data_dir.join(KEY_FILE);
        let key = match std::fs::read(&key_path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            Ok(_) => return Err(backend(format!("{} is not a 32-byte key", key_path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Aes256Gcm::generate_key(OsRng).to_vec();
                write_private(&key_path, &key)?;
                key
            }
            Err(e) => return Err(backend(e)),
        };
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        Ok(LocalSecrets { path: data_dir.join(SECRETS_FILE), cipher, lock: Mutex::new(()) })
    }

    fn load(&self) -> Result<Sealed, SecretsError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| backend(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sealed::default()),
            Err(e) => Err(backend(e)),
        }
    }

    fn save(&self, sealed: &Sealed) -> Result<(), SecretsError> {
        write_private(&self.path, &serde_json::to_vec_pretty(sealed).map_err(backend)?)
    }
}

/// Writes `bytes` to `path` through a temporary file, readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SecretsError> {
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(backend)?;
        file.write_all(bytes).map_err(backend)?;
        file.sync_all().map_err(backend)?;
    }
    std::fs::rename(&tmp, path).map_err(backend)
}

#[async_trait]
impl ProviderSecrets for LocalSecrets {
    async fn get(&self, tenant: &str, provider: ExternalProvider) -> Result<Option<StoredCredentials>, SecretsError> {
        let name = entry_name(tenant, provider);
        let sealed = self.load()?;
        let Some(entry) = sealed.entries.get(&name) else { return Ok(None) };
        let nonce = B64.decode(&entry.nonce).map_err(backend)?;
        let ciphertext = B64.decode(&entry.sealed).map_err(backend)?;
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: name.as_bytes() })
            .map_err(|_| backend(format!("the credentials of {name} do not open with {KEY_FILE}")))?;
        let credentials: ProviderCredentials = serde_json::from_slice(&plain).map_err(backend)?;
        Ok(Some(StoredCredentials { credentials, updated_at: entry.updated_at.clone() }))
    }

    async fn put(&self, tenant: &str, credentials: &ProviderCredentials, updated_at: &str) -> Result<(), SecretsError> {
        let name = entry_name(tenant, credentials.provider());
        let plain = serde_json::to_vec(credentials).map_err(backend)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext =
            self.cipher.encrypt(&nonce, Payload { msg: &plain, aad: name.as_bytes() }).map_err(|_| backend("sealing failed"))?;
        let _guard = self.lock.lock().await;
        let mut sealed = self.load()?;
        sealed.entries.insert(name, Entry { nonce: B64.encode(nonce), sealed: B64.encode(ciphertext), updated_at: updated_at.into() });
        self.save(&sealed)
    }

    async fn delete(&self, tenant: &str, provider: ExternalProvider) -> Result<bool, SecretsError> {
        let _guard = self.lock.lock().await;
        let mut sealed = self.load()?;
        let removed = sealed.entries.remove(&entry_name(tenant, provider)).is_some();
        if removed {
            self.save(&sealed)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jitsi(secret: &str) -> ProviderCredentials {
        ProviderCredentials::Jitsi {
            base_url: "https://meet.example.com".into(),
            token: Some(crate::domain::provider::JitsiToken { app_id: "confer".into(), app_secret: secret.into() }),
        }
    }

    #[tokio::test]
    async fn credentials_are_sealed_per_tenant_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalSecrets::open(dir.path()).unwrap();
        let secret = "s3cr3t-0123456789-0123456789-0123456789";
        store.put("acme", &jitsi(secret), "2026-12-05T10:00:00.000Z").await.unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
        assert!(!on_disk.contains(secret) && !on_disk.contains("meet.example.com"), "nothing readable on disk");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [SECRETS_FILE, KEY_FILE] {
                assert_eq!(std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
            }
        }
        let reopened = LocalSecrets::open(dir.path()).unwrap();
        assert_eq!(reopened.get("acme", ExternalProvider::Jitsi).await.unwrap().unwrap().credentials, jitsi(secret));
        assert_eq!(reopened.get("globex", ExternalProvider::Jitsi).await.unwrap(), None);
        // An entry copied under another tenant's name does not open.
        let mut sealed: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
        let entry = sealed["entries"]["acme/jitsi"].clone();
        sealed["entries"]["globex/jitsi"] = entry;
        std::fs::write(dir.path().join(SECRETS_FILE), sealed.to_string()).unwrap();
        assert!(reopened.get("globex", ExternalProvider::Jitsi).await.is_err());
        // Rotation replaces; removal removes.
        let rotated = "rotated-0123456789-0123456789-0123456789";
        reopened.put("acme", &jitsi(rotated), "2026-12-05T11:00:00.000Z").await.unwrap();
        let now = reopened.get("acme", ExternalProvider::Jitsi).await.unwrap().unwrap();
        assert_eq!((now.credentials, now.updated_at.as_str()), (jitsi(rotated), "2026-12-05T11:00:00.000Z"));
        assert!(reopened.delete("acme", ExternalProvider::Jitsi).await.unwrap());
        assert!(!reopened.delete("acme", ExternalProvider::Jitsi).await.unwrap());
        assert_eq!(reopened.get("acme", ExternalProvider::Jitsi).await.unwrap(), None);
    }
}
