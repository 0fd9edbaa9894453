//! The @connections adapter against moto's API Gateway Management API, and its error mapping
//! against a local HTTP server answering the way API Gateway does (moto never reports Gone).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use confer::adapters::aws::apigateway::ApiGatewayConnections;
use confer::ports::{ConnectionGateway, PostError};
use confer_tests::moto;

#[tokio::test]
async fn posts_and_disconnects_through_moto() {
    let config = moto::sdk_config().await;
    let gateway = ApiGatewayConnections::new(&config, moto::endpoint());
    let connection_id = moto::unique_name("conn");

    gateway.post(&connection_id, br#"{"type":"message","body":"hi"}"#).await.expect("post");
    gateway.post(&connection_id, b"second frame").await.expect("second post");

    let first_connected_at = moto_connected_at(&connection_id).await;

    gateway.disconnect(&connection_id).await.expect("disconnect");
    gateway.disconnect(&connection_id).await.expect("disconnecting twice is not an error");
    gateway.disconnect(&moto::unique_name("never-connected")).await.expect("unknown connections are not an error");

    // moto forgets a deleted connection; asking again yields a fresh one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(moto_connected_at(&connection_id).await > first_connected_at, "the connection was deleted");
}

/// GetConnection read directly: moto answers with epoch numbers where the SDK expects timestamps.
async fn moto_connected_at(connection_id: &str) -> f64 {
    // moto routes by the signing scope of the Authorization header and does not verify signatures.
    let authorization = "AWS4-HMAC-SHA256 Credential=testing/20261130/us-east-1/execute-api/aws4_request, \
                         SignedHeaders=host, Signature=0";
    let response = reqwest::Client::new()
        .get(format!("{}/@connections/{connection_id}", moto::endpoint()))
        .header("authorization", authorization)
        .send()
        .await
        .expect("GetConnection");
    assert!(response.status().is_success(), "GetConnection answered {}", response.status());
    let body: serde_json::Value = response.json().await.expect("GetConnection body");
    body["connectedAt"].as_f64().expect("connectedAt")
}

/// Frames the stub received: (connection id, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn api_gateway_error(status: StatusCode, code: &str) -> (StatusCode, HeaderMap, &'static str) {
    let mut headers = HeaderMap::new();
    headers.insert("x-amzn-errortype", code.parse().expect("header"));
    headers.insert("content-type", "application/json".parse().expect("header"));
    (status, headers, r#"{"message":null}"#)
}

async fn stub_post(State(received): State<Received>, Path(id): Path<String>, body: Bytes) -> (StatusCode, HeaderMap, &'static str) {
    received.lock().expect("lock").push((id.clone(), body.to_vec()));
    match id.as_str() {
        "gone" => api_gateway_error(StatusCode::GONE, "GoneException"),
        "huge" => api_gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException"),
        "forbidden" => api_gateway_error(StatusCode::FORBIDDEN, "ForbiddenException"),
        _ => (StatusCode::OK, HeaderMap::new(), ""),
    }
}

async fn stub_delete(Path(id): Path<String>) -> (StatusCode, HeaderMap, &'static str) {
    match id.as_str() {
        "gone" => api_gateway_error(StatusCode::GONE, "GoneException"),
        "forbidden" => api_gateway_error(StatusCode::FORBIDDEN, "ForbiddenException"),
        _ => (StatusCode::NO_CONTENT, HeaderMap::new(), ""),
    }
}

#[tokio::test]
async fn errors_map_to_post_errors_http_stub() {
    let received: Received = Arc::default();
    let app = Router::new().route("/prod/@connections/{id}", post(stub_post).delete(stub_delete)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub server") });

    let credentials = aws_sdk_apigatewaymanagement::config::Credentials::new("testing", "testing", None, None, "stub");
    let config = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_apigatewaymanagement::config::SharedCredentialsProvider::new(credentials))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let gateway = ApiGatewayConnections::new(&config, format!("http://{address}/prod"));

    gateway.post("alive", b"frame").await.expect("post to a live connection");
    assert_eq!(received.lock().expect("lock").as_slice(), [("alive".to_string(), b"frame".to_vec())]);
    assert_eq!(gateway.post("gone", b"frame").await, Err(PostError::Gone));
    assert_eq!(gateway.post("huge", b"frame").await, Err(PostError::TooLarge));
    assert!(matches!(gateway.post("forbidden", b"frame").await, Err(PostError::Backend(_))));

    gateway.disconnect("alive").await.expect("disconnect");
    gateway.disconnect("gone").await.expect("a gone connection is already disconnected");
    assert!(matches!(gateway.disconnect("forbidden").await, Err(PostError::Backend(_))));
}
