//! Lambda entry point for the REST route served by `announcements-list` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("announcements-list").await
}
