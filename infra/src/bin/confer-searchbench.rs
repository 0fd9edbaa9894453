//! Search benchmark: indexes 100,000 chat messages and 1,000 call transcripts (30 turns each)
//! into the local tantivy index on disk, through the search port as confer-local's indexer does
//! (batches of 500 sources, each committed before it returns), then runs a mixed set of queries
//! — words, prefixes, typos, phrases, filters, date order, a customer's scope — and prints the
//! indexing rate, query latency percentiles and the index's size on disk.
//!
//! ```text
//! cargo build --profile server -p confer-local --bin confer-searchbench
//! target/server/confer-searchbench --messages 100000 --transcripts 1000
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use confer::adapters::local::search::feed::BATCH;
use confer::adapters::local::TantivySearch;
use confer::domain::search::{QueryText, Reader, SearchDoc, SearchKind, SearchRequest, SearchScope, SearchSort, SourceDocs};
use confer::ports::search::SearchIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    #[arg(long, default_value_t = 1_000)]
    transcripts: usize,
    /// Turns in each transcript.
    #[arg(long, default_value_t = 30)]
    turns: usize,
    /// Customers the messages and calls belong to.
    #[arg(long, default_value_t = 2_000)]
    customers: usize,
    /// Queries timed (after 200 to warm up).
    #[arg(long, default_value_t = 5_000)]
    queries: usize,
    /// Sources per index call (confer-local's indexer takes up to this many changes at a time).
    #[arg(long, default_value_t = BATCH)]
    batch: usize,
    /// Where the index is made (a fresh folder under it, removed afterwards).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    dir: PathBuf,
}

const TENANT: &str = "acme";

/// Words of a support conversation, most common first: picked with Zipf-like weights.
const WORDS: &[&str] = &[
    "the",
    "i",
    "you",
    "to",
    "a",
    "and",
    "is",
    "it",
    "my",
    "for",
    "of",
    "in",
    "on",
    "we",
    "that",
    "this",
    "can",
    "your",
    "with",
    "order",
    "please",
    "thanks",
    "be",
    "have",
    "not",
    "will",
    "was",
    "at",
    "do",
    "me",
    "but",
    "so",
    "if",
    "just",
    "there",
    "delivery",
    "parcel",
    "refund",
    "invoice",
    "payment",
    "account",
    "password",
    "address",
    "package",
    "tracking",
    "return",
    "exchange",
    "warranty",
    "replacement",
    "subscription",
    "cancel",
    "shipping",
    "label",
    "courier",
    "receipt",
    "discount",
    "voucher",
    "balance",
    "charge",
    "card",
    "bank",
    "transfer",
    "email",
    "phone",
    "number",
    "appointment",
    "schedule",
    "tomorrow",
    "today",
    "yesterday",
    "morning",
    "afternoon",
    "evening",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "kettle",
    "toaster",
    "blender",
    "headphones",
    "charger",
    "cable",
    "laptop",
    "tablet",
    "camera",
    "printer",
    "router",
    "damaged",
    "broken",
    "missing",
    "late",
    "wrong",
    "crushed",
    "cracked",
    "faulty",
    "working",
    "arrived",
    "shipped",
    "sent",
    "received",
    "ordered",
    "paid",
    "changed",
    "updated",
    "confirmed",
    "checked",
    "photo",
    "picture",
    "box",
    "lid",
    "screen",
    "battery",
    "colour",
    "size",
    "model",
    "serial",
    "manual",
    "instructions",
    "store",
    "branch",
    "office",
    "warehouse",
    "customer",
    "service",
    "support",
    "manager",
    "agent",
    "team",
    "help",
    "issue",
    "problem",
    "question",
    "answer",
    "update",
    "status",
    "week",
    "month",
    "days",
    "hours",
    "minutes",
    "again",
    "still",
    "already",
    "soon",
    "later",
    "quickly",
    "exactly",
];

fn word(rng: &mut StdRng) -> &'static str {
    // Zipf-like: rank r with weight about 1/(r+1), by inverse transform on a log scale.
    let n = WORDS.len() as f64;
    let r = ((n + 1.0).powf(rng.gen::<f64>()) - 1.0) as usize;
    WORDS[r.min(WORDS.len() - 1)]
}

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

fn customer(n: usize) -> String {
    format!("cus_{n:026}")
}

fn messages(rng: &mut StdRng, args: &Args) -> Vec<SourceDocs> {
    (0..args.messages)
        .map(|n| {
            let c = rng.gen_range(0..args.customers);
            let session = format!("ses_{c:026}");
            let id = format!("message:msg_{n:026}");
            let words = rng.gen_range(4..24);
            SourceDocs {
                tenant: TENANT.into(),
                source: format!("T#{TENANT}#S#{session}|M#{n:012}"),
                docs: vec![SearchDoc {
                    id,
                    tenant: TENANT.into(),
                    kind: SearchKind::Message,
                    readers: vec![Reader::Staff, Reader::Customer(customer(c))],
                    customer_id: Some(customer(c)),
                    session_id: Some(session.clone()),
                    title: None,
                    text: sentence(rng, words),
                    speaker: None,
                    language: None,
                    at_ms: 1_764_000_000_000 + n as i64 * 1_000,
                    link: json!({ "session_id": session, "seq": n }),
                }],
            }
        })
        .collect()
}

