//! Cognito as Confer's identity backend in the cloud: the user pool holds agents (who sign in
//! through the hosted UI) and one user per customer who has been given a token (invitation
//! exchange or the server-to-server call), so every token the HTTP API's JWT authorizer sees is a
//! Cognito ID token with `custom:tenant_id`, `custom:role` and `custom:customer_id` set by this
//! adapter, never by the user.
//!
//! Customer tokens: the customer's user is created on first use (an address under
//! `.invalid`, which can receive no mail, because the pool signs users in by email), given a
//! fresh random password nobody ever sees, and signed in with `ADMIN_USER_PASSWORD_AUTH`; the
//! ID token is the customer token. A concurrent mint for the same customer may change the
//! password between the two calls: the sign-in is then retried with a new one.
//!
//! Agents of a tenant are the members of the group `tenant.<tenant>` (Cognito cannot filter users
//! by a custom attribute); every change first reads the user and refuses one of another tenant.

use async_trait::async_trait;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType, UserType};
use aws_sdk_cognitoidentityprovider::Client;

use crate::domain::principal::{CLAIM_CUSTOMER, CLAIM_ROLE, CLAIM_TENANT};
use crate::domain::{now_epoch_seconds, Principal, Role};
use crate::ports::identity::{AgentDirectory, AgentEntry, CreatedAgent, Minted, TokenError, TokenIssuer};

#[derive(Clone)]
pub struct CognitoIdentity {
    client: Client,
    user_pool_id: String,
    client_id: String,
}

fn backend(what: &str, e: impl ProvideErrorMetadata + std::fmt::Debug) -> TokenError {
    TokenError::Backend(format!("cognito {what}: {}", e.message().or(e.code()).map(str::to_string).unwrap_or_else(|| format!("{e:?}"))))
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder().name(name).value(value).build().expect("name is set")
}

fn attributes_of(attrs: &[AttributeType], name: &str) -> Option<String> {
    attrs.iter().find(|a| a.name() == name).and_then(|a| a.value()).map(str::to_string)
}

/// The group whose members are a tenant's agents.
pub fn tenant_group(tenant: &str) -> String {
    format!("tenant.{tenant}")
}

/// The sign-in address of a customer's user: unique per tenant and customer, undeliverable.
pub fn customer_username(tenant: &str, customer: &str) -> String {
    format!("{}@{tenant}.customers.confer.invalid", customer.to_ascii_lowercase())
}

/// A password any pool policy accepts (lower, upper, digit, symbol) and nobody can guess; it is
/// never shown or stored.
fn random_password() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{}aA1!", base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes))
}

const MINT_ATTEMPTS: usize = 3;

impl CognitoIdentity {
    pub fn new(config: &aws_config::SdkConfig, user_pool_id: String, client_id: String) -> Self {
        CognitoIdentity { client: Client::new(config), user_pool_id, client_id }
    }

    async fn ensure_customer_user(&self, principal: &Principal, username: &str) -> Result<(), TokenError> {
        let created = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attribute("email", username))
            .user_attributes(attribute("email_verified", "true"))
            .user_attributes(attribute(CLAIM_TENANT, principal.tenant.as_str()))
            .user_attributes(attribute(CLAIM_ROLE, Role::Customer.as_str()))
            .user_attributes(attribute(CLAIM_CUSTOMER, &principal.id))
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_username_exists_exception()) => Ok(()),
            Err(e) => Err(backend("AdminCreateUser", e)),
        }
    }

    async fn mint_customer(&self, principal: &Principal) -> Result<Minted, TokenError> {
        let username = customer_username(principal.tenant.as_str(), &principal.id);
        self.ensure_customer_user(principal, &username).await?;
        let mut last = None;
        for _ in 0..MINT_ATTEMPTS {
            let password = random_password();
            self.client
                .admin_set_user_password()
                .user_pool_id(&self.user_pool_id)
                .username(&username)
                .password(&password)
                .permanent(true)
                .send()
                .await
                .map_err(|e| backend("AdminSetUserPassword", e))?;
            let auth = self
                .client
                .admin_initiate_auth()
                .user_pool_id(&self.user_pool_id)
                .client_id(&self.client_id)
                .auth_flow(AuthFlowType::AdminUserPasswordAuth)
                .auth_parameters("USERNAME", &username)
                .auth_parameters("PASSWORD", &password)
                .send()
                .await;
            match auth {
                Ok(out) => {
                    let result = out
                        .authentication_result()
                        .ok_or_else(|| TokenError::Backend(format!("cognito asked for a challenge: {:?}", out.challenge_name())))?;
                    let token = result.id_token().ok_or_else(|| TokenError::Backend("cognito returned no ID token".into()))?;
                    return Ok(Minted { token: token.to_string(), expires_at: now_epoch_seconds() + i64::from(result.expires_in()) });
                }
                // Another mint changed the password in between: try again with a new one.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_not_authorized_exception()) => {
                    last = Some(backend("AdminInitiateAuth", e))
                }
                Err(e) => return Err(backend("AdminInitiateAuth", e)),
            }
        }
        Err(last.unwrap_or_else(|| TokenError::Backend("cognito sign-in failed".into())))
    }

    /// The user behind an agent id, when they are an agent or admin of `tenant`.
    async fn agent_of(&self, tenant: &str, id: &str) -> Result<Option<AgentEntry>, TokenError> {
        let user = self.client.admin_get_user().user_pool_id(&self.user_pool_id).username(id).send().await;
        let user = match user {
            Ok(u) => u,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_user_not_found_exception()) => return Ok(None),
            Err(e) => return Err(backend("AdminGetUser", e)),
        };
        let attrs = user.user_attributes();
        Ok(entry(tenant, user.username(), attrs, user.enabled()))
    }
}

