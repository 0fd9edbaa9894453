//! Lambda entry point for the S3 trigger `recordings-transcribe` (see confer::inbound).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_s3("recordings-transcribe").await
}
