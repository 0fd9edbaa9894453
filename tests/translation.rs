//! Translating transcripts and chat messages: Amazon Translate at the SDK boundary (aws-smithy-mocks, no
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
use confer::domain::Role;
use confer::ports::translator::{TranslateError, Translator};
use confer::translation::translate_all;
use confer_tests::harness::TestServer;

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

/// Sends `text` into the session as `who` and answers its sequence number.
async fn said(server: &TestServer, token: &str, session_id: &str, id: &str, text: &str) -> u64 {
    let mut ws = server.ws(token).await;
    ws.send_message(session_id, id, text).await;
    let ack = ws.expect("ack").await;
    ws.close().await;
    ack["message"]["seq"].as_u64().expect("a sequence number")
}

#[tokio::test]
async fn stub_server_libretranslate_a_chat_message_is_translated_once_for_every_reader() {
    let calls = Arc::new(AtomicUsize::new(0));
    let url = stub_libretranslate(calls.clone()).await;
    let server = TestServer::start_with(|c| c.media.translate_url = Some(url)).await;
    let agent = server.agent("acme", "agent-ann");
    let customer_id = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session_id = agent.open_session(&customer_id, &[]).await["id"].as_str().unwrap().to_string();
    let customer_token = server.token("acme", Role::Customer, &customer_id);
    let seq = said(&server, &customer_token, &session_id, "c-1", "My parcel\nnever came.").await;

    let path = format!("/v1/sessions/{session_id}/messages/{seq}/translation");
    let first = agent.get(&format!("{path}?lang=es")).await.expect(200);
    assert_eq!(first["text"], "es:My parcel\nes:never came.", "one call, line breaks kept: {first}");
    assert_eq!((first["language"].as_str(), first["seq"].as_u64()), (Some("es"), Some(seq)));
    assert_eq!(first["session_id"], session_id.as_str());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Stored: the next readers, in any spelling of the language, cost nothing.
    let again = agent.get(&format!("{path}?lang=ES")).await.expect(200);
    assert_eq!(again, first);
    let customer = server.client(customer_token.clone());
    assert_eq!(customer.get(&format!("{path}?lang=es")).await.expect(200), first);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the same message and language is never translated twice");
    // The history is untouched by its translations.
    let history = agent.messages(&session_id, "").await.expect(200);
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["items"][0]["text"], "My parcel\nnever came.");

    // Bad input, each with its code; none reaches the service.
    agent.get(&path).await.expect_error(400, "validation_failed");
    agent.get(&format!("{path}?lang=spanish")).await.expect_error(400, "validation_failed");
    for bad in ["0", "x1", "-1", "1e3", "1000000000000000000000"] {
        agent.get(&format!("/v1/sessions/{session_id}/messages/{bad}/translation?lang=es")).await.expect_error(400, "validation_failed");
    }
    agent.get(&format!("/v1/sessions/{session_id}/messages/{}/translation?lang=es", seq + 5)).await.expect_error(404, "not_found");
    agent.get(&format!("/v1/sessions/ses_nope/messages/{seq}/translation?lang=es")).await.expect_error(400, "validation_failed");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A call entry has no text to translate.
    agent.post(&format!("/v1/sessions/{session_id}/call"), serde_json::json!({ "quality": "480p" })).await.expect(201);
    agent.get(&format!("/v1/sessions/{session_id}/messages/{}/translation?lang=es", seq + 1)).await.expect_error(409, "conflict");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // A language the service does not have is named as such, and nothing is stored for it.
    agent.get(&format!("{path}?lang=xx")).await.expect_error(400, "unsupported_language");
    agent.get(&format!("{path}?lang=xx")).await.expect_error(400, "unsupported_language");
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Other tenants and other customers do not see that the session exists.
    server.agent("globex", "agent-gus").get(&format!("{path}?lang=es")).await.expect_error(404, "not_found");
    server.customer("acme", "cus_01M8NRRGNB7K9M1P3R5T7V9X1Z").get(&format!("{path}?lang=es")).await.expect_error(404, "not_found");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn without_a_translation_service_a_message_says_so_and_stays_readable() {
    let server = TestServer::start().await;
    let agent = server.agent("acme", "agent-ann");
    let customer_id = agent.create_customer("Ada Lovelace").await["id"].as_str().unwrap().to_string();
    let session_id = agent.open_session(&customer_id, &[]).await["id"].as_str().unwrap().to_string();
    let seq = said(&server, &server.token("acme", Role::Agent, "agent-ann"), &session_id, "a-1", "Hello Ada").await;
    agent.get(&format!("/v1/sessions/{session_id}/messages/{seq}/translation?lang=es")).await.expect_error(503, "translation_unavailable");
    agent.messages(&session_id, "").await.expect(200);
}
