//! Customers of a business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::limits::*;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The business's own reference for this customer (CRM id, account number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Partial update: absent fields stay; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    /// Replaces the whole attribute map when present.
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n > max {
        return Err(AppError::validation(format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::validation("name must not be empty"));
    }
    check_len("name", name, MAX_NAME_CHARS)?;
    if name.chars().any(char::is_control) {
        return Err(AppError::validation("name must not contain control characters"));
    }
    Ok(name.to_string())
}

pub fn validate_email(email: &str) -> Result<String, AppError> {
    let email = email.trim();
    check_len("email", email, MAX_EMAIL_CHARS)?;
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    };
    if valid {
        Ok(email.to_string())
    } else {
        Err(AppError::validation("email is not a valid address"))
    }
}

pub fn validate_phone(phone: &str) -> Result<String, AppError> {
    let phone = phone.trim();
    check_len("phone", phone, MAX_PHONE_CHARS)?;
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    if allowed && (4..=20).contains(&digits) {
        Ok(phone.to_string())
    } else {
        Err(AppError::validation("phone must be 4-20 digits with optional + ( ) - . and spaces"))
    }
}

pub fn validate_external_ref(r: &str) -> Result<String, AppError> {
    let r = r.trim();
    if r.is_empty() {
        return Err(AppError::validation("external_ref must not be empty"));
    }
    check_len("external_ref", r, MAX_EXTERNAL_REF_CHARS)?;
    Ok(r.to_string())
}

pub fn validate_attributes(attrs: &BTreeMap<String, String>) -> Result<(), AppError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(AppError::validation(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (k, v) in attrs {
        if k.is_empty() || k.chars().count() > MAX_ATTRIBUTE_KEY_CHARS {
            return Err(AppError::validation(format!("attribute names are 1-{MAX_ATTRIBUTE_KEY_CHARS} characters")));
        }
        check_len("attribute value", v, MAX_ATTRIBUTE_VALUE_CHARS)?;
    }
    Ok(())
}

impl NewCustomer {
    /// Returns the normalised input or the first rule it breaks.
    pub fn validate(self) -> Result<NewCustomer, AppError> {
        validate_attributes(&self.attributes)?;
        Ok(NewCustomer {
            name: validate_name(&self.name)?,
            email: self.email.as_deref().map(validate_email).transpose()?,
            phone: self.phone.as_deref().map(validate_phone).transpose()?,
            external_ref: self.external_ref.as_deref().map(validate_external_ref).transpose()?,
            attributes: self.attributes,
        })
    }
}

impl CustomerPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.phone.is_none() && self.external_ref.is_none() && self.attributes.is_none()
    }

    pub fn validate(self) -> Result<CustomerPatch, AppError> {
        if self.is_empty() {
            return Err(AppError::validation("the update changes nothing"));
        }
        if let Some(attrs) = &self.attributes {
            validate_attributes(attrs)?;
        }
        fn opt(v: Option<Option<String>>, f: fn(&str) -> Result<String, AppError>) -> Result<Option<Option<String>>, AppError> {
            v.map(|inner| inner.as_deref().map(f).transpose()).transpose()
        }
        Ok(CustomerPatch {
            name: self.name.as_deref().map(validate_name).transpose()?,
            email: opt(self.email, validate_email)?,
            phone: opt(self.phone, validate_phone)?,
            external_ref: opt(self.external_ref, validate_external_ref)?,
            attributes: self.attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_customer_is_normalised_and_checked() {
        let c =
            NewCustomer { name: "  Ada Lovelace ".into(), email: Some("ada@example.com".into()), ..Default::default() }.validate().unwrap();
        assert_eq!(c.name, "Ada Lovelace");
        assert!(NewCustomer { name: " ".into(), ..Default::default() }.validate().is_err());
        assert!(NewCustomer { name: "x".repeat(201), ..Default::default() }.validate().is_err());
        assert!(NewCustomer { name: "A".into(), email: Some("not-an-email".into()), ..Default::default() }.validate().is_err());
        assert!(NewCustomer { name: "A".into(), phone: Some("12".into()), ..Default::default() }.validate().is_err());
        assert!(NewCustomer { name: "A".into(), phone: Some("+44 20 7946 0958".into()), ..Default::default() }.validate().is_ok());
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let p: CustomerPatch = serde_json::from_str(r#"{"email":null}"#).unwrap();
        assert_eq!(p.email, Some(None));
        let p: CustomerPatch = serde_json::from_str(r#"{"name":"B"}"#).unwrap();
        assert_eq!(p.email, None);
        let empty: CustomerPatch = serde_json::from_str("{}").unwrap();
        assert!(empty.validate().is_err());
        assert!(serde_json::from_str::<CustomerPatch>(r#"{"tenant":"other"}"#).is_err());
    }
}
