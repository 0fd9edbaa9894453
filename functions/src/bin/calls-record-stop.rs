//! Lambda entry point for the REST route served by `calls-record-stop` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("calls-record-stop").await
}
