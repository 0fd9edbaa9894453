//! Lambda entry point for the REST route served by `zoom-webhook` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("zoom-webhook").await
}