/// An agent entry from a user's attributes, when the user is staff of `tenant`.
fn entry(tenant: &str, username: &str, attrs: &[AttributeType], enabled: bool) -> Option<AgentEntry> {
    if attributes_of(attrs, CLAIM_TENANT).as_deref() != Some(tenant) {
        return None;
    }
    let role = Role::parse(&attributes_of(attrs, CLAIM_ROLE).unwrap_or_default()).ok().filter(|r| *r != Role::Customer)?;
    let id = attributes_of(attrs, "sub").unwrap_or_else(|| username.to_string());
    Some(AgentEntry { id, username: attributes_of(attrs, "email").unwrap_or_else(|| username.to_string()), role, disabled: !enabled })
}

fn user_entry(tenant: &str, user: &UserType) -> Option<AgentEntry> {
    entry(tenant, user.username().unwrap_or_default(), user.attributes(), user.enabled())
}

#[async_trait]
impl TokenIssuer for CognitoIdentity {
    /// Customers only: agents sign in through the hosted UI. The lifetime is the app client's.
    async fn mint(&self, principal: &Principal, _valid_for: std::time::Duration) -> Result<Minted, TokenError> {
        if principal.role != Role::Customer {
            return Err(TokenError::NotAvailable);
        }
        self.mint_customer(principal).await
    }
}

#[async_trait]
impl AgentDirectory for CognitoIdentity {
    /// Agents sign in through Cognito's hosted UI, not through Confer.
    async fn sign_in(&self, _: &str, _: &str, _: &str) -> Result<Option<Principal>, TokenError> {
        Err(TokenError::NotAvailable)
    }

