//! Invitation links: how a customer without an account gets into their chat. An agent creates
//! one for a customer; it is single-use and short-lived; exchanging it yields a customer token
//! bound to that customer. Only a hash of the secret is stored.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::customers::require_customer_access;
use super::{from_item, to_item, App};
use crate::domain::limits::{CUSTOMER_TOKEN_SECONDS, DEFAULT_INVITATION_SECONDS, MAX_INVITATION_SECONDS, MIN_INVITATION_SECONDS};
use crate::domain::{format_rfc3339, now_epoch_seconds, CustomerId, Principal, Role, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::identity::{Minted, TokenError};
use crate::ports::table::{Condition, StoreError, Update, TTL};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// How long the link may be used, in seconds (default an hour, at most a week).
    #[serde(default, deserialize_with = "crate::domain::optional_whole_number")]
    #[schema(minimum = 60, maximum = 604800)]
    pub valid_for_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    /// The secret of the link: shown once, never stored (only its hash is).
    pub secret: String,
    /// Where the web client exchanges it: append to the client's origin.
    pub join_path: String,
    pub customer_id: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationExchange {
    /// `<tenant>.<43 characters of URL-safe base64>`, as the link carries it.
    #[schema(pattern = r"^[a-z0-9][a-z0-9-]{0,62}\.[A-Za-z0-9_-]{43}$")]
    pub secret: String,
}

/// A token and who it is for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub tenant: String,
    pub role: Role,
    /// The customer's id, or the agent's subject.
    pub id: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    customer_id: String,
    created_by: String,
    expires_at: i64,
    state: String,
}

fn hash(random: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(random.as_bytes()))
}

fn token_error(e: TokenError) -> AppError {
    match e {
        TokenError::NotAvailable => AppError::NotAvailable("customer tokens"),
        TokenError::Rejected(why) => AppError::validation(why),
        other => AppError::internal(other),
    }
}

fn issued(principal: Principal, minted: Minted) -> IssuedToken {
    let expires_at = time::OffsetDateTime::from_unix_timestamp(minted.expires_at).map(format_rfc3339).unwrap_or_default();
    IssuedToken { token: minted.token, tenant: principal.tenant.to_string(), role: principal.role, id: principal.id, expires_at }
}

/// A customer token for a customer the caller's backend has authenticated itself (server to
/// server): agents and admins of the customer's tenant only.
pub async fn customer_token(app: &App, p: &Principal, customer: &CustomerId) -> AppResult<IssuedToken> {
    p.require_staff()?;
    require_customer_access(p, customer)?;
    if app.table.get(&keys::customer(&p.tenant, customer)).await?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let principal = Principal { tenant: p.tenant.clone(), role: Role::Customer, id: customer.to_string() };
    let minted = app.tokens.mint(&principal, Duration::from_secs(CUSTOMER_TOKEN_SECONDS)).await.map_err(token_error)?;
    tracing::info!(customer = %customer, by = %p.id, "customer token issued");
    Ok(issued(principal, minted))
}

pub async fn create(app: &App, p: &Principal, customer: &CustomerId, input: NewInvitation) -> AppResult<Invitation> {
    p.require_staff()?;
    require_customer_access(p, customer)?;
    let valid = input.valid_for_seconds.unwrap_or(DEFAULT_INVITATION_SECONDS);
    if !(MIN_INVITATION_SECONDS..=MAX_INVITATION_SECONDS).contains(&valid) {
        return Err(AppError::validation(format!("valid_for_seconds is from {MIN_INVITATION_SECONDS} to {MAX_INVITATION_SECONDS}")));
    }
    if app.table.get(&keys::customer(&p.tenant, customer)).await?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let random = {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let expires = now_epoch_seconds() + valid as i64;
    let stored = Stored { customer_id: customer.to_string(), created_by: p.id.clone(), expires_at: expires, state: "unused".into() };
    let item = to_item(&stored, &keys::invitation(&p.tenant, &hash(&random)), &[("entity", "invitation".into()), (TTL, expires.into())])?;
    app.table.put(item, Some(Condition::NotExists)).await?;
    let secret = format!("{}.{random}", p.tenant);
    let expires_at = time::OffsetDateTime::from_unix_timestamp(expires).map(format_rfc3339).unwrap_or_default();
    Ok(Invitation { join_path: format!("/#/join/{secret}"), secret, customer_id: customer.to_string(), expires_at })
}

/// Exchanges an invitation's secret for a customer token, once. A used, expired or unknown
/// secret answers `invitation_invalid` (404), the same for each, so nothing is revealed.
pub async fn exchange(app: &App, input: InvitationExchange) -> AppResult<IssuedToken> {
    let invalid = || AppError::Gone("this invitation link was already used or has expired; ask for a new one".into());
    let malformed = || AppError::validation("secret is not an invitation link's secret");
    let (tenant, random) = input.secret.split_once('.').ok_or_else(malformed)?;
    let tenant = TenantId::parse(tenant).map_err(|_| malformed())?;
    let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if random.len() != 43 || !random.chars().all(url_safe) {
        return Err(malformed());
    }
    let key = keys::invitation(&tenant, &hash(random));
    let stored: Stored = match app.table.get(&key).await? {
        Some(item) => from_item(item)?,
        None => return Err(invalid()),
    };
    if stored.expires_at <= now_epoch_seconds() {
        return Err(invalid());
    }
    let used = Update::default().set("state", "used").set("used_at", crate::domain::now_rfc3339());
    match app.table.update(&key, used, Some(Condition::Equals("state".into(), json!("unused")))).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => return Err(invalid()),
        Err(e) => return Err(e.into()),
    }
    let customer = Principal { tenant: tenant.clone(), role: Role::Customer, id: stored.customer_id.clone() };
    let minted = app.tokens.mint(&customer, Duration::from_secs(CUSTOMER_TOKEN_SECONDS)).await.map_err(token_error)?;
    Ok(issued(customer, minted))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    #[schema(max_length = 63)]
    pub tenant: String,
    #[schema(max_length = 128)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Signs an agent in with a password (the local runtime's directory). A wrong name or password
/// answers `unauthorized`, the same for each.
pub async fn sign_in(app: &App, input: SignIn) -> AppResult<IssuedToken> {
    let agent = app.agents.sign_in(&input.tenant, &input.username, &input.password).await.map_err(token_error)?;
    let agent = agent.ok_or(AppError::Unauthorized)?;
    let minted = app.tokens.mint(&agent, Duration::from_secs(AGENT_TOKEN_SECONDS)).await.map_err(token_error)?;
    Ok(issued(agent, minted))
}

/// An agent's signed-in token lives a working day.
pub const AGENT_TOKEN_SECONDS: u64 = 12 * 60 * 60;
