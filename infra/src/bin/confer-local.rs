//! `confer-local`: run Confer on this machine, and mint tokens for it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use confer::domain::{ids::parse_subject, CustomerId, Principal, Role, TenantId};
use confer::identity::LocalIssuer;
use confer::LogFormat;
use confer_local::stack::{self, ServeConfig, DEFAULT_ADDR, DEFAULT_DATA_DIR};
use confer_local::web::{Console, WebRoot};

#[derive(Parser)]
#[command(name = "confer-local", version, about = "Confer on one machine: REST + WebSocket gateway over embedded storage")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start REST + WebSocket (at /ws) and the web console (at /) on one port, storing everything
    /// in the data directory.
    Serve {
        /// Address to listen on (port 0 picks a free port; the chosen address is printed).
        #[arg(long, default_value = DEFAULT_ADDR, env = "CONFER_ADDR")]
        addr: SocketAddr,
        /// Directory holding the database, the token signing key and the webhook secret.
        #[arg(long, default_value = DEFAULT_DATA_DIR, env = "CONFER_DATA_DIR")]
        data_dir: PathBuf,
        /// Deliver every event to this URL (repeatable); signed with the data directory's webhook secret.
        #[arg(long = "webhook", value_name = "URL")]
        webhooks: Vec<String>,
        /// Log lines on standard error: one JSON object per line, or text for a person.
        #[arg(long, value_enum, default_value = "json", env = "CONFER_LOG_FORMAT")]
        log_format: LogFormatArg,
        /// Which lines to log, in RUST_LOG syntax: a level (error, warn, info, debug, trace) or
        /// directives such as `warn,confer=debug`.
        #[arg(long, default_value = "info", env = "RUST_LOG")]
        log_level: String,
        /// Serve the web client from this folder (a build of web/, `npm run build` writes
        /// web/dist) instead of the one built into the binary.
        #[arg(long, value_name = "DIR", env = "CONFER_WEB_DIR")]
        web_dir: Option<PathBuf>,
        /// A STUN or TURN server browsers use for calls (repeatable): `stun:host:port` or
        /// `turn:user:password@host:port`. None is needed on one machine or a LAN.
        #[arg(long = "ice-server", value_name = "URL", env = "CONFER_ICE_SERVERS", value_delimiter = ',')]
        ice_servers: Vec<String>,
        /// A Python with the `pocketsphinx` package: transcribes recorded calls on this machine
        /// (infra/scripts/speech-tools.sh makes one). Without it transcripts are marked unavailable.
        #[arg(long, value_name = "PYTHON", env = "CONFER_SPEECH_PYTHON")]
        speech_python: Option<PathBuf>,
        /// ffmpeg, which joins and mixes recorded tracks and decodes them for the speech engine
        /// (default: `ffmpeg` on PATH).
        #[arg(long, value_name = "PATH", env = "CONFER_FFMPEG")]
        ffmpeg: Option<PathBuf>,
        /// A LibreTranslate-compatible `/translate` endpoint that translates transcripts into a
        /// reader's language (e.g. http://127.0.0.1:5000). Without it translation is unavailable.
        #[arg(long, value_name = "URL", env = "CONFER_TRANSLATE_URL")]
        translate_url: Option<String>,
    },
    /// Add an agent who signs in with a password in the web console (or give one a new
    /// password or role). The password comes from CONFER_AGENT_PASSWORD or the first line of
    /// standard input, never from the command line.
    AgentAdd {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["admin", "agent"], default_value = "agent")]
        role: String,
        #[arg(long, default_value = DEFAULT_DATA_DIR, env = "CONFER_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Print a token signed with the data directory's key.
    Token {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_parser = ["admin", "agent", "customer"])]
        role: String,
        /// Agent subject, or the customer id (cus_…) for customers.
        #[arg(long)]
        sub: String,
        #[arg(long, default_value = DEFAULT_DATA_DIR, env = "CONFER_DATA_DIR")]
        data_dir: PathBuf,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 12 * 60 * 60)]
        ttl: u64,
    },
    /// Rebuild the search index from the store (confer-local must not be running on the data
    /// directory); prints the items indexed. With --cloud: a deployed stack's OpenSearch index
    /// from its DynamoDB table (CONFER_TABLE, CONFER_SEARCH_ENDPOINT and the caller's AWS
    /// credentials from the environment).
    Reindex {
        #[arg(long, default_value = DEFAULT_DATA_DIR, env = "CONFER_DATA_DIR")]
        data_dir: PathBuf,
        #[arg(long)]
        cloud: bool,
    },
    /// Work with transcripts.
    #[command(subcommand)]
    Transcript(TranscriptCommand),
}

