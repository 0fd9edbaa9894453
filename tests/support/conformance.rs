//! Conformance suite for the table port: every adapter must pass each behaviour here, so that
//! repositories behave the same on DynamoDB and on the embedded store. Each behaviour writes
//! under partition keys unique to its run, so the suite can share one table.
//!
//! An adapter's test file instantiates the suite with
//! `confer_tests::table_conformance_tests!(async_fn_returning_arc_dyn_table);`.

use std::sync::Arc;

use confer::domain::now_epoch_seconds;
use confer::ports::table::*;
use serde_json::{json, Value};

pub type SharedTable = Arc<dyn Table>;

/// One test per behaviour, each on a table from `$make_table` (an async fn returning [`SharedTable`]).
/// `sequential_only` leaves out [`concurrent_writes_are_serialised`], for an emulator that does
/// not serialise concurrent requests the way the service it stands in for does.
#[macro_export]
macro_rules! table_conformance_tests {
    ($make_table:path) => {
        $crate::table_conformance_tests!($make_table, sequential_only);
        $crate::table_conformance_tests!(@tests $make_table; concurrent_writes_are_serialised);
    };
    ($make_table:path, sequential_only) => {
        $crate::table_conformance_tests!(@tests $make_table;
            round_trips_every_json_type,
            conditions_on_put,
            conditions_on_update,
            conditions_on_delete,
            update_sets_removes_and_adds,
            delete_returns_the_old_item,
            query_with_every_sort_key_condition,
            query_pages_cover_the_partition_in_order,
            gsi1_is_sparse_ordered_and_paged,
            query_returns_only_the_attributes_asked_for,
            batch_write_applies_up_to_25_writes,
            transaction_is_all_or_nothing_with_reasons,
            transaction_rejects_one_key_twice,
            item_size_is_limited,
            expired_items_are_invisible,
        );
    };
    (@tests $make_table:path; $($behaviour:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $behaviour() {
                let table = $make_table().await;
                $crate::conformance::$behaviour(table).await;
            }
        )+
    };
}

/// Runs every sequential behaviour, one after another, on one table.
pub async fn run_all(table: SharedTable) {
    round_trips_every_json_type(table.clone()).await;
    conditions_on_put(table.clone()).await;
    conditions_on_update(table.clone()).await;
    conditions_on_delete(table.clone()).await;
    update_sets_removes_and_adds(table.clone()).await;
    delete_returns_the_old_item(table.clone()).await;
    query_with_every_sort_key_condition(table.clone()).await;
    query_pages_cover_the_partition_in_order(table.clone()).await;
    gsi1_is_sparse_ordered_and_paged(table.clone()).await;
    query_returns_only_the_attributes_asked_for(table.clone()).await;
    batch_write_applies_up_to_25_writes(table.clone()).await;
    transaction_is_all_or_nothing_with_reasons(table.clone()).await;
    transaction_rejects_one_key_twice(table.clone()).await;
    item_size_is_limited(table.clone()).await;
    expired_items_are_invisible(table).await;
}

/// A partition key no other run uses.
fn unique_pk(label: &str) -> String {
    format!("conf#{}#{label}", ulid::Ulid::new())
}

fn item(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("an item is a JSON object, not {other}"),
    }
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i[SK].as_str().expect("string sk").to_string()).collect()
}

async fn put_plain(table: &SharedTable, pk: &str, sk: &str) {
    table.put(item(json!({ "pk": pk, "sk": sk })), None).await.expect("put");
}

/// Every page of `query`, following `last_key`, with the size of each page.
async fn all_pages(table: &SharedTable, query: Query) -> (Vec<Item>, Vec<usize>) {
    let mut items = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(query.clone().start_after(cursor)).await.expect("query page");
        sizes.push(page.items.len());
        items.extend(page.items);
        match page.last_key {
            Some(key) => cursor = Some(key),
            None => return (items, sizes),
        }
        assert!(sizes.len() < 100, "paging does not terminate");
    }
}

