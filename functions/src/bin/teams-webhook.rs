//! Lambda entry point for the REST route served by `teams-webhook` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("teams-webhook").await
}
