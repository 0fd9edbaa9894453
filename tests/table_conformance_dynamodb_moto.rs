//! The table port conformance suite on DynamoDB, against a moto server (see infra/scripts/with-moto.sh).

use std::sync::{Arc, OnceLock};

use confer::adapters::aws::dynamodb::DynamoTable;
use confer_tests::conformance::SharedTable;
use confer_tests::moto;

/// One table for the whole run: every behaviour writes under its own partition keys.
fn table_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| moto::unique_name("confer-conformance"))
}

async fn dynamo_table() -> SharedTable {
    let config = moto::sdk_config().await;
    moto::create_table(&config, table_name()).await;
    let table = DynamoTable::new(&config, table_name().to_string());
    table.warm().await;
    Arc::new(table)
}

// Not the concurrency behaviour: moto answers requests on several threads without locking items,
// so concurrent ADDs to one item can be lost there (seen: 18 of 20), which DynamoDB never does.
// The adapter sends each operation as one request, so it inherits DynamoDB's own serialisation.
confer_tests::table_conformance_tests!(dynamo_table, sequential_only);

#[tokio::test]
async fn whole_suite_on_one_shared_table() {
    confer_tests::conformance::run_all(dynamo_table().await).await;
}

#[tokio::test]
async fn a_missing_table_is_a_backend_error() {
    let config = moto::sdk_config().await;
    let table = DynamoTable::new(&config, moto::unique_name("absent"));
    table.warm().await;
    let read = confer::ports::Table::get(&table, &confer::ports::table::Key::new("p", "s")).await;
    assert!(matches!(read, Err(confer::ports::table::StoreError::Backend(_))), "got {read:?}");
}