pub async fn round_trips_every_json_type(table: SharedTable) {
    let pk = unique_pk("types");
    let stored = item(json!({
        "pk": pk,
        "sk": "all-types",
        "string": "héllo ✓",
        "empty_string": "",
        "integer": 42,
        "negative": -7,
        "large": 9_007_199_254_740_993_i64,
        "unsigned": u64::MAX,
        "float": 1.5,
        "true": true,
        "false": false,
        "null": null,
        "list": ["a", 1, false, null, {"k": "v"}, [1, 2]],
        "empty_list": [],
        "map": {"nested": {"deeper": [1.25, "x"]}, "n": 0},
        "empty_map": {}
    }));
    table.put(stored.clone(), None).await.expect("put");
    let read = table.get(&Key::new(&pk, "all-types")).await.expect("get").expect("item present");
    assert_eq!(read, stored);
    assert_eq!(table.get(&Key::new(&pk, "absent")).await.expect("get"), None);

    let missing_sk = item(json!({ "pk": pk }));
    assert!(matches!(table.put(missing_sk, None).await, Err(StoreError::Invalid(_))));
    let numeric_sk = item(json!({ "pk": pk, "sk": 1 }));
    assert!(matches!(table.put(numeric_sk, None).await, Err(StoreError::Invalid(_))));
}

pub async fn conditions_on_put(table: SharedTable) {
    let pk = unique_pk("put-conditions");
    let version = |v: i64, stamp: &str| item(json!({ "pk": pk, "sk": "k", "version": v, "stamp": stamp }));

    table.put(version(1, "b"), Some(Condition::NotExists)).await.expect("NotExists on an absent item");
    assert_eq!(table.put(version(2, "b"), Some(Condition::NotExists)).await, Err(StoreError::ConditionFailed));
    table.put(version(2, "b"), Some(Condition::Exists)).await.expect("Exists on a present item");
    let absent = item(json!({ "pk": pk, "sk": "other" }));
    assert_eq!(table.put(absent, Some(Condition::Exists)).await, Err(StoreError::ConditionFailed));
    assert_eq!(table.get(&Key::new(&pk, "other")).await.expect("get"), None, "a failed put writes nothing");

    let equals = |v: i64| Some(Condition::Equals("version".into(), json!(v)));
    assert_eq!(table.put(version(3, "b"), equals(1)).await, Err(StoreError::ConditionFailed));
    table.put(version(3, "b"), equals(2)).await.expect("Equals with the stored value");
    let missing_attr = Some(Condition::Equals("missing".into(), json!("x")));
    assert_eq!(table.put(version(4, "b"), missing_attr).await, Err(StoreError::ConditionFailed));
    let string_equals = Some(Condition::Equals("stamp".into(), json!("b")));
    table.put(version(4, "c"), string_equals).await.expect("Equals on a string");

    let below = |s: &str| Some(Condition::AbsentOrLessThan("stamp".into(), s.into()));
    assert_eq!(table.put(version(5, "c"), below("c")).await, Err(StoreError::ConditionFailed), "equal is not less");
    assert_eq!(table.put(version(5, "c"), below("b")).await, Err(StoreError::ConditionFailed), "greater is not less");
    table.put(version(5, "d"), below("d")).await.expect("stored c < d");
    let absent_attr = Some(Condition::AbsentOrLessThan("never_set".into(), "a".into()));
    table.put(version(6, "d"), absent_attr).await.expect("absent attribute");
    let fresh = item(json!({ "pk": pk, "sk": "fresh" }));
    table.put(fresh, below("a")).await.expect("absent item");
    let numeric = Some(Condition::AbsentOrLessThan("version".into(), "9".into()));
    assert_eq!(table.put(version(7, "d"), numeric).await, Err(StoreError::ConditionFailed), "a number is not a lower string");
    let number_below = |n: i64| Some(Condition::AbsentOrLessThan("version".into(), json!(n)));
    assert_eq!(table.put(version(7, "d"), number_below(6)).await, Err(StoreError::ConditionFailed), "equal is not less");
    assert_eq!(table.put(version(7, "d"), number_below(5)).await, Err(StoreError::ConditionFailed), "greater is not less");
    table.put(version(7, "d"), number_below(7)).await.expect("stored 6 < 7");
    assert_eq!(table.put(version(8, "d"), number_below(10)).await, Ok(()), "numbers compare as numbers, not as text");
    let string_vs_number = Some(Condition::AbsentOrLessThan("stamp".into(), json!(100)));
    assert_eq!(table.put(version(9, "d"), string_vs_number).await, Err(StoreError::ConditionFailed), "a string is not a lower number");

    let read = table.get(&Key::new(&pk, "k")).await.expect("get").expect("present");
    assert_eq!(read, version(8, "d"));
}

