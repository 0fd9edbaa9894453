//! Lambda entry point for the WebSocket route `send`.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("send").await
}
