//! The local runtime's agents who sign in with a password: `agents.json` in the data directory,
//! written by `confer-local agent add`, with Argon2id password hashes.

use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::ids::parse_subject;
use crate::domain::{Principal, Role, TenantId};
use crate::ports::identity::{AgentDirectory, AgentEntry, CreatedAgent, TokenError};

pub const AGENTS_FILE: &str = "agents.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalAgent {
    pub tenant: String,
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Clone)]
pub struct LocalAgents {
    path: PathBuf,
}

impl LocalAgents {
    pub fn in_dir(data_dir: &Path) -> Self {
        LocalAgents { path: data_dir.join(AGENTS_FILE) }
    }

    pub fn all(&self) -> Result<Vec<LocalAgent>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {e}", self.path.display())),
        }
    }

    fn save(&self, agents: &[LocalAgent]) -> Result<(), String> {
        let text = serde_json::to_vec_pretty(agents).map_err(|e| e.to_string())?;
        let tmp = self.path.with_extension(format!("json.part-{}", rand::random::<u32>()));
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Adds an agent, or replaces the one of that tenant and name (a new password or role).
    pub fn put(&self, tenant: &str, username: &str, role: Role, password: &str) -> Result<(), String> {
        let tenant = TenantId::parse(tenant).map_err(|e| e.to_string())?;
        let username = parse_subject(username, "username").map_err(|e| e.to_string())?;
        if role == Role::Customer {
            return Err("agents are admins or agents".into());
        }
        if password.chars().count() < 12 {
            return Err("a password has at least 12 characters".into());
        }
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?.to_string();
        let mut agents = self.all()?;
        agents.retain(|a| !(a.tenant == tenant.as_str() && a.username == username));
        agents.push(LocalAgent { tenant: tenant.to_string(), username, role, password_hash: hash, disabled: false });
        self.save(&agents)
    }
}

#[async_trait]
impl AgentDirectory for LocalAgents {
    async fn sign_in(&self, tenant: &str, username: &str, password: &str) -> Result<Option<Principal>, TokenError> {
        let agents = self.all().map_err(TokenError::Backend)?;
        let Some(agent) = agents.into_iter().find(|a| a.tenant == tenant && a.username == username && !a.disabled) else {
            // The same work whether or not the name exists, so timing tells nothing.
            let _ = Argon2::default().verify_password(password.as_bytes(), &PasswordHash::new(DUMMY_HASH).expect("valid"));
            return Ok(None);
        };
        let parsed = PasswordHash::new(&agent.password_hash).map_err(|e| TokenError::Backend(e.to_string()))?;
        if Argon2::default().verify_password(password.as_bytes(), &parsed).is_err() {
            return Ok(None);
        }
        let tenant = TenantId::parse(&agent.tenant).map_err(|e| TokenError::Backend(e.to_string()))?;
        Ok(Some(Principal { tenant, role: agent.role, id: agent.username }))
    }

    async fn list(&self, tenant: &str) -> Result<Vec<AgentEntry>, TokenError> {
        let agents = self.all().map_err(TokenError::Backend)?;
        Ok(agents
            .into_iter()
            .filter(|a| a.tenant == tenant)
            .map(|a| AgentEntry { id: a.username.clone(), username: a.username, role: a.role, disabled: a.disabled })
            .collect())
    }

    async fn invite(&self, tenant: &str, username: &str, role: Role) -> Result<Option<CreatedAgent>, TokenError> {
        let _guard = WRITES.lock().await;
        if self.all().map_err(TokenError::Backend)?.iter().any(|a| a.tenant == tenant && a.username == username) {
            return Ok(None);
        }
        let password = {
            use rand::RngCore;
            let mut bytes = [0u8; 18];
            rand::thread_rng().fill_bytes(&mut bytes);
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
        };
        self.put(tenant, username, role, &password).map_err(TokenError::Backend)?;
        let entry = AgentEntry { id: username.to_string(), username: username.to_string(), role, disabled: false };
        Ok(Some(CreatedAgent { entry, one_time_password: Some(password) }))
    }

    async fn update(
        &self,
        tenant: &str,
        username: &str,
        role: Option<Role>,
        disabled: Option<bool>,
    ) -> Result<Option<AgentEntry>, TokenError> {
        let _guard = WRITES.lock().await;
        let mut agents = self.all().map_err(TokenError::Backend)?;
        let Some(agent) = agents.iter_mut().find(|a| a.tenant == tenant && a.username == username) else { return Ok(None) };
        if let Some(role) = role {
            agent.role = role;
        }
        if let Some(disabled) = disabled {
            agent.disabled = disabled;
        }
        let entry = AgentEntry { id: agent.username.clone(), username: agent.username.clone(), role: agent.role, disabled: agent.disabled };
        self.save(&agents).map_err(TokenError::Backend)?;
        Ok(Some(entry))
    }
}

/// One change to the file at a time (read, change, write back).
static WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An Argon2id hash of a random password, verified against when the name is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5Ht6m2lwgk8Xh1Q2Ey7pV9UHxWk8nG7cL8S6aX0H0Gk";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn agents_sign_in_with_their_password_only() {
        let dir = tempfile::tempdir().unwrap();
        let agents = LocalAgents::in_dir(dir.path());
        agents.put("acme", "ann", Role::Admin, "correct horse battery").unwrap();
        assert!(agents.put("acme", "bob", Role::Agent, "short").is_err(), "passwords have 12 characters at least");
        assert!(agents.put("acme", "cus", Role::Customer, "correct horse battery").is_err());
        let ann = agents.sign_in("acme", "ann", "correct horse battery").await.unwrap().expect("signed in");
        assert_eq!((ann.tenant.as_str(), ann.role, ann.id.as_str()), ("acme", Role::Admin, "ann"));
        assert_eq!(agents.sign_in("acme", "ann", "wrong horse battery").await.unwrap(), None);
        assert_eq!(agents.sign_in("globex", "ann", "correct horse battery").await.unwrap(), None, "another tenant's ann does not exist");
        assert_eq!(agents.sign_in("acme", "nobody", "correct horse battery").await.unwrap(), None);
        assert!(!std::fs::read_to_string(dir.path().join(AGENTS_FILE)).unwrap().contains("correct horse"), "only hashes are stored");
    }
}
