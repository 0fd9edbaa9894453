//! Customer groups: sets of a tenant's customers the business defines, for announcements.

use serde::{Deserialize, Serialize};

use super::customer::validate_name;
use super::limits::{MAX_DESCRIPTION_CHARS, MAX_GROUP_MEMBERS_PER_CALL};
use super::CustomerId;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    #[schema(value_type = super::GroupId)]
    pub id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    #[schema(schema_with = super::customer::fields::name)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 1000, nullable, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: Option<String>,
}

/// Partial update: absent fields stay (an empty patch changes nothing); `description: null` clears it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::customer::fields::name)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 1000, nullable, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$")]
    pub description: Option<Option<String>>,
}

/// A field present in the body (possibly `null`, for the `Option<Option<_>>` fields).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Customer ids to add to or remove from a group.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberList {
    /// 1 to 10,000 customer ids; repeats count once.
    #[schema(min_items = 1, max_items = 10000, value_type = Vec<super::CustomerId>)]
    pub customer_ids: Vec<String>,
}

/// What a change of members did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MembersChanged {
    #[schema(value_type = super::GroupId)]
    pub group_id: String,
    /// Distinct ids in the request.
    pub requested: usize,
    /// Those that were not members before (an add) or were members (a removal).
    pub changed: usize,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupMember {
    #[schema(value_type = super::CustomerId)]
    pub customer_id: String,
    #[schema(format = DateTime)]
    pub added_at: String,
}

/// A group a customer belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomerGroup {
    #[schema(value_type = super::GroupId)]
    pub group_id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub added_at: String,
}

pub fn validate_description(d: &str) -> Result<Option<String>, AppError> {
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::validation(format!("description is longer than {MAX_DESCRIPTION_CHARS} characters")));
    }
    if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(AppError::validation("description must not contain control characters"));
    }
    let d = d.trim();
    Ok((!d.is_empty()).then(|| d.to_string()))
}

impl NewGroup {
    pub fn validate(self) -> Result<NewGroup, AppError> {
        let description = match self.description {
            Some(d) => validate_description(&d)?,
            None => None,
        };
        Ok(NewGroup { name: validate_name(&self.name)?, description })
    }
}

impl GroupPatch {
    pub fn validate(self) -> Result<GroupPatch, AppError> {
        let name = self.name.as_deref().map(validate_name).transpose()?;
        let description = match self.description {
            Some(Some(d)) => Some(validate_description(&d)?),
            Some(None) => Some(None),
            None => None,
        };
        Ok(GroupPatch { name, description })
    }
}

impl MemberList {
    /// The distinct, well-formed ids, in the order first given.
    pub fn validate(self) -> Result<Vec<CustomerId>, AppError> {
        if self.customer_ids.is_empty() || self.customer_ids.len() > MAX_GROUP_MEMBERS_PER_CALL {
            return Err(AppError::validation(format!("customer_ids lists 1 to {MAX_GROUP_MEMBERS_PER_CALL} customer ids")));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.customer_ids.len());
        let mut ids = Vec::with_capacity(self.customer_ids.len());
        for raw in &self.customer_ids {
            let id = CustomerId::parse(raw)?;
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_lists_are_bounded_and_repeats_count_once() {
        let id = CustomerId::generate().to_string();
        let ids = MemberList { customer_ids: vec![id.clone(), id.clone()] }.validate().unwrap();
        assert_eq!(ids.len(), 1);
        assert!(MemberList { customer_ids: vec![] }.validate().is_err());
        assert!(MemberList { customer_ids: vec!["cus_nope".into()] }.validate().is_err());
        let many: Vec<String> = (0..=MAX_GROUP_MEMBERS_PER_CALL).map(|_| CustomerId::generate().to_string()).collect();
        assert!(MemberList { customer_ids: many }.validate().is_err());
    }

    #[test]
    fn null_clears_the_description_but_not_the_name() {
        let p: GroupPatch = serde_json::from_str(r#"{"description": null}"#).unwrap();
        assert_eq!(p.validate().unwrap().description, Some(None));
        let p: GroupPatch = serde_json::from_str(r#"{"name": "  VIP  "}"#).unwrap();
        assert_eq!(p.validate().unwrap().name.as_deref(), Some("VIP"));
        assert!(serde_json::from_str::<GroupPatch>(r#"{"name": null}"#).is_err(), "a name cannot be cleared");
    }
}
