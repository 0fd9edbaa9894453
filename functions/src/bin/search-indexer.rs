//! Lambda entry point for the table stream's search indexer (see confer::inbound::STREAMS).

#[tokio::main]
async fn main() -> Result<(), confer::lambda::Error> {
    confer::lambda::run_stream("search-indexer").await
}
