//! Cold-start measurement of the Lambda function binaries.
//!
//! Serves the Lambda Runtime API on 127.0.0.1, starts each function binary as Lambda would
//! (AWS_LAMBDA_RUNTIME_API plus the function environment), hands it its sample event from
//! events/, and reports the time from spawn to the runtime's first `next` call (init done) and
//! to the first response or error it posts (first event handled). AWS endpoints point at a
//! closed local port, so no real network is used: data calls fail fast and are reported as the
//! outcome, which is still a handled event.
//!
//! ```text
//! cargo build --release -p confer-functions
//! cargo run --profile server -p confer-local --bin confer-coldstart -- --bin-dir target/release --runs 7
//! ```

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;
use tokio::sync::mpsc;

#[derive(Parser, Debug)]
#[command(name = "confer-coldstart", about = "Measures each Lambda function binary from process start to its first handled event")]
struct Args {
    /// Directory holding the function binaries (a cargo release directory, or one containing <name>/bootstrap).
    #[arg(long, env = "CONFER_BIN_DIR")]
    bin_dir: Option<PathBuf>,
    /// Directory of sample events, one <function>.json each.
    #[arg(long, default_value = "events")]
    events: PathBuf,
    /// Runs per function.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Only these functions (default: every event in --events).
    #[arg(long = "function")]
    functions: Vec<String>,
    /// Give up on a run after this long.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Show the functions' own log output.
    #[arg(long)]
    verbose: bool,
}

#[derive(Debug)]
enum Signal {
    Next(Instant),
    Response(Instant, Bytes),
    Error(Instant, Bytes),
    InitError(Bytes),
}

struct Runtime {
    event: Bytes,
    function_name: String,
    served: AtomicBool,
    tx: mpsc::UnboundedSender<Signal>,
}

const REQUEST_ID: &str = "8f6e2c1a-4b7d-4e9f-a3c5-0d1b2e3f4a5b";

async fn next(State(rt): State<Arc<Runtime>>) -> Response {
    let _ = rt.tx.send(Signal::Next(Instant::now()));
    if rt.served.swap(true, Ordering::SeqCst) {
        // One event per process: later polls wait until the process is stopped.
        std::future::pending::<()>().await;
    }
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() + 10_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
    };
    set("content-type", "application/json".into());
    set("lambda-runtime-aws-request-id", REQUEST_ID.into());
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", format!("arn:aws:lambda:eu-west-1:123456789012:function:{}", rt.function_name));
    set("lambda-runtime-trace-id", "Root=1-692bfd16-3c7a1e9b5d2f4a6c8e0b1d3f;Parent=4f2a9c7e1b3d5f60;Sampled=0".into());
    (StatusCode::OK, headers, rt.event.clone()).into_response()
}

async fn response(State(rt): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    let _ = rt.tx.send(Signal::Response(Instant::now(), body));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    let _ = rt.tx.send(Signal::Error(Instant::now(), body));
    StatusCode::ACCEPTED
}

async fn init_error(State(rt): State<Arc<Runtime>>, body: Bytes) -> StatusCode {
    let _ = rt.tx.send(Signal::InitError(body));
    StatusCode::ACCEPTED
}

struct Run {
    init: Option<Duration>,
    first: Duration,
    outcome: String,
}

