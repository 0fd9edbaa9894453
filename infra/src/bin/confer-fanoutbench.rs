//! Announcement fan-out benchmark: one announcement to a group of `--recipients` customers, of
//! whom `--connected` have a live connection, sent through the local runtime exactly as
//! confer-local sends it (the durable queue in SQLite, the queue worker feeding the
//! `announcements-deliver` consumer SQS-shaped events, inbox entries in the SQLite table, pushes
//! to the in-process gateway's sockets). Prints the time from the create call until every inbox
//! entry is written and every connected recipient has its `announcement` frame, and the table
//! calls the fan-out made per recipient — each port call is one DynamoDB API call in the cloud
//! (`BatchWriteItem` for inbox entries), so the write calls per recipient are the DynamoDB path's.
//!
//! ```text
//! cargo build --profile server -p confer-local --bin confer-fanoutbench
//! target/server/confer-fanoutbench --recipients 100000 --connected 1000
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clap::Parser;
use confer::adapters::local::connections::Outbound;
use confer::adapters::local::{assemble, SqliteStore};
use confer::app::{announcements, connections, customers, groups};
use confer::domain::announcement::{AnnouncementStatus, Audience, NewAnnouncement};
use confer::domain::customer::NewCustomer;
use confer::domain::group::{MemberList, NewGroup};
use confer::domain::limits::MAX_GROUP_MEMBERS_PER_CALL;
use confer::domain::{Principal, Role, TenantId};
use confer::events::EventEnvelope;
use confer::ports::events::TransactWithEvents;
use confer::ports::table::{Condition, Item, Key, Page, Query, StoreError, Table, TransactOp, Update, WriteOp};
use confer::App;
use futures::StreamExt;

#[derive(Parser)]
struct Args {
    /// Customers in the announcement's group.
    #[arg(long, default_value_t = 100_000)]
    recipients: usize,
    /// Of them, customers with a live connection.
    #[arg(long, default_value_t = 1_000)]
    connected: usize,
    /// Where the store is made (a fresh folder under it, removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

/// Counts the table calls made through it, by kind (each is one DynamoDB API call).
struct Counting {
    inner: Arc<dyn Table>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    items_written: AtomicU64,
}

impl Counting {
    fn new(inner: Arc<dyn Table>) -> Self {
        Counting { inner, calls: Mutex::new(BTreeMap::new()), items_written: AtomicU64::new(0) }
    }
    fn count(&self, kind: &'static str, items: usize) {
        *self.calls.lock().unwrap().entry(kind).or_default() += 1;
        self.items_written.fetch_add(items as u64, Ordering::Relaxed);
    }
    fn take(&self) -> (BTreeMap<&'static str, u64>, u64) {
        (std::mem::take(&mut *self.calls.lock().unwrap()), self.items_written.swap(0, Ordering::Relaxed))
    }
}

#[async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.count("GetItem", 0);
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.count("PutItem", 1);
        self.inner.put(item, condition).await
    }
    async fn update(&self, key: &Key, update: Update, condition: Option<Condition>) -> Result<Item, StoreError> {
        self.count("UpdateItem", 1);
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Option<Condition>) -> Result<Option<Item>, StoreError> {
        self.count("DeleteItem", 1);
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.count("Query", 0);
        self.inner.query(query).await
    }
    async fn batch_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.count("BatchWriteItem", ops.len());
        self.inner.batch_write(ops).await
    }
    async fn transact_write(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        self.count("TransactWriteItems", ops.len());
        self.inner.transact_write(ops).await
    }
}

/// The local outbox commits a transaction with its events; in the cloud that transaction is one
/// `TransactWriteItems` call, counted as such.
struct CountingOutbox {
    inner: Arc<dyn TransactWithEvents>,
    table: Arc<Counting>,
}

#[async_trait]
impl TransactWithEvents for CountingOutbox {
    async fn transact_write_with_events(&self, ops: Vec<TransactOp>, events: Vec<EventEnvelope>) -> Result<(), StoreError> {
        self.table.count("TransactWriteItems", ops.len());
        self.inner.transact_write_with_events(ops, events).await
    }
}

