//! The table's stream consumers on moto, fed the DynamoDB Streams events of `events/` (keys
//! only, as the table's stream sends them): the search indexer brings the index to what the table
//! holds now, whatever order records come in and however often; the outbox commits events with
//! their writes, and the relay publishes each committed event to SNS once.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use confer::adapters::aws::dynamodb::DynamoTable;
use confer::adapters::aws::sns::SnsPublisher;
use confer::adapters::local::TantivySearch;
use confer::app::outbox::{TableOutbox, PUBLISHED_AT};
use confer::app::{customers, search};
use confer::domain::customer::{CustomerPatch, NewCustomer};
use confer::domain::{CustomerId, Principal, Role, TenantId};
use confer::events::EventEnvelope;
use confer::inbound::{streams, Outcome};
use confer::keys;
use confer::ports::table::{Condition, Item, Key, StoreError, Table, TransactOp};
use confer::ports::TransactWithEvents;
use confer::App;
use confer_tests::moto;
use serde_json::json;

const SAMPLE_CUSTOMER: &str = "cus_01M8E24NKB3T5X7Z9C1E4G6J8M";
const SAMPLE_EVENT: &str = "01M8QA7D3F5H7K9N1Q3S5V7X9Z";

fn staff() -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role: Role::Agent, id: "agent-1".into() }
}