    async fn list(&self, tenant: &str) -> Result<Vec<AgentEntry>, TokenError> {
        let mut pages =
            self.client.list_users_in_group().user_pool_id(&self.user_pool_id).group_name(tenant_group(tenant)).into_paginator().send();
        let mut agents = Vec::new();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => agents.extend(page.users().iter().filter_map(|u| user_entry(tenant, u))),
                // No agent was ever invited through Confer in this tenant.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception()) => break,
                Err(e) => return Err(backend("ListUsersInGroup", e)),
            }
        }
        agents.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(agents)
    }

    /// The username is the agent's email address: Cognito emails them a temporary password.
    async fn invite(&self, tenant: &str, username: &str, role: Role) -> Result<Option<CreatedAgent>, TokenError> {
        if role == Role::Customer {
            return Err(TokenError::Rejected("agents are admins or agents".into()));
        }
        let valid_email = username.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !valid_email {
            return Err(TokenError::Rejected("in the cloud an agent's username is their email address".into()));
        }
        let created = self
            .client
            .admin_create_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .desired_delivery_mediums(aws_sdk_cognitoidentityprovider::types::DeliveryMediumType::Email)
            .user_attributes(attribute("email", username))
            .user_attributes(attribute("email_verified", "true"))
            .user_attributes(attribute(CLAIM_TENANT, tenant))
            .user_attributes(attribute(CLAIM_ROLE, role.as_str()))
            .send()
            .await;
        let user = match created {
            Ok(out) => out.user.ok_or_else(|| TokenError::Backend("cognito created no user".into()))?,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_username_exists_exception()) => return Ok(None),
            Err(e) => return Err(backend("AdminCreateUser", e)),
        };
        let group = tenant_group(tenant);
        let made = self.client.create_group().user_pool_id(&self.user_pool_id).group_name(&group).send().await;
        match made {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_group_exists_exception()) => {}
            Err(e) => return Err(backend("CreateGroup", e)),
        }
        let name = user.username().unwrap_or(username).to_string();
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.user_pool_id)
            .username(&name)
            .group_name(&group)
            .send()
            .await
            .map_err(|e| backend("AdminAddUserToGroup", e))?;
        let entry = user_entry(tenant, &user).ok_or_else(|| TokenError::Backend("the created user is not this tenant's agent".into()))?;
        Ok(Some(CreatedAgent { entry, one_time_password: None }))
    }

    async fn update(&self, tenant: &str, id: &str, role: Option<Role>, disabled: Option<bool>) -> Result<Option<AgentEntry>, TokenError> {
        let Some(mut entry) = self.agent_of(tenant, id).await? else { return Ok(None) };
        if let Some(role) = role {
            if role == Role::Customer {
                return Err(TokenError::Rejected("agents are admins or agents".into()));
            }
            self.client
                .admin_update_user_attributes()
                .user_pool_id(&self.user_pool_id)
                .username(id)
                .user_attributes(attribute(CLAIM_ROLE, role.as_str()))
                .send()
                .await
                .map_err(|e| backend("AdminUpdateUserAttributes", e))?;
            entry.role = role;
        }
        match disabled {
            Some(true) => {
                self.client
                    .admin_disable_user()
                    .user_pool_id(&self.user_pool_id)
                    .username(id)
                    .send()
                    .await
                    .map_err(|e| backend("AdminDisableUser", e))?;
                // Refresh tokens stop working; ID tokens already issued end with their lifetime.
                self.client
                    .admin_user_global_sign_out()
                    .user_pool_id(&self.user_pool_id)
                    .username(id)
                    .send()
                    .await
                    .map_err(|e| backend("AdminUserGlobalSignOut", e))?;
                entry.disabled = true;
            }
            Some(false) => {
                self.client
                    .admin_enable_user()
                    .user_pool_id(&self.user_pool_id)
                    .username(id)
                    .send()
                    .await
                    .map_err(|e| backend("AdminEnableUser", e))?;
                entry.disabled = false;
            }
            None => {}
        }
        Ok(Some(entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_usernames_are_per_tenant_and_undeliverable() {
        let a = customer_username("acme", "cus_01HZX");
        assert_eq!(a, "cus_01hzx@acme.customers.confer.invalid");
        assert_ne!(a, customer_username("globex", "cus_01HZX"));
    }

    #[test]
    fn generated_passwords_meet_the_pool_policy() {
        let p = random_password();
        assert!(p.len() >= 12);
        assert!(
            p.chars().any(|c| c.is_ascii_lowercase()) && p.chars().any(|c| c.is_ascii_uppercase()) && p.chars().any(|c| c.is_ascii_digit())
        );
        assert!(p.chars().any(|c| "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-".contains(c)), "a symbol");
        assert_ne!(p, random_password());
    }

    #[test]
    fn only_staff_of_the_tenant_are_agents() {
        let attrs = |tenant: &str, role: &str| {
            vec![attribute("sub", "u-1"), attribute("email", "ann@acme.com"), attribute(CLAIM_TENANT, tenant), attribute(CLAIM_ROLE, role)]
        };
        let ann = entry("acme", "u-1", &attrs("acme", "admin"), true).unwrap();
        assert_eq!((ann.id.as_str(), ann.username.as_str(), ann.role, ann.disabled), ("u-1", "ann@acme.com", Role::Admin, false));
        assert!(entry("globex", "u-1", &attrs("acme", "admin"), true).is_none(), "another tenant's agent");
        assert!(entry("acme", "u-1", &attrs("acme", "customer"), true).is_none(), "a customer's user");
        assert!(entry("acme", "u-1", &attrs("acme", "agent"), false).unwrap().disabled);
    }
}
