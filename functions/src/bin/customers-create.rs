//! Lambda entry point for the REST route served by `customers-create` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("customers-create").await
}
