//! The table port conformance suite on the embedded SQLite store.

use std::sync::Arc;

use confer::adapters::local::SqliteStore;
use confer_tests::conformance::SharedTable;

async fn sqlite_table() -> SharedTable {
    // The directory must outlive the store: SQLite creates its WAL files next to the database.
    let dir = Box::leak(Box::new(tempfile::tempdir().expect("temporary directory")));
    let store = SqliteStore::open(&dir.path().join("confer.db")).expect("open SQLite store");
    Arc::new(store.table("main"))
}

confer_tests::table_conformance_tests!(sqlite_table);

#[tokio::test]
async fn whole_suite_on_one_shared_table() {
    confer_tests::conformance::run_all(sqlite_table().await).await;
}
