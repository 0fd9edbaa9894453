//! Amazon Translate (`TranslateText`): one text of at most 10,000 UTF-8 bytes per call.

use async_trait::async_trait;
use aws_sdk_translate::Client;

use crate::ports::translator::{TranslateError, Translator};

/// TranslateText's limit on `Text`, in UTF-8 bytes.
pub const MAX_TEXT_BYTES: usize = 10_000;

#[derive(Clone)]
pub struct AmazonTranslate {
    client: Client,
}

impl AmazonTranslate {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        AmazonTranslate { client: Client::new(config) }
    }
    pub fn with_client(client: Client) -> Self {
        AmazonTranslate { client }
    }
}

#[async_trait]
impl Translator for AmazonTranslate {
    fn max_bytes(&self) -> usize {
        MAX_TEXT_BYTES
    }

    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<String, TranslateError> {
        let out = self
            .client
            .translate_text()
            .text(text)
            // "auto" lets Translate detect the language (with Amazon Comprehend).
            .source_language_code(source.unwrap_or("auto"))
            .target_language_code(target)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(s) if s.is_unsupported_language_pair_exception() || s.is_detected_language_low_confidence_exception() => {
                    TranslateError::UnsupportedLanguage(format!("Amazon Translate cannot translate this into {target}"))
                }
                Some(s) if s.is_invalid_request_exception() => {
                    TranslateError::UnsupportedLanguage(format!("Amazon Translate refused {target}: {s}"))
                }
                _ => TranslateError::Backend(format!("TranslateText: {}", aws_sdk_translate::error::DisplayErrorContext(&e))),
            })?;
        Ok(out.translated_text().to_string())
    }
}
