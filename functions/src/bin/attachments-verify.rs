//! Lambda entry point for the S3 trigger `attachments-verify` (see confer::inbound).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_s3("attachments-verify").await
}
