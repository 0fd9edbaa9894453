//! `confer-loadgen`: opens N WebSocket clients in two-party sessions against a running
//! confer-local and prints delivered messages per second and delivery latency.
//!
//!   confer-local serve --data-dir /tmp/confer-load &
//!   confer-loadgen --data-dir /tmp/confer-load --clients 1000 --rate 6 --seconds 15

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use confer::domain::{Principal, Role, TenantId};
use confer::identity::LocalIssuer;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Clone)]
#[command(name = "confer-loadgen", about = "Chat load against confer-local: delivered messages/s and delivery latency")]
struct Args {
    /// Base URL of confer-local.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// confer-local's data directory (tokens are signed with its key).
    #[arg(long)]
    data_dir: PathBuf,
    /// WebSocket clients; every two share a session (one agent, one customer).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Messages each client sends per second.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// Length of the measured phase.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Recipients acknowledge every delivered message (doubles the server's work per message).
    #[arg(long)]
    ack: bool,
    /// Also print delivered messages and latency for each second of the run (by send time).
    #[arg(long)]
    timeline: bool,
    /// Tenant to create the sessions in (a fresh one per run keeps runs apart).
    #[arg(long)]
    tenant: Option<String>,
}

/// The parts of a server frame the load generator reads (borrowed: no copies per frame).
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<IncomingMessage<'a>>,
}

#[derive(serde::Deserialize, Default)]
struct IncomingMessage<'a> {
    seq: Option<u64>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Default)]
struct Totals {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
}

/// The whole machine's CPU time so far, from `/proc/stat`, and this process's own, from
/// `/proc/self/stat` (Linux; elsewhere `None`). Each run's figures carry the host's steal beside
/// them: on a shared virtual machine it moves the tail. So does a neighbour that slows the host
/// without taking its cores (shared caches, memory bandwidth): that shows as the load generator's
/// own CPU share rising while its work — the same messages every second — stays the same.
#[derive(Clone, Copy)]
struct CpuTimes {
    steal: u64,
    idle: u64,
    total: u64,
    /// This process (user + system), in the same clock ticks as the others.
    client: u64,
}

fn cpu_times() -> Option<CpuTimes> {
    let machine = parse_cpu_times(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let client = parse_process_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    Some(CpuTimes { client, ..machine })
}

/// The machine-wide `cpu` line of `/proc/stat`.
fn parse_cpu_times(stat: &str) -> Option<CpuTimes> {
    let fields: Vec<u64> = stat.lines().next()?.strip_prefix("cpu ")?.split_whitespace().map(|x| x.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is counted inside user)
    let first = fields.get(..8)?;
    Some(CpuTimes { idle: first[3] + first[4], steal: first[7], total: first.iter().sum(), client: 0 })
}

/// User + system time of a `/proc/<pid>/stat` line (fields 14 and 15; the name before them,
/// in parentheses, may hold spaces).
fn parse_process_cpu(stat: &str) -> Option<u64> {
    let after_name = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = after_name.split_whitespace().skip(11);
    Some(fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?)
}

/// Steal, idle and this client's share between two readings, as shares of all CPU time:
/// "host steal 1.2% idle 40% | client cpu 13.0%".
fn host_share(from: Option<CpuTimes>, to: Option<CpuTimes>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if b.total > a.total => {
            let total = (b.total - a.total) as f64;
            format!(
                " | host steal {:.1}% idle {:.0}% | client cpu {:.1}%",
                100.0 * (b.steal - a.steal) as f64 / total,
                100.0 * (b.idle - a.idle) as f64 / total,
                100.0 * b.client.saturating_sub(a.client) as f64 / total
            )
        }
        _ => String::new(),
    }
}

fn micros_since(origin: Instant) -> u64 {
    origin.elapsed().as_micros() as u64
}

/// POSTs a JSON body with a bearer token and returns the JSON answer.
async fn post_json(http: &reqwest::Client, url: &str, token: &str, body: Value) -> Result<Value, String> {
    let answer = http.post(url).bearer_auth(token).json(&body).send().await.map_err(|e| e.to_string())?;
    answer.json().await.map_err(|e| e.to_string())
}

