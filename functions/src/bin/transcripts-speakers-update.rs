//! Lambda entry point for the REST route served by `transcripts-speakers-update` (see confer::http::routes).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_http("transcripts-speakers-update").await
}
