//! Translation in the local runtime through a LibreTranslate-compatible HTTP service
//! (`POST /translate` with `{"q", "source", "target", "format": "text"}` answering
//! `{"translatedText"}`): LibreTranslate itself, or an Apertium service behind a compatible
//! front. Configured with `confer-local serve --translate-url`; without one, translation answers
//! "not available".

use async_trait::async_trait;
use serde::Deserialize;

use crate::ports::translator::{TranslateError, Translator};

#[derive(Clone)]
pub struct LibreTranslate {
    url: String,
    api_key: Option<String>,
    http: reqwest::Client,
    max_bytes: usize,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "translatedText")]
    translated_text: String,
}

#[derive(Deserialize)]
struct Refusal {
    error: String,
}

/// LibreTranslate's default character limit per request is 5,000; stay within it in bytes.
pub const DEFAULT_MAX_BYTES: usize = 5_000;

impl LibreTranslate {
    /// `url` is the service's base (`http://127.0.0.1:5000`).
    pub fn new(url: &str, api_key: Option<String>) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap_or_default();
        LibreTranslate { url: url.trim_end_matches('/').to_string(), api_key, http, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// LibreTranslate names languages by ISO 639-1 code (`en`, `es`); Confer by BCP 47 (`es-US`).
fn base_language(tag: &str) -> String {
    tag.split(['-', '_']).next().unwrap_or(tag).to_ascii_lowercase()
}

#[async_trait]
impl Translator for LibreTranslate {
    fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    async fn translate(&self, text: &str, source: Option<&str>, target: &str) -> Result<String, TranslateError> {
        let mut body = serde_json::json!({
            "q": text,
            "source": source.map(base_language).unwrap_or_else(|| "auto".into()),
            "target": base_language(target),
            "format": "text",
        });
        if let Some(key) = &self.api_key {
            body["api_key"] = key.clone().into();
        }
        let response = self
            .http
            .post(format!("{}/translate", self.url))
            .json(&body)
            .send()
            .await
            .map_err(|e| TranslateError::Backend(format!("{}: {e}", self.url)))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| TranslateError::Backend(e.to_string()))?;
        if status.is_success() {
            let answer: Answer =
                serde_json::from_slice(&bytes).map_err(|e| TranslateError::Backend(format!("an answer without translatedText: {e}")))?;
            return Ok(answer.translated_text);
        }
        let why =
            serde_json::from_slice::<Refusal>(&bytes).map(|r| r.error).unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
        if status.as_u16() == 400 {
            return Err(TranslateError::UnsupportedLanguage(why));
        }
        Err(TranslateError::Backend(format!("{status}: {why}")))
    }
}
