//! The local token issuer: an RS256 key kept in the data directory, a JWKS, and token minting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use super::verifier::{TokenVerifier, VerifierConfig};
use super::{LOCAL_AUDIENCE, LOCAL_ISSUER};
use crate::domain::{now_epoch_seconds, Principal};

pub const KEY_FILE: &str = "keys/token-signing-key.pem";
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(12 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("signing key {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("signing key {path} is not a PKCS#8 RSA key: {detail}")]
    BadKey { path: PathBuf, detail: String },
    #[error("token signing failed: {0}")]
    Sign(String),
}

pub struct LocalIssuer {
    encoding: EncodingKey,
    kid: String,
    jwks: JwkSet,
}

impl LocalIssuer {
    /// Loads the data directory's signing key, creating it (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, IssuerError> {
        let path = data_dir.join(KEY_FILE);
        let io = |source| IssuerError::Io { path: path.clone(), source };
        let key = if path.exists() {
            let pem = std::fs::read_to_string(&path).map_err(io)?;
            RsaPrivateKey::from_pkcs8_pem(&pem).map_err(|e| IssuerError::BadKey { path: path.clone(), detail: e.to_string() })?
        } else {
            std::fs::create_dir_all(path.parent().expect("key file has a parent")).map_err(io)?;
            let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
                .map_err(|e| IssuerError::BadKey { path: path.clone(), detail: e.to_string() })?;
            let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| IssuerError::BadKey { path: path.clone(), detail: e.to_string() })?;
            write_private(&path, pem.as_bytes()).map_err(io)?;
            key
        };
        Self::from_key(&key).map_err(|detail| IssuerError::BadKey { path, detail })
    }

    fn from_key(key: &RsaPrivateKey) -> Result<Self, String> {
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        let kid = hex(&Sha256::digest(&n)[..8]);
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({
            "keys": [{
                "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                "n": URL_SAFE_NO_PAD.encode(&n), "e": URL_SAFE_NO_PAD.encode(&e)
            }]
        }))
        .map_err(|e| e.to_string())?;
        Ok(LocalIssuer { encoding, kid, jwks })
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The verifier for this issuer's tokens: the same code that verifies Cognito tokens.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::with_keys(
            VerifierConfig { issuer: LOCAL_ISSUER.to_string(), audience: LOCAL_AUDIENCE.to_string() },
            self.jwks.clone(),
        )
    }

    pub fn mint(&self, principal: &Principal, ttl: Duration) -> Result<String, IssuerError> {
        self.mint_with(principal, ttl, LOCAL_AUDIENCE)
    }

    /// Mints with a chosen audience (tests use this to prove foreign audiences are refused).
    pub fn mint_with(&self, principal: &Principal, ttl: Duration, audience: &str) -> Result<String, IssuerError> {
        let now = now_epoch_seconds();
        let mut claims: serde_json::Map<String, serde_json::Value> =
            principal.to_claims().into_iter().map(|(k, v)| (k, v.into())).collect();
        claims.insert("iss".into(), LOCAL_ISSUER.into());
        claims.insert("aud".into(), audience.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + ttl.as_secs() as i64).into());
        claims.insert("token_use".into(), "id".into());
        self.sign(&claims)
    }

    /// Signs arbitrary claims with this key (tests craft expired or malformed tokens with it).
    pub fn sign(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Result<String, IssuerError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        encode(&header, claims, &self.encoding).map_err(|e| IssuerError::Sign(e.to_string()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Role, TenantId};

    fn agent() -> Principal {
        Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-1".into() }
    }

    #[tokio::test]
    async fn minted_tokens_verify_and_tampering_fails() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = LocalIssuer::load_or_create(dir.path()).unwrap();
        let verifier = issuer.verifier();
        let token = issuer.mint(&agent(), DEFAULT_TOKEN_TTL).unwrap();
        assert_eq!(verifier.verify(&token).await.unwrap().principal, agent());

        // Same key after a restart.
        let again = LocalIssuer::load_or_create(dir.path()).unwrap();
        assert!(again.verifier().verify(&token).await.is_ok());

        let wrong_aud = issuer.mint_with(&agent(), DEFAULT_TOKEN_TTL, "someone-else").unwrap();
        assert!(verifier.verify(&wrong_aud).await.is_err());

        let mut claims: serde_json::Map<String, serde_json::Value> = agent().to_claims().into_iter().map(|(k, v)| (k, v.into())).collect();
        claims.insert("iss".into(), LOCAL_ISSUER.into());
        claims.insert("aud".into(), LOCAL_AUDIENCE.into());
        claims.insert("exp".into(), (now_epoch_seconds() - 3600).into());
        let expired = issuer.sign(&claims).unwrap();
        assert!(verifier.verify(&expired).await.is_err());

        // A key from another data directory is not trusted.
        let other = LocalIssuer::load_or_create(tempfile::tempdir().unwrap().path()).unwrap();
        let foreign = other.mint(&agent(), DEFAULT_TOKEN_TTL).unwrap();
        assert!(verifier.verify(&foreign).await.is_err());

        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","custom:tenant_id":"other","custom:role":"admin"}"#);
        assert!(verifier.verify(&parts.join(".")).await.is_err());
        assert!(verifier.verify("not-a-token").await.is_err());
    }
}
