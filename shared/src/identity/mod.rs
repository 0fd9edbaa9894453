//! Identity: one verification path for every token (Cognito in the cloud, the local issuer
//! locally), and the local issuer itself.

pub mod issuer;
pub mod verifier;

pub use issuer::LocalIssuer;
pub use verifier::{TokenVerifier, VerifierConfig};

/// Issuer and audience of tokens minted by confer-local.
pub const LOCAL_ISSUER: &str = "confer-local";
pub const LOCAL_AUDIENCE: &str = "confer";

/// Extracts a bearer token from an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}