#[derive(Subcommand)]
enum TranscriptCommand {
    /// Print an Amazon Transcribe output JSON file as speaker turns.
    Render {
        /// The Transcribe output file (`-` reads standard input).
        file: PathBuf,
        #[arg(long, value_enum, default_value = "txt")]
        format: RenderFormat,
        /// Name a speaker: `spk_0=Ann` (repeatable); the others are Speaker 1, 2, …
        #[arg(long = "speaker", value_name = "LABEL=NAME")]
        speakers: Vec<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RenderFormat {
    Txt,
    Srt,
    Vtt,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormatArg {
    Json,
    Text,
}

fn principal(tenant: &str, role: &str, sub: &str) -> Result<Principal, String> {
    let tenant = TenantId::parse(tenant).map_err(|e| e.to_string())?;
    let role = Role::parse(role).map_err(|_| format!("unknown role {role}"))?;
    let id = match role {
        Role::Customer => CustomerId::parse(sub).map_err(|_| "for customers, --sub is the customer id (cus_…)".to_string())?.to_string(),
        _ => parse_subject(sub, "--sub").map_err(|e| e.to_string())?,
    };
    Ok(Principal { tenant, role, id })
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve { addr, data_dir, webhooks, log_format, log_level, web_dir, ice_servers, speech_python, ffmpeg, translate_url } => {
            let format = match log_format {
                LogFormatArg::Json => LogFormat::Json,
                LogFormatArg::Text => LogFormat::Text,
            };
            confer::init_logging(format, &log_level)?;
            for url in &webhooks {
                url::Url::parse(url).map_err(|e| format!("--webhook {url}: {e}"))?;
            }
            let mut config = ServeConfig::new(addr, data_dir.clone());
            config.webhooks = webhooks;
            if let Some(python) = speech_python {
                if !python.exists() {
                    return Err(format!("--speech-python {}: no such file", python.display()));
                }
                config.media.speech_python = Some(python);
            }
            if let Some(path) = ffmpeg {
                config.media.ffmpeg = Some(path);
            }
            if let Some(url) = translate_url {
                url::Url::parse(&url).map_err(|e| format!("--translate-url {url}: {e}"))?;
                config.media.translate_url = Some(url);
            }
            if config.media.ffmpeg.is_none() {
                tracing::warn!("ffmpeg was not found: recorded tracks are kept as uploaded, not mixed, and not transcribed");
            }
            for server in &ice_servers {
                config
                    .ice_servers
                    .push(confer::adapters::local::LocalVideo::parse_server(server).map_err(|e| format!("--ice-server {e}"))?);
            }
            if let Some(dir) = web_dir {
                if !dir.join("index.html").is_file() {
                    return Err(format!("--web-dir {}: no index.html there (run `npm run build` in web/)", dir.display()));
                }
                config.web = WebRoot::Dir(dir);
            } else if !Console::embedded_is_built() {
                tracing::warn!("built without the web console (CONFER_SKIP_WEB_BUILD); / explains how to add it");
            }
            let running = stack::start(config).await?;
            let addr = running.addr;
            println!("confer-local listening on http://{addr} (WebSocket ws://{addr}/ws), data in {}", data_dir.display());
            tracing::info!(addr = %addr, data_dir = %data_dir.display(), "listening");
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            Ok(())
        }
        Command::AgentAdd { tenant, username, role, data_dir } => {
            let password = match std::env::var("CONFER_AGENT_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map_err(|e| format!("reading the password: {e}"))?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let role = Role::parse(&role).map_err(|_| format!("unknown role {role}"))?;
            confer::adapters::local::agents::LocalAgents::in_dir(&data_dir).put(&tenant, &username, role, &password)?;
            println!("{username} of {tenant} signs in as {} at /", role.as_str());
            Ok(())
        }
        Command::Token { tenant, role, sub, data_dir, ttl } => {
            let p = principal(&tenant, &role, &sub)?;
            std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let issuer = LocalIssuer::load_or_create(&data_dir).map_err(|e| e.to_string())?;
            println!("{}", issuer.mint(&p, Duration::from_secs(ttl)).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Reindex { data_dir, cloud } => {
            let started = std::time::Instant::now();
            let (items, sources) = if cloud {
                #[cfg(feature = "cloud")]
                {
                    confer::adapters::aws::reindex_from_env().await.map_err(|e| e.to_string())?
                }
                #[cfg(not(feature = "cloud"))]
                return Err(
                    "this confer-local was built without the cloud feature: cargo run -p confer-local --features cloud -- reindex --cloud"
                        .into(),
                );
            } else {
                confer_local::search_worker::reindex(&data_dir).await?
            };
            println!("{sources} items of {items} indexed in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Transcript(TranscriptCommand::Render { file, format, speakers }) => {
            use confer::transcript::render::{render, Format};
            let bytes = if file.as_os_str() == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| format!("standard input: {e}"))?;
                buf
            } else {
                std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?
            };
            let transcript = confer::transcript::transcribe::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut names = Vec::new();
            for s in speakers {
                let (label, name) = s.split_once('=').ok_or_else(|| format!("--speaker {s}: expected LABEL=NAME"))?;
                names.push((label.to_string(), name.to_string()));
            }
            let format = match format {
                RenderFormat::Txt => Format::Txt,
                RenderFormat::Srt => Format::Srt,
                RenderFormat::Vtt => Format::Vtt,
                RenderFormat::Json => Format::Json,
            };
            print!("{}", render(&transcript, &confer::transcript::SpeakerNames::new(names), format));
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

// A faster allocator than the system's: the gateway allocates per frame, and the machine's cores are shared.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confer-local: {e}");
            ExitCode::FAILURE
        }
    }
}
