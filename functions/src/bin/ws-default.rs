//! Lambda entry point for the WebSocket route `$default`.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("$default").await
}
