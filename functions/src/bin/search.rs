//! Lambda entry point for the REST route served by `search` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("search").await
}