fn transcripts(rng: &mut StdRng, args: &Args) -> Vec<SourceDocs> {
    (0..args.transcripts)
        .map(|r| {
            let c = rng.gen_range(0..args.customers);
            let recording = format!("rec_{r:026}");
            let docs = (0..args.turns)
                .map(|t| SearchDoc {
                    id: format!("transcript:{recording}:source:{t}"),
                    tenant: TENANT.into(),
                    kind: SearchKind::Transcript,
                    readers: vec![Reader::Staff, Reader::Customer(customer(c))],
                    customer_id: Some(customer(c)),
                    session_id: Some(format!("ses_{c:026}")),
                    title: None,
                    text: {
                        let words = rng.gen_range(6..30);
                        sentence(rng, words)
                    },
                    speaker: Some(if t % 2 == 0 { "Mara".into() } else { "Customer".into() }),
                    language: Some("en-US".into()),
                    at_ms: 1_764_000_000_000 + r as i64 * 60_000 + t as i64 * 4_000,
                    link: json!({ "recording_id": recording, "offset_ms": t * 4_000 }),
                })
                .collect();
            SourceDocs { tenant: TENANT.into(), source: format!("T#{TENANT}#R#{recording}|TX"), docs }
        })
        .collect()
}

fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => size_of(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The mixed query set: what agents and customers type.
fn queries(rng: &mut StdRng, customers: usize) -> Vec<(SearchScope, SearchRequest)> {
    let staff = SearchScope { tenant: TENANT.into(), reader: Reader::Staff };
    let texts = [
        "parcel ",
        "refund invoice ",
        "warr",
        "kettle damaged ",
        "\"parcel arrived\"",
        "crushd box ",
        "deliv",
        "password reset ",
        "tracking number ",
        "subscripton ",
        "replacement lid ",
        "headphones charger ",
    ];
    let mut out = Vec::new();
    for i in 0..texts.len() * 10 {
        let q = texts[i % texts.len()];
        let mut request = SearchRequest { text: QueryText::parse(q).unwrap(), limit: 20, ..Default::default() };
        let scope = match i % 5 {
            0 => SearchScope { tenant: TENANT.into(), reader: Reader::Customer(customer(rng.gen_range(0..customers))) },
            1 => {
                request.kinds = vec![SearchKind::Transcript];
                request.speaker = Some("mara".into());
                staff.clone()
            }
            2 => {
                request.sort = SearchSort::Date;
                staff.clone()
            }
            3 => {
                request.from_ms = Some(1_764_000_000_000 + 20_000_000);
                request.to_ms = Some(1_764_000_000_000 + 60_000_000);
                staff.clone()
            }
            _ => staff.clone(),
        };
        out.push((scope, request));
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let dir = args.dir.join(format!("confer-searchbench-{}", ulid::Ulid::new()));
    let path = dir.join("search");
    let index = TantivySearch::open(&path).expect("the index");
    let mut rng = StdRng::seed_from_u64(7);
    let mut sources = messages(&mut rng, &args);
    sources.extend(transcripts(&mut rng, &args));
    let docs: usize = sources.iter().map(|s| s.docs.len()).sum();
    println!(
        "indexing {} messages and {} transcripts of {} turns: {docs} documents, {} sources a call",
        args.messages, args.transcripts, args.turns, args.batch
    );

    let started = Instant::now();
    let mut calls = 0;
    let mut pending = sources.into_iter().peekable();
    while pending.peek().is_some() {
        let batch: Vec<SourceDocs> = pending.by_ref().take(args.batch).collect();
        index.apply(batch).await.expect("indexing");
        calls += 1;
    }
    let took = started.elapsed();
    println!(
        "indexed {docs} documents in {:.2} s: {:.0} documents/s ({calls} commits)",
        took.as_secs_f64(),
        docs as f64 / took.as_secs_f64()
    );
    println!("index on disk: {:.1} MB ({:.0} bytes a document)", size_of(&path) as f64 / 1e6, size_of(&path) as f64 / docs as f64);

    let set = queries(&mut rng, args.customers);
    for (scope, request) in set.iter().take(200) {
        index.search(scope, request).await.expect("search");
    }
    let mut times = Vec::with_capacity(args.queries);
    let mut hits = 0u64;
    for i in 0..args.queries {
        let (scope, request) = &set[i % set.len()];
        let t = Instant::now();
        let found = index.search(scope, request).await.expect("search");
        times.push(t.elapsed());
        hits += found.total;
    }
    times.sort();
    println!(
        "{} queries ({} distinct: words, prefixes, typos, phrases, filters, date order, customer scope), {:.0} matches each on average: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.queries,
        set.len(),
        hits as f64 / args.queries as f64,
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.90).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
    drop(index);
    let _ = std::fs::remove_dir_all(&dir);
}
