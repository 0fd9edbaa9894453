//! Lambda entry point for the REST route served by `inbox-get` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("inbox-get").await
}
