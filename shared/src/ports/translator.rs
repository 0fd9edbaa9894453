//! Translation of transcripts and messages into a reader's language: Amazon Translate in the
//! cloud; locally a LibreTranslate-compatible HTTP service (LibreTranslate itself, or Apertium
//! behind a compatible front), or none. One call translates one text; packing many texts into as
//! few calls as a service's size limit allows is [`crate::translation`]'s job.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TranslateError {
    /// No translation service is configured here.
    #[error("translation is not available here: {0}")]
    NotAvailable(String),
    /// The service does not translate this language (or pair).
    #[error("{0}")]
    UnsupportedLanguage(String),
    #[error("translation service: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Translator: Send + Sync + 'static {
    /// The largest text one call takes, in UTF-8 bytes.
    fn max_bytes(&self) -> usize;
    /// Translates `text` from `source` (`None`: let the service detect it) into `target`.
    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<String, TranslateError>;
}

/// A runtime without translation.
pub struct NoTranslator(pub &'static str);

#[async_trait]
impl Translator for NoTranslator {
    fn max_bytes(&self) -> usize {
        10_000
    }
    async fn translate(&self, _: &str, _: Option<&str>, _: &str) -> Result<String, TranslateError> {
        Err(TranslateError::NotAvailable(self.0.to_string()))
    }
}
