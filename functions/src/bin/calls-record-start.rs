//! Lambda entry point for the REST route served by `calls-record-start` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("calls-record-start").await
}
