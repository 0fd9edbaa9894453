//! Lambda entry point for the SQS consumer `announcements-deliver` (see confer::inbound::CONSUMERS).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_sqs("announcements-deliver").await
}
