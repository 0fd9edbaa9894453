//! Lambda entry point for the REST route served by `video-providers-list` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("video-providers-list").await
}
