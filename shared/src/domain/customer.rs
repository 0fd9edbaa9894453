//! Customers of a business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::limits::*;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Customer {
    #[schema(value_type = super::CustomerId)]
    pub id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    /// The business's own reference for this customer (CRM id, account number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 128)]
    pub external_ref: Option<String>,
    #[serde(default)]
    #[schema(schema_with = attributes_schema)]
    pub attributes: BTreeMap<String, String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    #[schema(schema_with = fields::name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = fields::email_or_null)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = fields::phone_or_null)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = fields::external_ref_or_null)]
    pub external_ref: Option<String>,
    #[serde(default)]
    #[schema(schema_with = attributes_schema)]
    pub attributes: BTreeMap<String, String>,
}

/// Partial update: absent fields stay; `null` clears an optional field (`email`, `phone`,
/// `external_ref`). `name` and `attributes` cannot be cleared.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = fields::name)]
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(schema_with = fields::email_or_null)]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(schema_with = fields::phone_or_null)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(schema_with = fields::external_ref_or_null)]
    pub external_ref: Option<Option<String>>,
    /// Replaces the whole attribute map when present.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(schema_with = attributes_schema)]
    pub attributes: Option<BTreeMap<String, String>>,
}

/// A field that may be absent, but not `null`.
fn not_null<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The business's own key-value pairs: at most [`MAX_ATTRIBUTES`], names of 1 to
/// [`MAX_ATTRIBUTE_KEY_CHARS`] characters, values of at most [`MAX_ATTRIBUTE_VALUE_CHARS`].
fn attributes_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    let string = |min: Option<usize>, max: usize| ObjectBuilder::new().schema_type(Type::String).min_length(min).max_length(Some(max));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(string(Some(1), MAX_ATTRIBUTE_KEY_CHARS)))
        .additional_properties(Some(AdditionalProperties::RefOr(string(None, MAX_ATTRIBUTE_VALUE_CHARS).into())))
        .max_properties(Some(MAX_ATTRIBUTES))
        .description(Some("The business's own key-value pairs"))
        .build()
}

/// The request fields' rules below, as the OpenAPI document states them: lengths and patterns.
/// Lengths count the value as sent; surrounding white space is then trimmed. White space is
/// Unicode's (what Rust's `trim` removes), spelled out because regular expression dialects
/// disagree on `\s`.
pub(crate) mod fields {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::Object;

    use super::*;

    pub(crate) const SPACE: &str = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
    pub(crate) const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

    /// Not blank, no control characters.
    pub fn name_pattern() -> String {
        format!("^[{SPACE}]*[^{CONTROL}]*[^{SPACE}{CONTROL}][^{CONTROL}]*[{SPACE}]*$")
    }

    /// One `@` with something before it; a domain with a dot, not at either end; no white space
    /// or control characters.
    pub fn email_pattern() -> String {
        let c = format!("{SPACE}{CONTROL}@");
        format!("^[{SPACE}]*[^{c}]+@[^{c}.][^{c}]*\\.[^{c}]*[^{c}.][{SPACE}]*$")
    }

    /// 4-20 digits, with `+ ( ) - .` and spaces besides.
    pub fn phone_pattern() -> String {
        format!("^[{SPACE}]*[ ()+.-]*(?:[0-9][ ()+.-]*){{4,20}}[{SPACE}]*$")
    }

    /// Not blank.
    pub fn external_ref_pattern() -> String {
        format!("[^{SPACE}]")
    }

    fn string(max: usize, pattern: String, nullable: bool) -> Object {
        let kind = if nullable { SchemaType::from_iter([Type::String, Type::Null]) } else { SchemaType::new(Type::String) };
        ObjectBuilder::new().schema_type(kind).max_length(Some(max)).pattern(Some(pattern)).build()
    }

    pub fn name() -> Object {
        string(MAX_NAME_CHARS, name_pattern(), false)
    }
    pub fn email_or_null() -> Object {
        string(MAX_EMAIL_CHARS, email_pattern(), true)
    }
    pub fn phone_or_null() -> Object {
        string(MAX_PHONE_CHARS, phone_pattern(), true)
    }
    pub fn external_ref_or_null() -> Object {
        string(MAX_EXTERNAL_REF_CHARS, external_ref_pattern(), true)
    }
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::<String>::deserialize(d)?))
    }
}

/// Lengths count the value as sent (before trimming), in Unicode scalar values.
fn check_len(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    let n = value.chars().count();
    if n > max {
        return Err(AppError::validation(format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<String, AppError> {
    check_len("name", name, MAX_NAME_CHARS)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::validation("name must not be empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::validation("name must not contain control characters"));
    }
    Ok(name.to_string())
}

pub fn validate_email(email: &str) -> Result<String, AppError> {
    check_len("email", email, MAX_EMAIL_CHARS)?;
    let email = email.trim();
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
    check_len("phone", phone, MAX_PHONE_CHARS)?;
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let allowed = phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    if allowed && (4..=20).contains(&digits) {
        Ok(phone.to_string())
    } else {
        Err(AppError::validation("phone must be 4-20 digits with optional + ( ) - . and spaces"))
    }
}

pub fn validate_external_ref(r: &str) -> Result<String, AppError> {
    check_len("external_ref", r, MAX_EXTERNAL_REF_CHARS)?;
    let r = r.trim();
    if r.is_empty() {
        return Err(AppError::validation("external_ref must not be empty"));
    }
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
        // A name or the attributes cannot be cleared.
        assert!(serde_json::from_str::<CustomerPatch>(r#"{"name":null}"#).is_err());
        assert!(serde_json::from_str::<CustomerPatch>(r#"{"attributes":null}"#).is_err());
    }

    #[test]
    fn lengths_count_the_value_as_sent() {
        assert_eq!(validate_name(&format!(" {} ", "x".repeat(198))).unwrap().len(), 198);
        assert!(validate_name(&format!(" {} ", "x".repeat(199))).is_err());
        assert!(validate_email(&format!("{}@example.com ", "a".repeat(242))).is_err());
    }
}
