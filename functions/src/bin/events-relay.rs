//! Lambda entry point for the table stream's outbox relay (see confer::inbound::STREAMS).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_stream("events-relay").await
}
