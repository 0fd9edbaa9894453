//! A chat message in the reader's language: translated on first demand (the service detects the
//! language it was written in), stored beside the message, and reused for every later reader who
//! asks for that language. Whoever may read the session's history may ask.

use serde::{Deserialize, Serialize};

use crate::app::sessions::{can_read, load};
use crate::app::{from_item, to_item, App};
use crate::domain::message::Message;
use crate::domain::recording::valid_language;
use crate::domain::{now_rfc3339, Principal, SessionId, TenantId};
use crate::error::{AppError, AppResult};
use crate::keys;
use crate::ports::table::{Condition, StoreError};

/// A message's text in another language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageTranslation {
    #[schema(value_type = crate::domain::SessionId)]
    pub session_id: String,
    #[schema(minimum = 1)]
    pub seq: u64,
    /// The language asked for, lower case (`es`, `pt-br`).
    pub language: String,
    /// The translated text (for media, the translated caption).
    pub text: String,
    #[schema(format = DateTime)]
    pub translated_at: String,
}

/// The stored translations of one session's messages.
struct Translations<'a> {
    app: &'a App,
    tenant: &'a TenantId,
    session: &'a SessionId,
}

impl Translations<'_> {
    async fn get(&self, seq: u64, lang: &str) -> AppResult<Option<MessageTranslation>> {
        match self.app.table.get(&keys::message_translation(self.tenant, self.session, seq, lang)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// Stores `t` unless another reader stored that language first; answers the stored one.
    async fn put_first(&self, t: MessageTranslation) -> AppResult<MessageTranslation> {
        let key = keys::message_translation(self.tenant, self.session, t.seq, &t.language);
        let item = to_item(&t, &key, &[("entity", "message_translation".into())])?;
        match self.app.table.put(item, Some(Condition::NotExists)).await {
            Ok(()) => Ok(t),
            Err(StoreError::ConditionFailed) => Ok(self.get(t.seq, &t.language).await?.unwrap_or(t)),
            Err(e) => Err(e.into()),
        }
    }
}

/// Message `seq` of a session in `lang`.
pub async fn translate(app: &App, p: &Principal, session_id: &str, seq: u64, lang: Option<&str>) -> AppResult<MessageTranslation> {
    let session_id = SessionId::parse(session_id)?;
    let lang = lang.ok_or_else(|| AppError::validation("lang is required: a language code such as es or pt-BR"))?;
    if !valid_language(lang) {
        return Err(AppError::validation("lang is a language code such as es or pt-BR"));
    }
    let target = lang.to_ascii_lowercase();
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    let message: Message = match app.table.get(&keys::message(&p.tenant, &session_id, seq)).await? {
        Some(item) => from_item(item)?,
        None => return Err(AppError::NotFound("message")),
    };
    if message.text.trim().is_empty() {
        return Err(AppError::Conflict("this message has no text to translate".into()));
    }
    let repo = Translations { app, tenant: &p.tenant, session: &session_id };
    if let Some(stored) = repo.get(seq, &target).await? {
        return Ok(stored);
    }
    // One call keeps the message's line breaks; a text over the service's limit goes in pieces.
    let text = if message.text.len() <= app.translator.max_bytes() {
        app.translator.translate(&message.text, None, &target).await?
    } else {
        crate::translation::translate_all(app.translator.as_ref(), &[message.text], None, &target).await?.0.concat()
    };
    tracing::info!(session_id = %session_id, seq, lang = %target, "message translated");
    let translation =
        MessageTranslation { session_id: session_id.as_str().to_string(), seq, language: target, text, translated_at: now_rfc3339() };
    repo.put_first(translation).await
}
