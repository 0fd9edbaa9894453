//! Lambda entry point for the REST route served by `video-providers-disconnect` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("video-providers-disconnect").await
}