/// The environment Lambda gives the function, plus what template.yaml sets. Every AWS endpoint
/// is a closed local port: nothing leaves the machine.
fn environment(function: &str, port: u16) -> Vec<(String, String)> {
    let closed = "http://127.0.0.1:9";
    let name = format!("confer-dev-{function}");
    [
        ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}")),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", "eu-west-1".into()),
        ("AWS_DEFAULT_REGION", "eu-west-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".into()),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        ("AWS_SESSION_TOKEN", "coldstart".into()),
        ("AWS_ENDPOINT_URL", closed.into()),
        // A refused connection is retryable; one attempt keeps backoff sleeps out of the figure.
        ("AWS_MAX_ATTEMPTS", "1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("RUST_LOG", "info".into()),
        ("CONFER_TABLE", "confer-dev-MainTable".into()),
        ("CONFER_CONNECTIONS_TABLE", "confer-dev-ConnectionsTable".into()),
        ("CONFER_EVENTS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:confer-dev-events".into()),
        ("CONFER_WS_ENDPOINT", format!("{closed}/dev")),
        ("CONFER_JWT_ISSUER", format!("{closed}/eu-west-1_Xk3Rm9QpT")),
        ("CONFER_JWT_AUDIENCE", "5kq9d2m7r3a1c8v6t4e0b2n9h".into()),
        ("CONFER_JWKS_URL", format!("{closed}/eu-west-1_Xk3Rm9QpT/.well-known/jwks.json")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn summarize(body: &[u8]) -> String {
    let v: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned(),
    };
    if let Some(status) = v.get("statusCode") {
        let code = v
            .get("body")
            .and_then(|b| b.as_str())
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .and_then(|b| b["error"]["code"].as_str().map(str::to_string));
        return match code {
            Some(c) => format!("{status} {c}"),
            None => format!("{status}"),
        };
    }
    if let Some(effect) = v.pointer("/policyDocument/Statement/0/Effect") {
        return format!("policy {effect}");
    }
    if let Some(t) = v.get("errorType") {
        return format!("error {}", t.as_str().unwrap_or("?"));
    }
    v.to_string().chars().take(60).collect()
}

async fn run_once(binary: &Path, function: &str, event: Bytes, timeout: Duration, verbose: bool) -> Result<Run, String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = Arc::new(Runtime { event, function_name: format!("confer-dev-{function}"), served: AtomicBool::new(false), tx });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut cmd = tokio::process::Command::new(binary);
    cmd.env_clear().envs(environment(function, port)).kill_on_drop(true).stdin(Stdio::null());
    if !verbose {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;

    let mut init = None;
    let result = tokio::time::timeout(timeout, async {
        while let Some(signal) = rx.recv().await {
            match signal {
                Signal::Next(at) => {
                    init.get_or_insert(at - start);
                }
                Signal::Response(at, body) => return Ok((at - start, summarize(&body))),
                Signal::Error(at, body) => return Ok((at - start, format!("invocation {}", summarize(&body)))),
                Signal::InitError(body) => return Err(format!("init failed: {}", String::from_utf8_lossy(&body))),
            }
        }
        Err("runtime API closed".to_string())
    })
    .await;
    let _ = child.kill().await;
    server.abort();
    match result {
        Ok(Ok((first, outcome))) => Ok(Run { init, first, outcome }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no response within {} ms", timeout.as_millis())),
    }
}

fn locate(bin_dir: &Path, function: &str) -> Option<PathBuf> {
    [bin_dir.join(function), bin_dir.join(function).join("bootstrap")].into_iter().find(|p| p.is_file())
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn min_median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let bin_dir = args.bin_dir.clone().unwrap_or_else(|| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        PathBuf::from(target).join("release")
    });
    let mut functions = args.functions.clone();
    if functions.is_empty() {
        let entries = std::fs::read_dir(&args.events).unwrap_or_else(|e| panic!("cannot read {}: {e}", args.events.display()));
        functions = entries.filter_map(|e| e.ok()?.path().file_name()?.to_str()?.strip_suffix(".json").map(str::to_string)).collect();
        functions.sort();
    }
    let runs = args.runs.max(1);
    println!("binaries: {}   runs per function: {runs}   AWS endpoints: 127.0.0.1:9 (closed)", bin_dir.display());
    println!(
        "{:<24} {:>9} {:>10} {:>10} {:>11} {:>11}  first outcome",
        "function", "size MB", "init min", "init med", "first min", "first med"
    );
    let mut failed = false;
    for function in &functions {
        let Some(binary) = locate(&bin_dir, function) else {
            println!("{function:<24} binary not found in {}", bin_dir.display());
            failed = true;
            continue;
        };
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let event = match std::fs::read(args.events.join(format!("{function}.json"))) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                println!("{function:<24} no event: {e}");
                failed = true;
                continue;
            }
        };
        let (mut inits, mut firsts, mut outcome) = (Vec::new(), Vec::new(), String::new());
        for _ in 0..runs {
            match run_once(&binary, function, event.clone(), Duration::from_millis(args.timeout_ms), args.verbose).await {
                Ok(run) => {
                    inits.extend(run.init);
                    firsts.push(run.first);
                    if outcome.is_empty() {
                        outcome = run.outcome;
                    }
                }
                Err(e) => {
                    outcome = e;
                    failed = true;
                    break;
                }
            }
        }
        let size_mb = format!("{:.2}", size as f64 / (1024.0 * 1024.0));
        if firsts.len() < runs {
            println!("{function:<24} {size_mb:>9}  FAILED: {outcome}");
            continue;
        }
        let (imin, imed) = if inits.is_empty() { (Duration::ZERO, Duration::ZERO) } else { min_median(inits) };
        let (fmin, fmed) = min_median(firsts);
        println!("{function:<24} {size_mb:>9} {:>10} {:>10} {:>11} {:>11}  {outcome}", ms(imin), ms(imed), ms(fmin), ms(fmed));
    }
    if failed {
        std::process::exit(1);
    }
}