pub async fn conditions_on_update(table: SharedTable) {
    let pk = unique_pk("update-conditions");
    let key = Key::new(&pk, "k");
    let set = |v: i64| Update::default().set("version", v);

    assert_eq!(table.update(&key, set(1), Some(Condition::Exists)).await, Err(StoreError::ConditionFailed));
    assert_eq!(table.get(&key).await.expect("get"), None, "a failed update creates nothing");
    let created = table.update(&key, set(1), Some(Condition::NotExists)).await.expect("create through update");
    assert_eq!(created, item(json!({ "pk": pk, "sk": "k", "version": 1 })));
    assert_eq!(table.update(&key, set(2), Some(Condition::NotExists)).await, Err(StoreError::ConditionFailed));
    table.update(&key, set(2), Some(Condition::Exists)).await.expect("Exists");
    let equals = |v: i64| Some(Condition::Equals("version".into(), json!(v)));
    assert_eq!(table.update(&key, set(3), equals(1)).await, Err(StoreError::ConditionFailed));
    table.update(&key, set(3), equals(2)).await.expect("Equals");
    let below = |s: &str| Some(Condition::AbsentOrLessThan("stamp".into(), s.into()));
    table.update(&key, Update::default().set("stamp", "m"), below("m")).await.expect("absent attribute");
    assert_eq!(table.update(&key, Update::default().set("stamp", "a"), below("a")).await, Err(StoreError::ConditionFailed));
    let last = table.update(&key, Update::default().set("stamp", "z"), below("z")).await.expect("m < z");
    assert_eq!(last, item(json!({ "pk": pk, "sk": "k", "version": 3, "stamp": "z" })));
    assert_eq!(table.get(&key).await.expect("get"), Some(last));
}

pub async fn conditions_on_delete(table: SharedTable) {
    let pk = unique_pk("delete-conditions");
    let key = Key::new(&pk, "k");
    let stored = item(json!({ "pk": pk, "sk": "k", "state": "open", "stamp": "m" }));
    table.put(stored.clone(), None).await.expect("put");

    assert_eq!(table.delete(&key, Some(Condition::NotExists)).await, Err(StoreError::ConditionFailed));
    let closed = Some(Condition::Equals("state".into(), json!("closed")));
    assert_eq!(table.delete(&key, closed).await, Err(StoreError::ConditionFailed));
    let below = |s: &str| Some(Condition::AbsentOrLessThan("stamp".into(), s.into()));
    assert_eq!(table.delete(&key, below("a")).await, Err(StoreError::ConditionFailed));
    assert_eq!(table.get(&key).await.expect("get"), Some(stored.clone()), "failed deletes keep the item");

    let open = Some(Condition::Equals("state".into(), json!("open")));
    assert_eq!(table.delete(&key, open).await.expect("delete"), Some(stored));
    assert_eq!(table.get(&key).await.expect("get"), None);
    assert_eq!(table.delete(&key, Some(Condition::Exists)).await, Err(StoreError::ConditionFailed));
    assert_eq!(table.delete(&key, Some(Condition::NotExists)).await, Ok(None));
}

pub async fn update_sets_removes_and_adds(table: SharedTable) {
    let pk = unique_pk("update");
    let key = Key::new(&pk, "k");
    table.put(item(json!({ "pk": pk, "sk": "k", "name": "a", "obsolete": true, "count": 5, "tags": ["x"] })), None).await.expect("put");

    let update = Update::default()
        .set("name", "b")
        .set("profile", json!({ "locale": "fr", "scores": [1, 2] }))
        .set("nothing", Value::Null)
        .remove("obsolete")
        .remove("never_there")
        .add("count", 3)
        .add("visits", -2);
    let updated = table.update(&key, update, None).await.expect("update");
    let expected = item(json!({
        "pk": pk, "sk": "k", "name": "b", "count": 8, "visits": -2, "tags": ["x"], "nothing": null,
        "profile": { "locale": "fr", "scores": [1, 2] }
    }));
    assert_eq!(updated, expected);
    assert_eq!(table.get(&key).await.expect("get"), Some(expected));

    let counter_key = Key::new(&pk, "counter");
    let first = table.update(&counter_key, Update::default().add("n", 1), None).await.expect("create by ADD");
    assert_eq!(first, item(json!({ "pk": pk, "sk": "counter", "n": 1 })));
    let second = table.update(&counter_key, Update::default().add("n", 10), None).await.expect("ADD again");
    assert_eq!(second["n"], json!(11));

    let moves_key = Update::default().set(SK, "elsewhere");
    assert!(matches!(table.update(&key, moves_key, None).await, Err(StoreError::Invalid(_))));
    let adds_to_string = Update::default().add("name", 1);
    assert!(matches!(table.update(&key, adds_to_string, None).await, Err(StoreError::Invalid(_))));
    assert_eq!(table.get(&key).await.expect("get").expect("present")["name"], json!("b"), "rejected updates change nothing");
}