/// A sample stream event from `events/`, with the sample ids swapped for this run's.
fn stream_event(name: &str, swaps: &[(&str, &str)]) -> Event {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(format!("{name}.json"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in swaps {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json is not a DynamoDB stream event: {e}"))
}

async fn cloud_app(config: &aws_config::SdkConfig) -> (App, Arc<DynamoTable>, String) {
    let name = moto::unique_name("confer-stream");
    moto::create_table(config, &name).await;
    let table = Arc::new(DynamoTable::new(config, name.clone()));
    let mut app = App::without_backends();
    app.table = table.clone();
    let outbox = Arc::new(TableOutbox::new(table.clone()));
    app.events = outbox.clone();
    app.outbox = Some(outbox);
    (app, table, name)
}

async fn found(app: &App, q: &str) -> Vec<String> {
    let params = [("q".to_string(), q.to_string())].into_iter().collect();
    search::search(app, &staff(), &params).await.expect("search").items.into_iter().map(|h| h.id).collect()
}

#[tokio::test]
async fn the_stream_indexer_holds_what_the_table_holds_redelivered_and_out_of_order() {
    let config = moto::sdk_config().await;
    let (mut app, table, _) = cloud_app(&config).await;
    app.search = Arc::new(TantivySearch::in_memory().unwrap());
    let app = Arc::new(app);
    let ada = customers::create(
        &app,
        &staff(),
        serde_json::from_value::<NewCustomer>(json!({ "name": "Ada Lovelace", "email": "ada@example.com" })).unwrap(),
    )
    .await
    .unwrap();
    let swaps = [(SAMPLE_CUSTOMER, ada.id.as_str())];

    // Keys of a customer, a message that is not (or no longer) there, an outbox item and a session.
    let outcome = streams::index_changes(app.clone(), stream_event("search-indexer", &swaps)).await;
    assert_eq!(outcome, Outcome::default());
    assert_eq!(found(&app, "lovelace").await, [format!("customer:{}", ada.id)]);

    // She changes her name; the change arrives before the first record is delivered again.
    let id = CustomerId::parse(&ada.id).unwrap();
    customers::update(&app, &staff(), &id, serde_json::from_value::<CustomerPatch>(json!({ "name": "Ada Byron" })).unwrap()).await.unwrap();
    let outcome = streams::index_changes(app.clone(), stream_event("search-indexer.redelivered", &swaps)).await;
    assert_eq!(outcome, Outcome::default());
    assert_eq!(found(&app, "byron").await, [format!("customer:{}", ada.id)]);
    assert!(found(&app, "lovelace").await.is_empty(), "the old name is gone, though its record came last");

    // The item is removed: the same records leave nothing.
    table.delete(&keys::customer(&staff().tenant, &id), None).await.unwrap();
    streams::index_changes(app.clone(), stream_event("search-indexer", &swaps)).await;
    assert!(found(&app, "byron").await.is_empty());

    // An index that fails fails the batch from its first record.
    let mut broken = (*app).clone();
    broken.search = Arc::new(confer::ports::search::NoSearch);
    let event = stream_event("search-indexer", &swaps);
    let outcome = streams::index_changes(Arc::new(broken), event.clone()).await;
    let response = streams::batch_response(&event, &outcome);
    assert_eq!(response.batch_item_failures[0].item_identifier.as_deref(), event.records[0].change.sequence_number.as_deref());
}

fn bodies(messages: Vec<aws_sdk_sqs::types::Message>) -> Vec<String> {
    messages.into_iter().filter_map(|m| m.body).collect()
}

fn put(pk: &str) -> TransactOp {
    let mut item = Item::new();
    item.insert("pk".into(), json!(pk));
    item.insert("sk".into(), json!("X"));
    TransactOp::Put { item, condition: Some(Condition::NotExists) }
}

#[tokio::test]
async fn an_event_is_published_if_and_only_if_its_write_committed_and_only_once() {
    let config = moto::sdk_config().await;
    let (mut app, table, table_name) = cloud_app(&config).await;
    let (topic_arn, subscription) = moto::topic_with_subscriber(&config, None).await;
    app.integrations = Arc::new(SnsPublisher::new(&config, topic_arn));
    let app = Arc::new(app);
    let outbox = TableOutbox::new(table.clone());
    let event = |id: &str| EventEnvelope::new("message.created", &staff().tenant, id.to_string(), json!({ "n": 1 }));

    // Committed: the item and its event are both in the table.
    let committed = ulid::Ulid::new().to_string();
    outbox.transact_write_with_events(vec![put("T#acme#X#1")], vec![event(&committed)]).await.unwrap();
    assert!(table.get(&keys::outbox(&committed)).await.unwrap().is_some());
    // Refused: the write's condition fails, and its event is not recorded either.
    let refused = ulid::Ulid::new().to_string();
    let failed = outbox.transact_write_with_events(vec![put("T#acme#X#1")], vec![event(&refused)]).await;
    assert!(matches!(failed, Err(StoreError::TransactionCancelled { ref reasons }) if reasons == &[true]), "{failed:?}");
    assert!(table.get(&keys::outbox(&refused)).await.unwrap().is_none(), "no event without its write");

    // The stream's record of the committed one is relayed: published once, however often it comes.
    let relay = stream_event("events-relay", &[(SAMPLE_EVENT, committed.as_str())]);
    assert_eq!(streams::relay_events(app.clone(), relay.clone()).await, Outcome::default());
    let received = bodies(subscription.receive(5).await);
    assert_eq!(received.len(), 1, "{received:?}");
    let envelope: serde_json::Value = serde_json::from_str(&received[0]).unwrap();
    assert_eq!((envelope["id"].as_str(), envelope["type"].as_str()), (Some(committed.as_str()), Some("message.created")));
    let item = table.get(&keys::outbox(&committed)).await.unwrap().unwrap();
    assert!(item.contains_key(PUBLISHED_AT));
    assert_eq!(streams::relay_events(app.clone(), relay.clone()).await, Outcome::default());
    assert!(subscription.receive(1).await.is_empty(), "a record delivered again publishes nothing");

    // A record of an item that is not in the outbox (or expired) is passed over.
    let missing = stream_event("events-relay", &[]);
    assert_eq!(streams::relay_events(app.clone(), missing).await, Outcome::default());

    // Events a use case records outside a transaction go the same way.
    let created =
        customers::create(&app, &staff(), serde_json::from_value::<NewCustomer>(json!({ "name": "Grace Hopper" })).unwrap()).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(&config);
    let scan = client.scan().table_name(&table_name).send().await.unwrap();
    let outbox_keys: Vec<Key> = scan
        .items()
        .iter()
        .filter_map(|i| Some(Key::new(i.get("pk")?.as_s().ok()?.clone(), i.get("sk")?.as_s().ok()?.clone())))
        .filter(keys::is_outbox)
        .filter(|k| !k.pk.ends_with(&committed))
        .collect();
    assert_eq!(outbox_keys.len(), 1);
    let event_id = outbox_keys[0].pk.trim_start_matches(keys::OUTBOX_PREFIX).to_string();
    streams::relay_events(app.clone(), stream_event("events-relay", &[(SAMPLE_EVENT, event_id.as_str())])).await;
    let received = bodies(subscription.receive(5).await);
    assert_eq!(received.len(), 1);
    assert!(received[0].contains(&created.id) && received[0].contains("customer.created"), "{}", received[0]);

    // A topic that refuses stops the batch at that record, for the stream to resend from it.
    let mut broken = (*app).clone();
    broken.integrations = Arc::new(SnsPublisher::new(&config, "arn:aws:sns:us-east-1:123456789012:no-such-topic".into()));
    let fresh = ulid::Ulid::new().to_string();
    outbox.transact_write_with_events(vec![put("T#acme#X#2")], vec![event(&fresh)]).await.unwrap();
    let relay = stream_event("events-relay", &[(SAMPLE_EVENT, fresh.as_str())]);
    let outcome = streams::relay_events(Arc::new(broken), relay.clone()).await;
    assert_eq!(outcome.failed, [0]);
    assert_eq!(
        streams::batch_response(&relay, &outcome).batch_item_failures[0].item_identifier.as_deref(),
        relay.records[0].change.sequence_number.as_deref()
    );
    assert!(!table.get(&keys::outbox(&fresh)).await.unwrap().unwrap().contains_key(PUBLISHED_AT), "not marked until published");
}

#[tokio::test]
async fn a_full_reindex_rebuilds_the_index_from_the_table() {
    let config = moto::sdk_config().await;
    let (mut app, table, _) = cloud_app(&config).await;
    app.search = Arc::new(TantivySearch::in_memory().unwrap());
    for n in 0..30 {
        customers::create(
            &app,
            &staff(),
            serde_json::from_value::<NewCustomer>(json!({ "name": format!("Reindexed Person{n}") })).unwrap(),
        )
        .await
        .unwrap();
    }
    assert!(found(&app, "reindexed").await.is_empty(), "nothing is indexed on the request path");
    let (read, indexed) = confer::adapters::aws::reindex(&app, &table).await.unwrap();
    assert_eq!((read, indexed), (60, 30), "30 customers and their 30 outbox items read, the customers indexed");
    let params = [("q".to_string(), "reindexed".to_string()), ("limit".to_string(), "50".to_string())].into_iter().collect();
    assert_eq!(search::search(&app, &staff(), &params).await.unwrap().total, 30);
}
