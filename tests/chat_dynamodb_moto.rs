//! The chat use cases on DynamoDB (moto): sequence numbers taken in the session item's
//! transaction, history in that order, catch-up, idempotent resends (also after a close) and
//! acknowledgement watermarks — the same code confer-local runs on SQLite.
//!
//! Sends here are sequential: moto does not serialise concurrent writes to one item as DynamoDB
//! does, so races for the next number are exercised on the embedded store (tests/chat_order.rs)
//! and the conditions they rely on by the table conformance suite on both.

use std::sync::Arc;

use confer::adapters::aws::dynamodb::DynamoTable;
use confer::adapters::local::{LocalConnections, MemoryTable};
use confer::app::messages::Watermark;
use confer::app::{customers, messages, sessions};
use confer::domain::customer::NewCustomer;
use confer::domain::session::NewSession;
use confer::domain::{Principal, Role, TenantId};
use confer::App;
use confer_tests::collected::Collected;
use confer_tests::moto;

async fn app_on_dynamodb() -> (App, LocalConnections, Arc<Collected>) {
    let config = moto::sdk_config().await;
    let name = moto::unique_name("confer-chat");
    moto::create_table(&config, &name).await;
    let table = DynamoTable::new(&config, name);
    let connections = LocalConnections::new();
    let events = Arc::new(Collected::default());
    let app = App {
        table: Arc::new(table),
        connections_table: Arc::new(MemoryTable::new()),
        gateway: Arc::new(connections.clone()),
        events: events.clone(),
        ..App::without_backends()
    };
    (app, connections, events)
}

fn principal(role: Role, id: &str) -> Principal {
    Principal { tenant: TenantId::parse("acme").unwrap(), role, id: id.into() }
}

#[tokio::test]
async fn messages_take_gap_free_sequence_numbers_and_history_follows_them() {
    let (app, connections, events) = app_on_dynamodb().await;
    let agent = principal(Role::Agent, "agent-ann");
    let customer = customers::create(&app, &agent, NewCustomer { name: "Ada".into(), ..Default::default() }).await.expect("customer");
    let session = sessions::create(&app, &agent, NewSession { customer_id: customer.id.clone(), agent_ids: vec![], subject: None })
        .await
        .expect("session");
    assert_eq!(session.last_seq, 0);
    let ada = principal(Role::Customer, &customer.id);

    // The agent is connected: receipts reach them.
    confer::app::connections::connect(&app, &agent, "agent-conn").await.expect("connect");
    let mut agent_frames = connections.register("agent-conn");

    let mut sent = Vec::new();
    for i in 0..12 {
        let who = if i % 3 == 0 { &agent } else { &ada };
        let s = messages::send(&app, who, &session.id, &format!("c{i}"), &format!("text {i}"), None).await.expect("send");
        assert!(!s.duplicate);
        assert_eq!(s.message.seq, i + 1, "numbers follow commits, one apart");
        sent.push(s.message);
    }
    let stored = sessions::get(&app, &agent, &confer::domain::SessionId::parse(&session.id).unwrap()).await.expect("session");
    assert_eq!(stored.last_seq, 12);

    let all = messages::history(
        &app,
        &agent,
        &session.id,
        messages::HistoryQuery { direction: Some("forward"), limit: 100, ..Default::default() },
    )
    .await
    .expect("history");
    assert_eq!(all.items, sent);
    let newest =
        messages::history(&app, &ada, &session.id, messages::HistoryQuery { limit: 3, ..Default::default() }).await.expect("history");
    assert_eq!(newest.items.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![12, 11, 10]);
    let tail = messages::history(&app, &ada, &session.id, messages::HistoryQuery { after_seq: Some(9), limit: 100, ..Default::default() })
        .await
        .expect("catch-up");
    assert_eq!(tail.items, sent[9..].to_vec());
    let page = messages::history(&app, &ada, &session.id, messages::HistoryQuery { after_seq: Some(0), limit: 5, ..Default::default() })
        .await
        .expect("first page");
    let cursor = page.next_cursor.clone().expect("more follow");
    let next = messages::history(
        &app,
        &ada,
        &session.id,
        messages::HistoryQuery { direction: Some("forward"), cursor: Some(&cursor), limit: 5, ..Default::default() },
    )
    .await
    .expect("second page");
    assert_eq!(next.items, sent[5..10].to_vec());

    // A resend is the stored message, and takes no number.
    let again = messages::send(&app, &ada, &session.id, "c1", "text 1", None).await.expect("resend");
    assert!(again.duplicate);
    assert_eq!(again.message, sent[1]);

    // Ada acknowledges up to 12: the agent gets a receipt; an older watermark changes nothing.
    assert!(messages::acknowledge(&app, &ada, &session.id, 12, Watermark::Delivered).await.expect("ack"));
    // The agent's connection had every message pushed to it, in order; then the receipt.
    let mut pushed = Vec::new();
    let frame = loop {
        let frame: serde_json::Value = match agent_frames.recv().await.expect("a frame") {
            confer::adapters::local::connections::Outbound::Frame(bytes) => serde_json::from_slice(&bytes).unwrap(),
            _ => panic!("frame expected"),
        };
        match frame["type"].as_str() {
            Some("message") => pushed.push(frame["message"]["seq"].as_u64().unwrap()),
            _ => break frame,
        }
    };
    assert_eq!(pushed, (1..=12).collect::<Vec<_>>());
    assert_eq!((frame["type"].as_str(), frame["up_to_seq"].as_u64()), (Some("receipt"), Some(12)));
    assert!(!messages::acknowledge(&app, &ada, &session.id, 7, Watermark::Delivered).await.expect("older ack"));
    assert!(messages::acknowledge(&app, &ada, &session.id, 13, Watermark::Delivered).await.is_err(), "beyond the latest message");
    let stored = sessions::get(&app, &agent, &confer::domain::SessionId::parse(&session.id).unwrap()).await.expect("session");
    let ada_part = stored.participants.iter().find(|p| p.who == ada.participant()).expect("participant");
    assert_eq!(ada_part.delivered_seq, 12);
    // The read watermark moves on its own, and the caller's session list counts what is unread.
    assert!(messages::acknowledge(&app, &ada, &session.id, 10, Watermark::Read).await.expect("read"));
    let mine = sessions::list_mine(&app, &ada, None, 10, None).await.expect("list");
    assert_eq!((mine.items[0].read_seq, mine.items[0].unread), (10, 2));
    let agents_list = sessions::list_mine(&app, &agent, Some(confer::domain::session::SessionStatus::Open), 10, None).await.expect("list");
    assert_eq!(agents_list.items.len(), 1, "the agent's own list holds the session");

    // Closed: a resend still gets its stored message, a new message is refused.
    sessions::close(&app, &agent, &confer::domain::SessionId::parse(&session.id).unwrap()).await.expect("close");
    let late = messages::send(&app, &ada, &session.id, "c2", "text 2", None).await.expect("resend after close");
    assert!(late.duplicate);
    assert_eq!(late.message, sent[2]);
    let refused = messages::send(&app, &ada, &session.id, "c-new", "hello?", None).await;
    assert!(matches!(refused, Err(confer::AppError::SessionClosed)), "{refused:?}");

    let created = events.ids_of("message.created").len();
    assert!(created >= 12, "every message published its event ({created})");
}
