//! A tenant's admins manage their own agents: invite, change role, disable. Every call is bound
//! to the admin's own tenant (from the token); disabling an agent closes their open sockets.

use serde::{Deserialize, Serialize};

use super::connections::connections_of;
use super::App;
use crate::domain::ids::parse_subject;
use crate::domain::{ParticipantRef, Principal, Role};
use crate::error::{AppError, AppResult};
use crate::ports::identity::{AgentEntry, TokenError};

fn directory_error(e: TokenError) -> AppError {
    match e {
        TokenError::NotAvailable => AppError::NotAvailable("an agent directory"),
        TokenError::Rejected(why) => AppError::validation(why),
        other => AppError::internal(other),
    }
}

/// The roles an agent may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentRole {
    Admin,
    Agent,
}

impl From<AgentRole> for Role {
    fn from(r: AgentRole) -> Self {
        match r {
            AgentRole::Admin => Role::Admin,
            AgentRole::Agent => Role::Agent,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    #[schema(pattern = "^[A-Za-z0-9._@:+-]{1,128}$")]
    pub username: String,
    pub role: AgentRole,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitedAgent {
    #[serde(flatten)]
    pub agent: AgentEntry,
    /// Shown once (confer-local): the agent signs in with it and should change it. Absent in
    /// the cloud, where Cognito emails the agent a temporary password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    #[serde(default)]
    pub role: Option<AgentRole>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

pub async fn list(app: &App, p: &Principal) -> AppResult<Vec<AgentEntry>> {
    p.require_admin()?;
    app.agents.list(p.tenant.as_str()).await.map_err(directory_error)
}

pub async fn invite(app: &App, p: &Principal, input: NewAgent) -> AppResult<InvitedAgent> {
    p.require_admin()?;
    let username = parse_subject(&input.username, "username")?;
    let role = Role::from(input.role);
    match app.agents.invite(p.tenant.as_str(), &username, role).await.map_err(directory_error)? {
        Some(created) => Ok(InvitedAgent { agent: created.entry, one_time_password: created.one_time_password }),
        None => Err(AppError::Conflict(format!("{username} is already an agent of this tenant"))),
    }
}

pub async fn update(app: &App, p: &Principal, id: &str, patch: AgentPatch) -> AppResult<AgentEntry> {
    p.require_admin()?;
    let id = parse_subject(id, "agent id")?;
    let role = patch.role.map(Role::from);
    if id == p.id && (patch.disabled == Some(true) || role == Some(Role::Agent)) {
        return Err(AppError::Conflict("an admin cannot disable or demote themself; ask another admin".into()));
    }
    let entry = app
        .agents
        .update(p.tenant.as_str(), &id, role, patch.disabled)
        .await
        .map_err(directory_error)?
        .ok_or(AppError::NotFound("agent"))?;
    if entry.disabled {
        // A disabled agent keeps no live socket.
        let who = ParticipantRef::Agent(entry.id.clone());
        for connection in connections_of(app, &p.tenant, &who).await? {
            if let Err(e) = app.gateway.disconnect(&connection).await {
                tracing::warn!(error = %e, connection_id = %connection, "could not close a disabled agent's socket");
            }
            super::connections::disconnect(app, &connection).await?;
        }
        tracing::info!(agent = %entry.id, by = %p.id, "agent disabled; sockets closed");
    }
    Ok(entry)
}
