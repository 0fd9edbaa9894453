//! Lambda entry point for the WebSocket route `signal` (see confer::http::routes::WS_ROUTES).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("signal").await
}
