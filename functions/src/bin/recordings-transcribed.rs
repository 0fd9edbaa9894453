//! Lambda entry point for the EventBridge rule `recordings-transcribed` (see confer::inbound::RULES).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_eventbridge("recordings-transcribed").await
}
