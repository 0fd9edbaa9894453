//! Lambda entry point for the SQS consumer `recordings-import` (see confer::inbound::CONSUMERS).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_sqs("recordings-import").await
}