pub async fn delete_returns_the_old_item(table: SharedTable) {
    let pk = unique_pk("delete");
    let key = Key::new(&pk, "k");
    let stored = item(json!({ "pk": pk, "sk": "k", "body": "hello", "n": 1 }));
    table.put(stored.clone(), None).await.expect("put");
    assert_eq!(table.delete(&key, None).await.expect("delete"), Some(stored));
    assert_eq!(table.get(&key).await.expect("get"), None);
    assert_eq!(table.delete(&key, None).await.expect("delete again"), None);
}

pub async fn query_with_every_sort_key_condition(table: SharedTable) {
    let pk = unique_pk("sort");
    for sk in ["msg#1", "msg#2", "msg#3", "msg#4", "msgs", "note#1", "a"] {
        put_plain(&table, &pk, sk).await;
    }
    put_plain(&table, &unique_pk("neighbour"), "msg#1").await;

    let run = |sort: Option<SortKey>, forward: bool| {
        let table = table.clone();
        let mut query = Query::partition(&pk).forward(forward);
        query.sort = sort;
        async move { sort_keys(&table.query(query).await.expect("query").items) }
    };
    let s = |v: &str| v.to_string();

    assert_eq!(run(None, true).await, ["a", "msg#1", "msg#2", "msg#3", "msg#4", "msgs", "note#1"]);
    assert_eq!(run(None, false).await, ["note#1", "msgs", "msg#4", "msg#3", "msg#2", "msg#1", "a"]);
    assert_eq!(run(Some(SortKey::Eq(s("msg#2"))), true).await, ["msg#2"]);
    assert!(run(Some(SortKey::Eq(s("msg#9"))), true).await.is_empty());
    assert_eq!(run(Some(SortKey::BeginsWith(s("msg#"))), true).await, ["msg#1", "msg#2", "msg#3", "msg#4"]);
    assert_eq!(run(Some(SortKey::BeginsWith(s("msg#"))), false).await, ["msg#4", "msg#3", "msg#2", "msg#1"]);
    assert_eq!(run(Some(SortKey::Between(s("msg#2"), s("msg#4"))), true).await, ["msg#2", "msg#3", "msg#4"]);
    assert_eq!(run(Some(SortKey::Between(s("msg#2"), s("msg#4"))), false).await, ["msg#4", "msg#3", "msg#2"]);
    assert_eq!(run(Some(SortKey::Lt(s("msg#2"))), true).await, ["a", "msg#1"]);
    assert_eq!(run(Some(SortKey::Le(s("msg#2"))), true).await, ["a", "msg#1", "msg#2"]);
    assert_eq!(run(Some(SortKey::Gt(s("msg#4"))), true).await, ["msgs", "note#1"]);
    assert_eq!(run(Some(SortKey::Ge(s("msg#4"))), false).await, ["note#1", "msgs", "msg#4"]);

    let unknown = Query::on_index(IndexSpec { name: "gsi9", pk_attr: "gsi9pk", sk_attr: "gsi9sk" }, &pk);
    assert!(matches!(table.query(unknown).await, Err(StoreError::Invalid(_))));
    assert!(matches!(table.query(Query::partition(&pk).limit(0)).await, Err(StoreError::Invalid(_))));
}

pub async fn query_pages_cover_the_partition_in_order(table: SharedTable) {
    let pk = unique_pk("paging");
    let mut expected: Vec<String> = (0..7).map(|i| format!("item#{i:02}")).collect();
    for sk in &expected {
        put_plain(&table, &pk, sk).await;
    }

    let (items, sizes) = all_pages(&table, Query::partition(&pk).limit(3)).await;
    assert_eq!(sort_keys(&items), expected);
    assert_eq!(sizes, [3, 3, 1]);

    let (items, sizes) = all_pages(&table, Query::partition(&pk).limit(7)).await;
    assert_eq!(sort_keys(&items), expected);
    assert_eq!(sizes, [7], "no cursor when nothing follows");

    expected.reverse();
    let (items, sizes) = all_pages(&table, Query::partition(&pk).backward().limit(2)).await;
    assert_eq!(sort_keys(&items), expected);
    assert_eq!(sizes, [2, 2, 2, 1]);

    let first = table.query(Query::partition(&pk).limit(3)).await.expect("first page");
    let cursor = first.last_key.expect("a cursor after a full page");
    assert_eq!(cursor.get(PK), Some(&json!(pk)));
    assert_eq!(cursor.get(SK), Some(&json!("item#02")));

    let (items, _) = all_pages(&table, Query::partition(&pk).sort(SortKey::BeginsWith("item#0".into())).limit(4)).await;
    assert_eq!(items.len(), 7);
}

