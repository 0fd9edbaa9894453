//! Lambda entry point for the WebSocket route `$connect`.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("$connect").await
}
