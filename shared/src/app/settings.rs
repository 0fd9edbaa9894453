//! A tenant's settings: what its customers may see of recordings, and how its calls are
//! transcribed (docs/recordings.md). Agents read them; admins change them.

use serde::{Deserialize, Serialize};

use super::{from_item, to_item, App};
use crate::domain::recording::valid_language;
use crate::domain::{Principal, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::transcription::LanguageChoice;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingSettings {
    /// Customers may list and play the recordings of their own sessions (off by default).
    #[serde(default)]
    pub customer_access: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranscriptionSettings {
    /// A BCP 47 code (`en-US`), `auto` (one language, identified) or `auto-multiple` (several
    /// languages in one recording).
    #[schema(pattern = "^(auto|auto-multiple|[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2})$")]
    pub language: String,
    /// Narrows identification to these (2 to 10 codes such as `en-US`); used with `auto` and
    /// `auto-multiple` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 2, max_items = 10, inline, value_type = Option<Vec<LanguageCode>>)]
    pub language_options: Option<Vec<String>>,
}

impl Default for TranscriptionSettings {
    fn default() -> Self {
        TranscriptionSettings { language: "en-US".into(), language_options: None }
    }
}

impl TranscriptionSettings {
    pub fn choice(&self) -> LanguageChoice {
        let options = self.language_options.clone().unwrap_or_default();
        match self.language.as_str() {
            "auto" => LanguageChoice::Identify { options },
            "auto-multiple" => LanguageChoice::IdentifyMultiple { options },
            code => LanguageChoice::Fixed(code.to_string()),
        }
    }

    fn validate(&self) -> AppResult<()> {
        let auto = matches!(self.language.as_str(), "auto" | "auto-multiple");
        if !auto && !valid_language(&self.language) {
            return Err(AppError::validation("transcription.language is a BCP 47 code (en-US), auto or auto-multiple"));
        }
        if let Some(options) = &self.language_options {
            if !(2..=10).contains(&options.len()) || !options.iter().all(|o| valid_language(o) && o.contains('-')) {
                return Err(AppError::validation("transcription.language_options are 2 to 10 codes such as en-US"));
            }
        }
        Ok(())
    }
}

/// A language code with a region, as Amazon Transcribe names languages (`en-US`).
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[A-Za-z]{2,3}-[A-Za-z0-9]{2,8}(-[A-Za-z0-9]{2,8})?$")]
pub struct LanguageCode(#[allow(dead_code)] String);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TenantSettings {
    #[serde(default)]
    pub recordings: RecordingSettings,
    #[serde(default)]
    pub transcription: TranscriptionSettings,
    /// The video apps offered for calls, and the default (docs/providers.md).
    #[serde(default)]
    pub video: crate::domain::provider::VideoSettings,
}

/// A change: each part given replaces that part.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub recordings: Option<RecordingSettings>,
    #[serde(default)]
    pub transcription: Option<TranscriptionSettings>,
    #[serde(default)]
    pub video: Option<crate::domain::provider::VideoSettings>,
}

/// The tenant's settings (the defaults until an admin changes them).
pub async fn load(app: &App, tenant: &TenantId) -> AppResult<TenantSettings> {
    match app.table.get(&keys::tenant_settings(tenant)).await? {
        Some(item) => from_item(item),
        None => Ok(TenantSettings::default()),
    }
}

pub async fn get(app: &App, p: &Principal) -> AppResult<TenantSettings> {
    p.require_staff()?;
    load(app, &p.tenant).await
}

pub async fn update(app: &App, p: &Principal, patch: SettingsPatch) -> AppResult<TenantSettings> {
    p.require_admin()?;
    let mut settings = load(app, &p.tenant).await?;
    if let Some(r) = patch.recordings {
        settings.recordings = r;
    }
    if let Some(mut t) = patch.transcription {
        t.validate()?;
        // Options narrow identification only; a fixed language needs none.
        if !matches!(t.language.as_str(), "auto" | "auto-multiple") {
            t.language_options = None;
        }
        settings.transcription = t;
    }
    if let Some(v) = patch.video {
        settings.video = v.normalized();
    }
    let item = to_item(&settings, &keys::tenant_settings(&p.tenant), &[("entity", "tenant_settings".into())])?;
    app.table.put(item, None).await?;
    tracing::info!(tenant = %p.tenant, by = %p.id, "tenant settings changed");
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_choose_exactly_one_transcribe_mode() {
        let fixed = TranscriptionSettings { language: "es-ES".into(), language_options: None };
        assert_eq!(fixed.choice(), LanguageChoice::Fixed("es-ES".into()));
        let auto = TranscriptionSettings { language: "auto".into(), language_options: Some(vec!["en-US".into(), "es-US".into()]) };
        assert!(auto.validate().is_ok());
        assert_eq!(auto.choice(), LanguageChoice::Identify { options: vec!["en-US".into(), "es-US".into()] });
        let bad = [
            TranscriptionSettings { language: "klingon".into(), language_options: None },
            TranscriptionSettings { language: "auto".into(), language_options: Some(vec!["en-US".into()]) },
        ];
        for b in bad {
            assert!(b.validate().is_err(), "{b:?}");
        }
    }
}