pub async fn gsi1_is_sparse_ordered_and_paged(table: SharedTable) {
    let index_pk = unique_pk("gsi");
    let indexed: Vec<(String, String)> = (0..5).map(|i| (unique_pk(&format!("owner{i}")), format!("t#{}", 5 - i))).collect();
    for (pk, gsi1sk) in &indexed {
        let stored = item(json!({ "pk": pk, "sk": "profile", GSI1.pk_attr: index_pk, GSI1.sk_attr: gsi1sk, "n": 1 }));
        table.put(stored, None).await.expect("put indexed");
    }
    let without_sort = item(json!({ "pk": unique_pk("nosort"), "sk": "profile", GSI1.pk_attr: index_pk }));
    table.put(without_sort, None).await.expect("put without gsi1sk");
    put_plain(&table, &unique_pk("unindexed"), "profile").await;

    let mut ascending: Vec<(String, String)> = indexed.clone();
    ascending.sort_by(|a, b| a.1.cmp(&b.1));
    let index_keys = |items: &[Item]| -> Vec<(String, String)> {
        items.iter().map(|i| (i[PK].as_str().expect("pk").to_string(), i[GSI1.sk_attr].as_str().expect("gsi1sk").to_string())).collect()
    };

    let page = table.query(Query::on_index(GSI1, &index_pk)).await.expect("index query");
    assert_eq!(index_keys(&page.items), ascending, "only items with both index attributes, by gsi1sk");
    assert!(page.items.iter().all(|i| i["n"] == json!(1)), "the index projects whole items");

    let (items, sizes) = all_pages(&table, Query::on_index(GSI1, &index_pk).limit(2)).await;
    assert_eq!(index_keys(&items), ascending);
    assert_eq!(sizes, [2, 2, 1]);

    let mut descending = ascending.clone();
    descending.reverse();
    let (items, _) = all_pages(&table, Query::on_index(GSI1, &index_pk).backward().limit(3)).await;
    assert_eq!(index_keys(&items), descending);

    let first = table.query(Query::on_index(GSI1, &index_pk).limit(2)).await.expect("first index page");
    let cursor = first.last_key.expect("cursor");
    for attr in [PK, SK, GSI1.pk_attr, GSI1.sk_attr] {
        assert!(cursor.contains_key(attr), "an index cursor carries {attr}");
    }

    let ranged = Query::on_index(GSI1, &index_pk).sort(SortKey::Between("t#2".into(), "t#4".into()));
    let page = table.query(ranged).await.expect("ranged index query");
    assert_eq!(index_keys(&page.items), ascending[1..4].to_vec());
}

