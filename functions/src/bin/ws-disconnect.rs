//! Lambda entry point for the WebSocket route `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_ws("$disconnect").await
}
