//! JWT verification: RS256 signature against a JWKS, issuer, audience, expiry; then claims → principal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use tokio::sync::RwLock;

use crate::domain::Principal;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct VerifierConfig {
    pub issuer: String,
    /// The accepted audiences (app client ids), comma-separated.
    pub audience: String,
}

enum Keys {
    Static(JwkSet),
    /// Fetched once, cached; refetched (at most every `min_refresh`) when an unknown `kid` shows up,
    /// which is how key rotation reaches a warm Lambda.
    Remote {
        url: String,
        http: reqwest::Client,
        cache: RwLock<Option<(Arc<JwkSet>, Instant)>>,
        min_refresh: Duration,
    },
}

pub struct TokenVerifier {
    config: VerifierConfig,
    keys: Keys,
}

/// Verified identity: the principal and every claim as a string (the shape API Gateway passes on).
#[derive(Debug, Clone)]
pub struct Verified {
    pub principal: Principal,
    pub claims: HashMap<String, String>,
}

impl TokenVerifier {
    pub fn with_keys(config: VerifierConfig, jwks: JwkSet) -> Self {
        TokenVerifier { config, keys: Keys::Static(jwks) }
    }

    pub fn with_remote_jwks(config: VerifierConfig, url: String) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default();
        TokenVerifier { config, keys: Keys::Remote { url, http, cache: RwLock::new(None), min_refresh: Duration::from_secs(60) } }
    }

    /// Fetches the JWKS now (during Lambda init) so the first request does not wait for it.
    pub async fn warm(&self) -> Result<(), AppError> {
        if let Keys::Remote { .. } = self.keys {
            self.jwks(true).await?;
        }
        Ok(())
    }

    async fn jwks(&self, refresh: bool) -> Result<Arc<JwkSet>, AppError> {
        match &self.keys {
            Keys::Static(set) => Ok(Arc::new(set.clone())),
            Keys::Remote { url, http, cache, min_refresh } => {
                if let Some((set, at)) = cache.read().await.as_ref() {
                    if !refresh || at.elapsed() < *min_refresh {
                        return Ok(set.clone());
                    }
                }
                let mut guard = cache.write().await;
                if let Some((set, at)) = guard.as_ref() {
                    if at.elapsed() < *min_refresh {
                        return Ok(set.clone());
                    }
                }
                let set: JwkSet = http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| AppError::internal(format!("JWKS fetch failed: {e}")))?
                    .json()
                    .await
                    .map_err(|e| AppError::internal(format!("JWKS is not valid: {e}")))?;
                let set = Arc::new(set);
                *guard = Some((set.clone(), Instant::now()));
                Ok(set)
            }
        }
    }

    /// Verifies the token; any failure is `Unauthorized` (the reason is logged at debug level).
    pub async fn verify(&self, token: &str) -> Result<Verified, AppError> {
        let header = decode_header(token).map_err(|e| deny("malformed token", e))?;
        if header.alg != Algorithm::RS256 {
            return Err(deny("unexpected algorithm", format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| deny("token without kid", ""))?;
        let mut set = self.jwks(false).await?;
        if set.find(&kid).is_none() {
            set = self.jwks(true).await?;
        }
        let jwk = set.find(&kid).ok_or_else(|| deny("unknown signing key", &kid))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| deny("unusable signing key", e))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        let audiences: Vec<&str> = self.config.audience.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
        validation.set_audience(&audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        let data = decode::<HashMap<String, serde_json::Value>>(token, &key, &validation).map_err(|e| deny("rejected token", e))?;
        // Cognito: only ID tokens carry the custom tenant and role attributes.
        if let Some(use_) = data.claims.get("token_use").and_then(|v| v.as_str()) {
            if use_ != "id" {
                return Err(deny("not an ID token", use_));
            }
        }
        let claims: HashMap<String, String> = data
            .claims
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect();
        let principal = Principal::from_claims(&claims)?;
        Ok(Verified { principal, claims })
    }
}

fn deny(reason: &str, detail: impl std::fmt::Display) -> AppError {
    tracing::debug!(reason, %detail, "token denied");
    AppError::Unauthorized
}