/// Named attributes only, where the item has them; paging, sort conditions and expiry work as
/// on whole items, and the cursor holds the key even when the key was not asked for.
pub async fn query_returns_only_the_attributes_asked_for(table: SharedTable) {
    let pk = unique_pk("attrs");
    let index_pk = unique_pk("attrs-index");
    let now = now_epoch_seconds();
    for i in 0..5 {
        let mut stored = item(json!({
            "pk": pk, "sk": format!("m#{i}"), GSI1.pk_attr: index_pk, GSI1.sk_attr: format!("g#{i}"),
            "id": format!("id-{i}"), "nested": { "deep": [i, "x"] }, "big": "x".repeat(1000), TTL: now + 3600,
        }));
        if i == 3 {
            stored.remove("id");
        }
        table.put(stored, None).await.expect("put");
    }
    let expired = item(json!({ "pk": pk, "sk": "m#9", GSI1.pk_attr: index_pk, GSI1.sk_attr: "g#9", "id": "gone", TTL: now - 60 }));
    table.put(expired, None).await.expect("put expired");

    let expected: Vec<Item> = [0, 1, 2, 4].iter().map(|i| item(json!({ "id": format!("id-{i}") }))).collect();
    let mut with_gap = expected.clone();
    with_gap.insert(3, Item::new());

    let whole = table.query(Query::partition(&pk).attributes(&["id"])).await.expect("query");
    assert_eq!(whole.items, with_gap, "only `id`; an item without it comes back empty; expired items stay hidden");

    let index = table.query(Query::on_index(GSI1, &index_pk).backward().attributes(&["id"])).await.expect("index query");
    let mut backward = with_gap.clone();
    backward.reverse();
    assert_eq!(index.items, backward);

    // Pages of two, cursors carry the key though only `id` was asked for.
    for query in [Query::partition(&pk), Query::on_index(GSI1, &index_pk)] {
        let (items, sizes) = all_pages(&table, query.limit(2).attributes(&["id"])).await;
        assert_eq!(items, with_gap);
        assert_eq!(sizes, [2, 2, 1]);
    }

    let ranged = Query::partition(&pk).sort(SortKey::Between("m#1".into(), "m#2".into())).attributes(&["sk", "nested", "absent"]);
    let page = table.query(ranged).await.expect("ranged query");
    assert_eq!(
        page.items,
        [item(json!({ "sk": "m#1", "nested": { "deep": [1, "x"] } })), item(json!({ "sk": "m#2", "nested": { "deep": [2, "x"] } }))]
    );

    // The same range asked for whole still comes back whole: nothing was cut from what is kept.
    let again = table.query(Query::partition(&pk)).await.expect("whole query");
    assert_eq!(again.items.len(), 5);
    assert!(again.items.iter().all(|i| i["big"] == json!("x".repeat(1000)) && i.contains_key(TTL) && i.contains_key(PK)));
}

pub async fn batch_write_applies_up_to_25_writes(table: SharedTable) {
    let pk = unique_pk("batch");
    let puts: Vec<WriteOp> =
        (0..MAX_BATCH_WRITE).map(|i| WriteOp::Put(item(json!({ "pk": pk, "sk": format!("{i:02}"), "i": i })))).collect();
    table.batch_write(puts).await.expect("batch of 25");
    let all = table.query(Query::partition(&pk)).await.expect("query").items;
    assert_eq!(all.len(), MAX_BATCH_WRITE);
    assert_eq!(all[24], item(json!({ "pk": pk, "sk": "24", "i": 24 })));

    let deletes: Vec<WriteOp> = (0..10).map(|i| WriteOp::Delete(Key::new(&pk, format!("{i:02}")))).collect();
    table.batch_write(deletes).await.expect("batch of deletes");
    assert_eq!(table.query(Query::partition(&pk)).await.expect("query").items.len(), 15);

    let mixed = vec![
        WriteOp::Put(item(json!({ "pk": pk, "sk": "dup", "v": 1 }))),
        WriteOp::Put(item(json!({ "pk": pk, "sk": "dup", "v": 2 }))),
        WriteOp::Put(item(json!({ "pk": pk, "sk": "gone", "v": 1 }))),
        WriteOp::Delete(Key::new(&pk, "gone")),
        WriteOp::Delete(Key::new(&pk, "never-existed")),
    ];
    table.batch_write(mixed).await.expect("batch naming keys twice");
    assert_eq!(table.get(&Key::new(&pk, "dup")).await.expect("get").expect("present")["v"], json!(2), "the last write wins");
    assert_eq!(table.get(&Key::new(&pk, "gone")).await.expect("get"), None);

    table.batch_write(Vec::new()).await.expect("an empty batch is a no-op");

    let other = unique_pk("batch-too-large");
    let too_many: Vec<WriteOp> =
        (0..MAX_BATCH_WRITE + 1).map(|i| WriteOp::Put(item(json!({ "pk": other, "sk": format!("{i:02}") })))).collect();
    assert!(matches!(table.batch_write(too_many).await, Err(StoreError::Invalid(_))));
    assert!(table.query(Query::partition(&other)).await.expect("query").items.is_empty(), "a rejected batch writes nothing");

    let keyless = vec![WriteOp::Put(item(json!({ "pk": other })))];
    assert!(matches!(table.batch_write(keyless).await, Err(StoreError::Invalid(_))));
}

