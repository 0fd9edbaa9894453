//! Lambda entry point for the WebSocket route `ack`.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("ack").await
}