const WRITES: &[&str] = &["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];

fn print_calls(what: &str, calls: &BTreeMap<&'static str, u64>, recipients: usize) {
    let writes: u64 = calls.iter().filter(|(k, _)| WRITES.contains(k)).map(|(_, v)| v).sum();
    let all: Vec<String> = calls.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("  {what}: {} ({writes} write calls, {:.4} per recipient)", all.join(", "), writes as f64 / recipients as f64);
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    assert!(args.connected <= args.recipients, "--connected is at most --recipients");
    let dir = args.dir.join(format!("confer-fanoutbench-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).expect("bench folder");
    let store = SqliteStore::open(&dir.join("confer.sqlite3")).expect("store");
    let backends = assemble(&store).expect("local backends");
    // Progress is read around the counters, so that only the fan-out's own calls are counted.
    let observer = App { table: backends.app.table.clone(), ..App::without_backends() };
    let main_table = Arc::new(Counting::new(backends.app.table.clone()));
    let connection_table = Arc::new(Counting::new(backends.app.connections_table.clone()));
    let outbox = backends
        .app
        .outbox
        .clone()
        .map(|inner| Arc::new(CountingOutbox { inner, table: main_table.clone() }) as Arc<dyn TransactWithEvents>);
    let app = Arc::new(App { table: main_table.clone(), connections_table: connection_table.clone(), outbox, ..backends.app });
    let tenant = TenantId::parse("bench").unwrap();
    let agent = Principal { tenant: tenant.clone(), role: Role::Agent, id: "agent-bench".into() };

    // Setup (not timed into the result): customers, their group, the connected ones.
    let started = Instant::now();
    let ids: Vec<String> = futures::stream::iter(0..args.recipients)
        .map(|i| {
            let (app, agent) = (app.clone(), agent.clone());
            async move {
                let new = NewCustomer { name: format!("Customer {i}"), ..Default::default() };
                customers::create(&app, &agent, new).await.expect("customer").id
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let group = groups::create(&app, &agent, NewGroup { name: "Everyone".into(), description: None }).await.expect("group");
    for part in ids.chunks(MAX_GROUP_MEMBERS_PER_CALL) {
        groups::add_members(&app, &agent, &group.id, MemberList { customer_ids: part.to_vec() }).await.expect("members");
    }
    let framed = Arc::new(AtomicUsize::new(0));
    let mut listeners = Vec::new();
    for (n, id) in ids.iter().step_by((args.recipients / args.connected.max(1)).max(1)).take(args.connected).enumerate() {
        let connection = format!("bench-connection-{n}");
        let customer = Principal { tenant: tenant.clone(), role: Role::Customer, id: id.clone() };
        let mut frames = backends.connections.register(&connection);
        connections::connect(&app, &customer, &connection).await.expect("connect");
        let framed = framed.clone();
        listeners.push(tokio::spawn(async move {
            while let Some(frame) = frames.recv().await {
                if let Outbound::Frame(bytes) = frame {
                    if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v["type"] == "announcement") {
                        framed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    println!(
        "setup: {} customers in one group, {} connected, in {:.1} s",
        args.recipients,
        listeners.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = main_table.take();
    let _ = connection_table.take();

    // The announcement, sent now; the worker is the one confer-local runs.
    let consumer = confer::inbound::consumer("announcements-deliver").expect("consumer");
    let worker = confer_local::queue_worker::spawn(app.clone(), backends.queue.clone(), consumer);
    let new = NewAnnouncement {
        title: "Opening hours".into(),
        body: "From Monday we are open from 8:00 to 18:00.".into(),
        media_id: None,
        audience: Audience { customer_ids: vec![], group_ids: vec![group.id.clone()] },
        send_at: None,
    };
    let t0 = Instant::now();
    let created = announcements::create(&app, &agent, new).await.expect("announcement");
    let (mut published, mut sent, mut pushed) = (None, None, None);
    loop {
        let a = announcements::get(&observer, &agent, &created.id).await.expect("announcement");
        if published.is_none() && a.chunks > 0 {
            published = Some(t0.elapsed());
        }
        if sent.is_none() && a.status == AnnouncementStatus::Sent {
            sent = Some((t0.elapsed(), a.clone()));
        }
        if pushed.is_none() && framed.load(Ordering::Relaxed) == listeners.len() {
            pushed = Some(t0.elapsed());
        }
        if let (Some(_), Some(p)) = (&sent, pushed) {
            let (s, a) = sent.unwrap();
            let total = s.max(p);
            println!("announcement to {} recipients ({} chunks of 500):", a.targeted, a.chunks);
            println!("  audience expanded and chunks queued: {:.3} s", published.unwrap_or_default().as_secs_f64());
            println!("  every inbox written and counted (status sent): {:.3} s", s.as_secs_f64());
            println!("  every connected recipient pushed ({}): {:.3} s", listeners.len(), p.as_secs_f64());
            println!(
                "  total {:.3} s: {:.0} inbox entries/s; counts delivered {} live {}",
                total.as_secs_f64(),
                a.delivered as f64 / total.as_secs_f64(),
                a.delivered,
                a.delivered_live
            );
            assert_eq!((a.targeted, a.delivered), (args.recipients as u64, args.recipients as u64), "every recipient once");
            assert_eq!(a.delivered_live, listeners.len() as u64, "every connected recipient live");
            break;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            panic!("not sent within 5 minutes: {a:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.abort();
    let (main_calls, items) = main_table.take();
    let (connection_calls, _) = connection_table.take();
    println!("table calls of the fan-out (one DynamoDB API call each):");
    print_calls("main table", &main_calls, args.recipients);
    print_calls("connections table", &connection_calls, args.recipients);
    println!("  items written: {items} ({:.3} per recipient)", items as f64 / args.recipients as f64);
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}