pub async fn transaction_is_all_or_nothing_with_reasons(table: SharedTable) {
    let pk = unique_pk("transact");
    table.put(item(json!({ "pk": pk, "sk": "account", "balance": 10, "state": "open" })), None).await.expect("put");
    table.put(item(json!({ "pk": pk, "sk": "obsolete" })), None).await.expect("put");

    let failing = vec![
        TransactOp::Put { item: item(json!({ "pk": pk, "sk": "new" })), condition: Some(Condition::NotExists) },
        TransactOp::Update {
            key: Key::new(&pk, "account"),
            update: Update::default().add("balance", -5),
            condition: Some(Condition::Equals("state".into(), json!("closed"))),
        },
        TransactOp::Delete { key: Key::new(&pk, "obsolete"), condition: None },
        TransactOp::Check { key: Key::new(&pk, "missing"), condition: Condition::Exists },
    ];
    match table.transact_write(failing).await {
        Err(StoreError::TransactionCancelled { reasons }) => assert_eq!(reasons, [false, true, false, true]),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(table.get(&Key::new(&pk, "new")).await.expect("get"), None, "nothing of a cancelled transaction is applied");
    assert!(table.get(&Key::new(&pk, "obsolete")).await.expect("get").is_some());
    assert_eq!(table.get(&Key::new(&pk, "account")).await.expect("get").expect("present")["balance"], json!(10));

    table.put(item(json!({ "pk": pk, "sk": "guard", "active": true })), None).await.expect("put");
    let succeeding = vec![
        TransactOp::Put { item: item(json!({ "pk": pk, "sk": "new", "v": 1 })), condition: Some(Condition::NotExists) },
        TransactOp::Update {
            key: Key::new(&pk, "account"),
            update: Update::default().add("balance", -5).set("last", "debit").remove("state"),
            condition: Some(Condition::Equals("state".into(), json!("open"))),
        },
        TransactOp::Delete { key: Key::new(&pk, "obsolete"), condition: Some(Condition::Exists) },
        TransactOp::Check { key: Key::new(&pk, "guard"), condition: Condition::Equals("active".into(), json!(true)) },
        TransactOp::Update { key: Key::new(&pk, "created"), update: Update::default().set("v", 1), condition: None },
    ];
    table.transact_write(succeeding).await.expect("transaction");
    assert_eq!(table.get(&Key::new(&pk, "new")).await.expect("get"), Some(item(json!({ "pk": pk, "sk": "new", "v": 1 }))));
    assert_eq!(
        table.get(&Key::new(&pk, "account")).await.expect("get"),
        Some(item(json!({ "pk": pk, "sk": "account", "balance": 5, "last": "debit" })))
    );
    assert_eq!(table.get(&Key::new(&pk, "obsolete")).await.expect("get"), None);
    assert_eq!(table.get(&Key::new(&pk, "created")).await.expect("get"), Some(item(json!({ "pk": pk, "sk": "created", "v": 1 }))));

    let only_check = vec![TransactOp::Check { key: Key::new(&pk, "new"), condition: Condition::NotExists }];
    match table.transact_write(only_check).await {
        Err(StoreError::TransactionCancelled { reasons }) => assert_eq!(reasons, [true]),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
}

pub async fn transaction_rejects_one_key_twice(table: SharedTable) {
    let pk = unique_pk("transact-twice");
    let twice = vec![
        TransactOp::Put { item: item(json!({ "pk": pk, "sk": "k", "v": 1 })), condition: None },
        TransactOp::Update { key: Key::new(&pk, "k"), update: Update::default().set("v", 2), condition: None },
    ];
    assert!(matches!(table.transact_write(twice).await, Err(StoreError::Invalid(_))));
    assert_eq!(table.get(&Key::new(&pk, "k")).await.expect("get"), None);

    assert!(matches!(table.transact_write(Vec::new()).await, Err(StoreError::Invalid(_))));
    let too_many: Vec<TransactOp> = (0..MAX_TRANSACT_WRITE + 1)
        .map(|i| TransactOp::Put { item: item(json!({ "pk": pk, "sk": format!("{i:03}") })), condition: None })
        .collect();
    assert!(matches!(table.transact_write(too_many).await, Err(StoreError::Invalid(_))));
    assert!(table.query(Query::partition(&pk)).await.expect("query").items.is_empty());
}

pub async fn item_size_is_limited(table: SharedTable) {
    let pk = unique_pk("size");
    let large = item(json!({ "pk": pk, "sk": "large", "body": "x".repeat(300 * 1024) }));
    table.put(large.clone(), None).await.expect("a 300 KB item fits");
    assert_eq!(table.get(&Key::new(&pk, "large")).await.expect("get"), Some(large));

    let too_large = item(json!({ "pk": pk, "sk": "too-large", "body": "x".repeat(MAX_ITEM_BYTES) }));
    assert!(matches!(table.put(too_large.clone(), None).await, Err(StoreError::ItemTooLarge(n)) if n > MAX_ITEM_BYTES));
    assert!(matches!(table.batch_write(vec![WriteOp::Put(too_large.clone())]).await, Err(StoreError::ItemTooLarge(_))));
    let in_transaction = vec![TransactOp::Put { item: too_large, condition: None }];
    assert!(matches!(table.transact_write(in_transaction).await, Err(StoreError::ItemTooLarge(_))));
    assert_eq!(table.get(&Key::new(&pk, "too-large")).await.expect("get"), None);
}

pub async fn expired_items_are_invisible(table: SharedTable) {
    let pk = unique_pk("ttl");
    let now = now_epoch_seconds();
    let expired = item(json!({ "pk": pk, "sk": "expired", TTL: now - 60, GSI1.pk_attr: pk, GSI1.sk_attr: "a" }));
    let live = item(json!({ "pk": pk, "sk": "live", TTL: now + 3600, GSI1.pk_attr: pk, GSI1.sk_attr: "b" }));
    table.put(expired, None).await.expect("put expired");
    table.put(live.clone(), None).await.expect("put live");

    assert_eq!(table.get(&Key::new(&pk, "expired")).await.expect("get"), None);
    assert_eq!(table.get(&Key::new(&pk, "live")).await.expect("get"), Some(live.clone()));
    assert_eq!(table.query(Query::partition(&pk)).await.expect("query").items, std::slice::from_ref(&live));
    assert_eq!(table.query(Query::on_index(GSI1, &pk)).await.expect("index query").items, std::slice::from_ref(&live));
    let (items, _) = all_pages(&table, Query::partition(&pk).limit(1)).await;
    assert_eq!(items, [live]);

    // An expired item counts as absent for conditions too.
    let expired_key = Key::new(&pk, "expired");
    assert_eq!(table.delete(&expired_key, Some(Condition::Exists)).await, Err(StoreError::ConditionFailed));
    let replacement = item(json!({ "pk": pk, "sk": "expired", "v": 2 }));
    table.put(replacement.clone(), Some(Condition::NotExists)).await.expect("NotExists over an expired item");
    assert_eq!(table.get(&expired_key).await.expect("get"), Some(replacement));
}

/// Writes issued at the same moment behave as if run one after another: of many conditional
/// creates of one key exactly one wins, every increment counts, and a failing transaction among
/// them leaves the others' writes intact.
pub async fn concurrent_writes_are_serialised(table: SharedTable) {
    let pk = unique_pk("concurrent");
    let creates = futures::future::join_all((0..20).map(|i| {
        let table = table.clone();
        let pk = pk.clone();
        async move { table.put(item(json!({ "pk": pk, "sk": "once", "writer": i })), Some(Condition::NotExists)).await }
    }))
    .await;
    let won: Vec<_> = creates.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(won.len(), 1, "exactly one create wins: {creates:?}");
    assert!(creates.iter().all(|r| r.is_ok() || *r == Err(StoreError::ConditionFailed)), "{creates:?}");
    let stored = table.get(&Key::new(pk.clone(), "once")).await.expect("get").expect("created");
    assert_eq!(stored["writer"], json!(won[0]), "the stored item is the winner's");

    let counter = Key::new(pk.clone(), "counter");
    let text = Key::new(pk.clone(), "text");
    table.put(item(json!({ "pk": pk, "sk": "text", "n": "not a number" })), None).await.expect("put");
    let results = futures::future::join_all((0..30).map(|i| {
        let table = table.clone();
        let (pk, counter, text) = (pk.clone(), counter.clone(), text.clone());
        async move {
            if i % 3 == 0 {
                // Its put comes first, then an update that cannot apply: the put must be undone.
                table
                    .transact_write(vec![
                        TransactOp::Put { item: item(json!({ "pk": pk, "sk": format!("doomed-{i}") })), condition: None },
                        TransactOp::Update { key: text, update: Update::default().add("n", 1), condition: None },
                    ])
                    .await
            } else {
                table.update(&counter, Update::default().add("n", 1), None).await.map(|_| ())
            }
        }
    }))
    .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 10, "only the doomed transactions fail: {results:?}");
    let n = table.get(&counter).await.expect("get").expect("counter")["n"].clone();
    assert_eq!(n, json!(20), "every increment counts");
    let (items, _) = all_pages(&table, Query::partition(pk).sort(SortKey::BeginsWith("doomed-".into()))).await;
    assert!(items.is_empty(), "a cancelled transaction wrote nothing: {items:?}");
}
