//! Who is calling: derived from verified token claims only.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::ids::{parse_subject, CustomerId, TenantId};
use crate::error::AppError;

/// Claim names. Cognito ID tokens carry custom attributes as `custom:<name>`; local tokens use the same.
pub const CLAIM_TENANT: &str = "custom:tenant_id";
pub const CLAIM_ROLE: &str = "custom:role";
pub const CLAIM_CUSTOMER: &str = "custom:customer_id";
pub const CLAIM_SUB: &str = "sub";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
    Customer,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, AppError> {
        match s {
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            "customer" => Ok(Role::Customer),
            _ => Err(AppError::Unauthorized),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Customer => "customer",
        }
    }
}

/// A session participant: an agent (by token subject) or a customer (by customer id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum ParticipantRef {
    Agent(String),
    Customer(String),
}

impl ParticipantRef {
    /// Key segment: `A#<sub>` or `C#<customer id>`.
    pub fn key_segment(&self) -> String {
        match self {
            ParticipantRef::Agent(id) => format!("A#{id}"),
            ParticipantRef::Customer(id) => format!("C#{id}"),
        }
    }
    pub fn from_key_segment(s: &str) -> Option<Self> {
        if let Some(id) = s.strip_prefix("A#") {
            Some(ParticipantRef::Agent(id.to_string()))
        } else {
            s.strip_prefix("C#").map(|id| ParticipantRef::Customer(id.to_string()))
        }
    }
    pub fn id(&self) -> &str {
        match self {
            ParticipantRef::Agent(id) | ParticipantRef::Customer(id) => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantId,
    pub role: Role,
    /// Agent subject, or the customer id for customers.
    pub id: String,
}

impl Principal {
    /// Builds the principal from verified claims (JWT authorizer claims or Lambda authorizer context).
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Self, AppError> {
        let tenant = claims.get(CLAIM_TENANT).ok_or(AppError::Unauthorized)?;
        let tenant = TenantId::parse(tenant).map_err(|_| AppError::Unauthorized)?;
        let role = Role::parse(claims.get(CLAIM_ROLE).map(String::as_str).unwrap_or(""))?;
        let id = match role {
            Role::Customer => {
                let id = claims.get(CLAIM_CUSTOMER).or_else(|| claims.get(CLAIM_SUB)).ok_or(AppError::Unauthorized)?;
                CustomerId::parse(id).map_err(|_| AppError::Unauthorized)?.as_str().to_string()
            }
            Role::Admin | Role::Agent => {
                let sub = claims.get(CLAIM_SUB).ok_or(AppError::Unauthorized)?;
                parse_subject(sub, "subject").map_err(|_| AppError::Unauthorized)?
            }
        };
        Ok(Principal { tenant, role, id })
    }

    /// The claims a verified token must carry for this principal (used by the local issuer).
    pub fn to_claims(&self) -> HashMap<String, String> {
        let mut claims = HashMap::new();
        claims.insert(CLAIM_TENANT.to_string(), self.tenant.to_string());
        claims.insert(CLAIM_ROLE.to_string(), self.role.as_str().to_string());
        claims.insert(CLAIM_SUB.to_string(), self.id.clone());
        if self.role == Role::Customer {
            claims.insert(CLAIM_CUSTOMER.to_string(), self.id.clone());
        }
        claims
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Agent)
    }

    pub fn participant(&self) -> ParticipantRef {
        match self.role {
            Role::Customer => ParticipantRef::Customer(self.id.clone()),
            Role::Admin | Role::Agent => ParticipantRef::Agent(self.id.clone()),
        }
    }

    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(AppError::Forbidden("this operation is for agents of the business".into()))
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("this operation is for administrators".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn customer_principal_uses_customer_claim() {
        let cid = CustomerId::generate();
        let p = Principal::from_claims(&claims(&[
            (CLAIM_TENANT, "acme"),
            (CLAIM_ROLE, "customer"),
            (CLAIM_SUB, "cognito-uuid"),
            (CLAIM_CUSTOMER, cid.as_str()),
        ]))
        .unwrap();
        assert_eq!(p.id, cid.as_str());
        assert_eq!(p.participant(), ParticipantRef::Customer(cid.to_string()));
    }

    #[test]
    fn missing_or_bad_claims_are_unauthorized() {
        assert!(Principal::from_claims(&claims(&[(CLAIM_ROLE, "agent"), (CLAIM_SUB, "a")])).is_err());
        assert!(Principal::from_claims(&claims(&[(CLAIM_TENANT, "acme"), (CLAIM_ROLE, "root"), (CLAIM_SUB, "a")])).is_err());
        assert!(Principal::from_claims(&claims(&[(CLAIM_TENANT, "ac#me"), (CLAIM_ROLE, "agent"), (CLAIM_SUB, "a")])).is_err());
        assert!(Principal::from_claims(&claims(&[(CLAIM_TENANT, "acme"), (CLAIM_ROLE, "customer"), (CLAIM_SUB, "x#y")])).is_err());
    }

    #[test]
    fn participant_segments_round_trip() {
        for p in [ParticipantRef::Agent("a-1".into()), ParticipantRef::Customer("cus_1".into())] {
            assert_eq!(ParticipantRef::from_key_segment(&p.key_segment()), Some(p));
        }
    }
}
