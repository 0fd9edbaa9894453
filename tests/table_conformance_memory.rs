//! The table port conformance suite on the in-memory table (confer-local's live-connection records).

use std::sync::Arc;

use confer::adapters::local::MemoryTable;
use confer_tests::conformance::SharedTable;

async fn memory_table() -> SharedTable {
    Arc::new(MemoryTable::new())
}

confer_tests::table_conformance_tests!(memory_table);

#[tokio::test]
async fn whole_suite_on_one_shared_table() {
    confer_tests::conformance::run_all(memory_table().await).await;
}

#[tokio::test]
async fn purging_frees_only_expired_items() {
    use confer::ports::table::{Item, Table, TTL};
    let table = MemoryTable::new();
    let now = confer::domain::now_epoch_seconds();
    for (sk, ttl) in [("old", now - 5), ("live", now + 3600)] {
        let mut item = Item::new();
        item.insert("pk".into(), "p".into());
        item.insert("sk".into(), sk.into());
        item.insert(TTL.into(), ttl.into());
        table.put(item, None).await.expect("put");
    }
    assert_eq!(table.len(), 2);
    assert_eq!(table.purge_expired(), 1);
    assert_eq!(table.len(), 1);
    assert!(table.get(&confer::ports::table::Key::new("p", "live")).await.expect("get").is_some());
}