async fn setup_sessions(
    args: &Args,
    issuer: &LocalIssuer,
    tenant: &TenantId,
    pairs: usize,
) -> Result<Vec<(String, String, String)>, String> {
    let http = reqwest::Client::new();
    let results = futures::stream::iter(0..pairs)
        .map(|i| {
            let http = http.clone();
            let agent = Principal { tenant: tenant.clone(), role: Role::Agent, id: format!("load-agent-{i}") };
            let token = issuer.mint(&agent, Duration::from_secs(3600)).expect("token");
            let base = args.url.clone();
            async move {
                let c = post_json(&http, &format!("{base}/v1/customers"), &token, json!({ "name": format!("Load customer {i}") })).await?;
                let customer_id = c["id"].as_str().ok_or(format!("customer not created: {c}"))?.to_string();
                let s = post_json(&http, &format!("{base}/v1/sessions"), &token, json!({ "customer_id": customer_id })).await?;
                let session_id = s["id"].as_str().ok_or(format!("session not created: {s}"))?.to_string();
                Ok::<_, String>((agent.id, customer_id, session_id))
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    results.into_iter().collect()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(ws_url: &str, token: &str) -> Result<Socket, String> {
    // A small read buffer: tungstenite zero-fills it on every read, and frames here are small.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024);
    // Nagle off, as browsers have it: a frame is sent at once, not held for the previous one's ACK.
    let disable_nagle = true;
    let (socket, _) = tokio_tungstenite::connect_async_with_config(format!("{ws_url}?token={token}"), Some(config), disable_nagle)
        .await
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

#[allow(clippy::too_many_arguments)]
async fn run_client(
    socket: Socket,
    session_id: String,
    me: usize,
    rate: f64,
    origin: Instant,
    measure_from: Instant,
    measure_until: Instant,
    ack: bool,
    totals: Arc<Totals>,
) -> Vec<(u32, u32)> {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let sender = {
        let out_tx = out_tx.clone();
        let totals = totals.clone();
        let session_id = session_id.clone();
        tokio::spawn(async move {
            let period = Duration::from_secs_f64(1.0 / rate);
            // Each client starts at its own random point of the first period, as independent
            // people would: no two groups of clients send in lockstep.
            let offset = period.mul_f64(rand::random::<f64>());
            let mut tick = send_schedule(tokio::time::Instant::from_std(measure_from) + offset, period);
            let mut n = 0u64;
            loop {
                tick.tick().await;
                if Instant::now() >= measure_until {
                    break;
                }
                n += 1;
                let frame = json!({ "action": "send", "session_id": session_id, "client_message_id": format!("c{me}-{n}"), "text": format!("load {}", micros_since(origin)) });
                if out_tx.send(frame.to_string()).is_err() {
                    break;
                }
                totals.sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut latencies = Vec::new();
    let drain_until = measure_until + Duration::from_secs(2);
    // Send times are microseconds since `origin`; the timeline counts seconds from `measure_from`.
    let measured_from = measure_from.saturating_duration_since(origin).as_micros() as u64;
    loop {
        let remaining = drain_until.saturating_duration_since(Instant::now());
        let next = match tokio::time::timeout(remaining, stream.next()).await {
            Err(_) | Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(_))) => continue,
        };
        let frame: Incoming = match serde_json::from_str(next.as_str()) {
            Ok(v) => v,
            Err(_) => continue,
        };
        match frame.kind.as_deref() {
            Some("message") => {
                let now = micros_since(origin);
                let message = frame.message.unwrap_or_default();
                if let Some(sent) = message.text.as_deref().and_then(|t| t.strip_prefix("load ")).and_then(|t| t.parse::<u64>().ok()) {
                    let second = sent.saturating_sub(measured_from) / 1_000_000;
                    latencies.push((second.min(u32::MAX as u64) as u32, now.saturating_sub(sent).min(u32::MAX as u64) as u32));
                    totals.delivered.fetch_add(1, Ordering::Relaxed);
                }
                if ack {
                    // Acknowledges up to this message; one that arrives after a later one (concurrent
                    // senders) is below the watermark already and changes nothing.
                    if let Some(seq) = message.seq {
                        let _ = out_tx.send(json!({ "action": "ack", "session_id": session_id, "up_to_seq": seq }).to_string());
                    }
                }
            }
            Some("ack") => {
                totals.acked.fetch_add(1, Ordering::Relaxed);
            }
            Some("error") => {
                totals.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
    sender.abort();
    drop(out_tx);
    writer.abort();
    latencies
}

/// One client's send times: `first`, then every `period` after it, whatever happens meanwhile.
/// Sends missed while this process was held up (a busy or stolen CPU) go out at once, then the
/// client keeps its own schedule. Delaying them instead would restart every late client's
/// schedule at the same moment: after one stall the clients would send in lockstep for the rest
/// of the run, as independent people never do, and the server would see bursts that its latency
/// then carries long after the stall.
fn send_schedule(first: tokio::time::Instant, period: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval_at(first, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    tick
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

// A faster allocator than the system's: it allocates per frame, and the machine's cores are shared.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: the generator shares the machine with the server it measures.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if args.clients < 2 || args.clients % 2 != 0 {
        return Err("--clients must be an even number of at least 2".into());
    }
    let issuer = LocalIssuer::load_or_create(&args.data_dir).map_err(|e| e.to_string())?;
    let tenant = TenantId::parse(&args.tenant.clone().unwrap_or_else(|| format!("load-{}", ulid::Ulid::new().to_string().to_lowercase())))
        .map_err(|e| e.to_string())?;
    let pairs = args.clients / 2;
    let t = Instant::now();
    let sessions = setup_sessions(&args, &issuer, &tenant, pairs).await?;
    println!("setup: {pairs} sessions in {:.1} s", t.elapsed().as_secs_f64());

    let ws_url = format!("{}/ws", args.url.replacen("http", "ws", 1));
    let t = Instant::now();
    let mut sockets = Vec::with_capacity(args.clients);
    let opened = futures::stream::iter(sessions.iter().enumerate().flat_map(|(i, (agent, customer, session))| {
        let agent_token = issuer
            .mint(&Principal { tenant: tenant.clone(), role: Role::Agent, id: agent.clone() }, Duration::from_secs(3600))
            .expect("token");
        let customer_token = issuer
            .mint(&Principal { tenant: tenant.clone(), role: Role::Customer, id: customer.clone() }, Duration::from_secs(3600))
            .expect("token");
        [(2 * i, agent_token, session.clone()), (2 * i + 1, customer_token, session.clone())]
    }))
    .map(|(i, token, session)| {
        let ws_url = ws_url.clone();
        async move { open(&ws_url, &token).await.map(|s| (i, s, session)) }
    })
    .buffer_unordered(50)
    .collect::<Vec<_>>()
    .await;
    for o in opened {
        sockets.push(o?);
    }
    println!("connected: {} clients in {:.1} s", sockets.len(), t.elapsed().as_secs_f64());

    let totals = Arc::new(Totals::default());
    let origin = Instant::now();
    let measure_from = origin + Duration::from_millis(500);
    let measure_until = measure_from + Duration::from_secs(args.seconds);
    if args.timeline {
        // Wall-clock start of second 0, to line the timeline up with other monitors (perf, vmstat).
        let start = std::time::SystemTime::now() + Duration::from_millis(500);
        let unix = start.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        println!("second 0 starts at unix time {:.3}", unix.as_secs_f64());
    }
    // The machine's CPU times at the start of every second of the measured phase, and at its end.
    let seconds = args.seconds;
    let host = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(measure_from), Duration::from_secs(1));
        let mut readings = Vec::with_capacity(seconds as usize + 1);
        for _ in 0..=seconds {
            tick.tick().await;
            readings.push(cpu_times());
        }
        readings
    });
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|(i, socket, session)| {
            tokio::spawn(run_client(socket, session, i, args.rate, origin, measure_from, measure_until, args.ack, totals.clone()))
        })
        .collect();
    let mut timed = Vec::new();
    for task in tasks {
        timed.extend(task.await.map_err(|e| e.to_string())?);
    }
    let host = host.await.map_err(|e| e.to_string())?;
    let host_between = |from: usize, to: usize| host_share(host.get(from).copied().flatten(), host.get(to).copied().flatten());
    if args.timeline {
        let mut by_second: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for (second, latency) in &timed {
            by_second.entry(*second).or_default().push(*latency);
        }
        for (second, mut latencies) in by_second {
            latencies.sort_unstable();
            println!(
                "second {second:>3} | delivered {:>5} | latency ms p50 {:.2} p99 {:.2} max {:.2}{}",
                latencies.len(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 1.0),
                host_between(second as usize, second as usize + 1)
            );
        }
    }
    let mut latencies: Vec<u32> = timed.into_iter().map(|(_, latency)| latency).collect();
    latencies.sort_unstable();
    let secs = args.seconds as f64;
    let sent = totals.sent.load(Ordering::Relaxed);
    let delivered = totals.delivered.load(Ordering::Relaxed);
    println!(
        "clients {} | sessions {} | target {:.0} msg/s | sent {} ({:.0}/s) | acked {} | delivered {} ({:.0}/s) | errors {} | latency ms p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}{}{}",
        args.clients,
        pairs,
        args.clients as f64 * args.rate,
        sent,
        sent as f64 / secs,
        totals.acked.load(Ordering::Relaxed),
        delivered,
        delivered as f64 / secs,
        totals.errors.load(Ordering::Relaxed),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        host_between(0, seconds as usize),
        if args.ack { " | with delivery acks" } else { "" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_share_is_steal_and_idle_between_two_readings() {
        let before =
            parse_cpu_times("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n").map(|t| CpuTimes { client: 40, ..t });
        let after =
            parse_cpu_times("cpu  200 0 100 1060 90 0 0 50 0 0\ncpu0 100 0 50 530 45 0 0 25 0 0\n").map(|t| CpuTimes { client: 105, ..t });
        // 500 ticks in between: 50 stolen, 300 idle (260 idle + 40 waiting for I/O), 65 this client's.
        assert_eq!(host_share(before, after), " | host steal 10.0% idle 60% | client cpu 13.0%");
    }

    #[test]
    fn the_client_cpu_is_user_plus_system_time_of_its_stat_line() {
        // A name with spaces and parentheses; utime 2601 and stime 1999 are fields 14 and 15.
        let line = "4242 (confer (load) gen) S 1 4242 4242 0 -1 4194560 9 0 0 0 2601 1999 0 0 20 0 3 0 12 1 2\n";
        assert_eq!(parse_process_cpu(line), Some(4600));
        assert_eq!(parse_process_cpu("4242 (short) S 1 2"), None);
        let own = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| parse_process_cpu(&s));
        assert!(cfg!(not(target_os = "linux")) || own.is_some(), "this process's own line parses");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_keeps_its_schedule_after_a_stall() {
        let period = Duration::from_millis(200);
        let first = tokio::time::Instant::now() + Duration::from_millis(30);
        let mut schedule = send_schedule(first, period);
        schedule.tick().await;
        // Held up for three and a half periods: the three sends missed go out at once...
        tokio::time::advance(Duration::from_millis(700)).await;
        let stalled_until = tokio::time::Instant::now();
        for _ in 0..3 {
            schedule.tick().await;
            assert_eq!(tokio::time::Instant::now(), stalled_until);
        }
        // ...and the next one falls on the client's own grid, not a period after the stall.
        schedule.tick().await;
        assert_eq!(tokio::time::Instant::now(), first + 4 * period);
    }

    #[test]
    fn host_share_is_left_out_without_readings() {
        assert_eq!(parse_cpu_times("intr 1 2 3\n").map(|_| ()), None);
        assert_eq!(parse_cpu_times("cpu  1 2 3\n").map(|_| ()), None);
        let reading = parse_cpu_times("cpu  1 0 1 1 0 0 0 0 0 0\n");
        assert_eq!(host_share(None, reading), "");
        assert_eq!(host_share(reading, reading), "");
    }
}
