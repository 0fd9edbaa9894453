//! Lambda REQUEST authorizer on the WebSocket `$connect` route.

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_authorizer().await
}
