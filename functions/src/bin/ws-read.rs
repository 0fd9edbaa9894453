//! Lambda entry point for the WebSocket route `read` (see confer::http::routes::WS_ROUTES).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("read").await
}
