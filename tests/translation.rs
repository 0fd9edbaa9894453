//! Translating a transcript's turns: Amazon Translate at the SDK boundary (aws-smithy-mocks, no
//! emulator has Translate) counting `TranslateText` calls for a long transcript against the
//! 10,000-byte limit, and a LibreTranslate-compatible local stub server built from that API's
//! documented shapes (`POST /translate`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_translate::operation::translate_text::TranslateTextOutput;
use aws_sdk_translate::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use confer::adapters::aws::translate::{AmazonTranslate, MAX_TEXT_BYTES};
use confer::adapters::local::libretranslate::LibreTranslate;
use confer::ports::translator::{TranslateError, Translator};
use confer::translation::translate_all;

/// What the mocked service answers: each line upper-cased, so every translation is traceable to its turn.
fn shout(text: &str) -> String {
    text.split('\n').map(|l| l.to_uppercase()).collect::<Vec<_>>().join("\n")
}

fn turns(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("Turn {i}: the parcel arrived this morning and the box was crushed, could you send a photo of it please?"))
        .collect()
}

#[tokio::test]
async fn sdk_mocks_a_long_transcript_takes_as_few_translate_text_calls_as_the_byte_limit_allows() {
    let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let rule = mock!(Client::translate_text)
        .match_requests(|r| r.source_language_code() == Some("en") && r.target_language_code() == Some("es"))
        .then_compute_output(move |r| {
            let text = r.text().unwrap_or_default();
            seen.lock().unwrap().push(text.len());
            TranslateTextOutput::builder()
                .translated_text(shout(text))
                .source_language_code("en")
                .target_language_code("es")
                .build()
                .unwrap()
        });
    let translator = AmazonTranslate::with_client(mock_client!(aws_sdk_translate, RuleMode::MatchAny, [&rule]));
    let texts = turns(600);
    let total: usize = texts.iter().map(|t| t.len() + 1).sum();
    let (translated, calls) = translate_all(&translator, &texts, Some("en"), "es").await.unwrap();
    let least = total.div_ceil(MAX_TEXT_BYTES);
    assert!(calls == least || calls == least + 1, "{calls} calls for {total} bytes (at least {least})");
    assert_eq!(rule.num_calls(), calls);
    assert!(sizes.lock().unwrap().iter().all(|&n| n <= MAX_TEXT_BYTES), "every call within the limit");
    assert_eq!(translated.len(), texts.len());
    for (original, translation) in texts.iter().zip(&translated) {
        assert_eq!(translation, &original.to_uppercase(), "each turn's translation is its own");
    }
}

#[tokio::test]
async fn sdk_mocks_a_service_that_merges_lines_costs_calls_not_correctness() {
    // Joins the lines of a batch into one: the batch is translated again turn by turn.
    let rule = mock!(Client::translate_text).then_compute_output(|r| {
        TranslateTextOutput::builder()
            .translated_text(r.text().unwrap_or_default().replace('\n', " ").to_uppercase())
            .source_language_code("en")
            .target_language_code("de")
            .build()
            .unwrap()
    });
    let translator = AmazonTranslate::with_client(mock_client!(aws_sdk_translate, RuleMode::MatchAny, [&rule]));
    let texts = turns(3);
    let (translated, calls) = translate_all(&translator, &texts, None, "de").await.unwrap();
    assert_eq!(calls, 4, "one batch, then one call per turn");
    assert_eq!(translated[2], texts[2].to_uppercase());
}

#[tokio::test]
async fn sdk_mocks_a_text_longer_than_one_call_is_split_at_sentences() {
    let rule = mock!(Client::translate_text).then_compute_output(|r| {
        TranslateTextOutput::builder()
            .translated_text(shout(r.text().unwrap_or_default()))
            .source_language_code("en")
            .target_language_code("fr")
            .build()
            .unwrap()
    });
    let translator = AmazonTranslate::with_client(mock_client!(aws_sdk_translate, RuleMode::MatchAny, [&rule]));
    let long = "This sentence is exactly as long as the others are. ".repeat(400);
    let (translated, calls) = translate_all(&translator, &[long.clone()], Some("en"), "fr").await.unwrap();
    assert_eq!(calls, long.len().div_ceil(MAX_TEXT_BYTES).max(3));
    let expected: Vec<String> = long.split_whitespace().map(str::to_uppercase).collect();
    let got: Vec<&str> = translated[0].split_whitespace().collect();
    assert!(got == expected, "the pieces come back in order, whole ({} words against {})", got.len(), expected.len());
}

/// A LibreTranslate-compatible service: `POST /translate` `{"q","source","target","format"}` →
/// `{"translatedText"}`; 400 `{"error"}` for a language it does not have.
async fn stub_libretranslate(calls: Arc<AtomicUsize>) -> String {
    use axum::routing::post;
    use axum::Json;
    let app = axum::Router::new().route(
        "/translate",
        post(move |Json(body): Json<serde_json::Value>| {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let target = body["target"].as_str().unwrap_or_default().to_string();
                if target != "es" || body["format"] != "text" {
                    return (
                        axum::http::StatusCode::BAD_REQUEST,
                        Json(serde_json::json!({ "error": format!("{target} is not supported") })),
                    );
                }
                let q = body["q"].as_str().unwrap_or_default();
                (axum::http::StatusCode::OK, Json(serde_json::json!({ "translatedText": format!("es:{}", q.replace('\n', "\nes:")) })))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn stub_server_libretranslate_translates_turns_and_names_what_it_cannot() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = stub_libretranslate(calls.clone()).await;
    let translator = LibreTranslate::new(&url, None);
    let texts = vec!["Hello, Ada.".to_string(), "Your parcel\nwill arrive today.".to_string()];
    let (translated, n) = translate_all(&translator, &texts, Some("en-US"), "es-US").await.unwrap();
    assert_eq!(translated, ["es:Hello, Ada.", "es:Your parcel will arrive today."]);
    assert_eq!((n, calls.load(Ordering::SeqCst)), (1, 1));
    let refused = translator.translate("Hello", Some("en"), "xx").await;
    assert!(matches!(refused, Err(TranslateError::UnsupportedLanguage(ref why)) if why.contains("xx")), "{refused:?}");
    let nowhere = LibreTranslate::new("http://127.0.0.1:9", None).translate("Hello", None, "es").await;
    assert!(matches!(nowhere, Err(TranslateError::Backend(_))));
}
