//! Lambda entry point for Chime's meeting state changes (EventBridge; see confer::inbound::RULES).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_eventbridge("calls-chime-events").await
}
