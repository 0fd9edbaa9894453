//! Lambda entry point for the REST route served by `group-members-remove` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("group-members-remove").await
}
