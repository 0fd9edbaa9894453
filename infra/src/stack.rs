//! Assembles the local runtime from a data directory and runs it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::{ListenerExt, TapIo};
use confer::adapters::local::blobs::RECORDINGS_PATH;
use confer::adapters::local::recorder::LocalRecorder;
use confer::adapters::local::search::feed::SearchFeed;
use confer::adapters::local::TantivySearch;
use confer::adapters::local::{
    assemble, LocalBackends, LocalBlobs, LocalConnections, MemoryTable, SqliteEventLog, SqliteStore, WebhookConfig,
};
use confer::identity::{LocalIssuer, TokenVerifier};
use confer::ports::transcriber::NoTranscriber;
use confer::App;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::web::WebRoot;

pub const DB_FILE: &str = "confer.sqlite3";
pub const WEBHOOK_SECRET_FILE: &str = "webhook-secret";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = ".confer";
/// Live attachments: the local counterpart of the attachments bucket.
pub const BLOBS_DIR: &str = "blobs";
/// Recordings, apart from live data: the local counterpart of the recordings bucket.
pub const RECORDINGS_DIR: &str = "recordings";
/// The search index (tantivy), rebuilt from the store when missing.
pub const SEARCH_DIR: &str = "search";
/// An upload that was never verified is deleted after this (the bucket's lifecycle rule).
pub const UPLOAD_SWEEP_AGE: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// Webhook URLs receiving every event, signed with the data directory's webhook secret.
    pub webhooks: Vec<String>,
    /// Longest wait between webhook retries.
    pub webhook_max_backoff: Duration,
    /// The web client served at `/`: built into the binary, or a folder (`serve --web-dir`).
    pub web: WebRoot,
    /// STUN/TURN servers handed to browsers for calls (none: one machine or a LAN).
    pub ice_servers: Vec<confer::domain::call::IceServer>,
    /// Engines for recordings, transcripts and translation.
    pub media: MediaTools,
}

/// The local engines recordings use; each is optional and its absence is said, never faked.
#[derive(Debug, Clone)]
pub struct MediaTools {
    /// Joins, remuxes and mixes recorded tracks, and decodes audio for the speech engine.
    pub ffmpeg: Option<PathBuf>,
    /// A Python with the `pocketsphinx` package (infra/scripts/speech-tools.sh makes one).
    pub speech_python: Option<PathBuf>,
    /// A LibreTranslate-compatible `/translate` endpoint.
    pub translate_url: Option<String>,
    pub translate_api_key: Option<String>,
    /// The video apps' API addresses (their own unless the environment says otherwise: stub
    /// servers in tests; `confer::adapters::meetings::AppUrls`).
    pub apps: confer::adapters::meetings::AppUrls,
}

impl Default for MediaTools {
    fn default() -> Self {
        MediaTools {
            ffmpeg: None,
            speech_python: None,
            translate_url: None,
            translate_api_key: None,
            apps: confer::adapters::meetings::AppUrls::from_env(),
        }
    }
}

impl MediaTools {
    /// ffmpeg from `PATH`, and the speech engine from `CONFER_SPEECH_PYTHON` where set.
    pub fn from_environment() -> Self {
        MediaTools {
            ffmpeg: find_on_path("ffmpeg"),
            speech_python: std::env::var_os("CONFER_SPEECH_PYTHON").map(PathBuf::from).filter(|p| p.exists()),
            translate_url: std::env::var("CONFER_TRANSLATE_URL").ok().filter(|s| !s.is_empty()),
            translate_api_key: std::env::var("CONFER_TRANSLATE_API_KEY").ok().filter(|s| !s.is_empty()),
            ..Default::default()
        }
    }
}

pub fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()))
}

impl ServeConfig {
    pub fn new(addr: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        ServeConfig {
            addr,
            data_dir: data_dir.into(),
            webhooks: Vec::new(),
            webhook_max_backoff: Duration::from_secs(60),
            web: WebRoot::Embedded,
            ice_servers: Vec::new(),
            media: MediaTools::from_environment(),
        }
    }
}

/// Everything the gateway needs: the ports (as the Lambdas have them) plus the local identity.
pub struct LocalStack {
    pub app: Arc<App>,
    pub connections: LocalConnections,
    pub issuer: Arc<LocalIssuer>,
    pub verifier: Arc<TokenVerifier>,
    pub event_log: SqliteEventLog,
    pub store: Arc<SqliteStore>,
    /// Records of the live connections (in memory: they end with the process).
    pub connection_records: Arc<MemoryTable>,
    /// Media objects (`blobs/` in the data directory) and their signed URLs.
    pub blobs: LocalBlobs,
    /// Recordings (`recordings/` in the data directory), served under `/recordings/`.
    pub recordings: LocalBlobs,
    pub recorder: Arc<LocalRecorder>,
    /// The fan-out queue and its schedules (in the store's database).
    pub queue: confer::adapters::local::LocalQueue,
    /// The imports queue (in the store's database).
    pub imports: confer::adapters::local::LocalQueue,
    /// The search index's change feed (in the store's database).
    pub search_feed: SearchFeed,
}

impl LocalStack {
    pub fn open(data_dir: &Path) -> StackResult<Self> {
        Self::open_with(data_dir, Vec::new(), &MediaTools::default())
    }

    /// Opens the stack; calls hand `ice_servers` to the browsers.
    pub fn open_with(data_dir: &Path, ice_servers: Vec<confer::domain::call::IceServer>, media: &MediaTools) -> StackResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create data directory {}: {e}", data_dir.display()))?;
        let store = SqliteStore::open(&data_dir.join(DB_FILE)).map_err(|e| format!("cannot open the store: {e}"))?;
        let issuer = Arc::new(LocalIssuer::load_or_create(data_dir).map_err(|e| e.to_string())?);
        let verifier = Arc::new(issuer.verifier());
        let LocalBackends { mut app, connections, connection_records, event_log, queue, imports } =
            assemble(&store).map_err(|e| e.to_string())?;
        let blobs = LocalBlobs::open(&data_dir.join(BLOBS_DIR), data_dir).map_err(|e| format!("cannot open {BLOBS_DIR}/: {e}"))?;
        app.blobs = Arc::new(blobs.clone());
        app.tokens = issuer.clone();
        app.agents = Arc::new(confer::adapters::local::agents::LocalAgents::in_dir(data_dir));
        app.video = Arc::new(confer::adapters::local::LocalVideo::new(ice_servers));
        let recordings = LocalBlobs::open_at(&data_dir.join(RECORDINGS_DIR), data_dir, RECORDINGS_PATH)
            .map_err(|e| format!("cannot open {RECORDINGS_DIR}/: {e}"))?;
        app.recordings = Arc::new(recordings.clone());
        let recorder = Arc::new(LocalRecorder::new(recordings.root(), media.ffmpeg.clone()));
        app.recorder = recorder.clone();
        app.transcriber = match (&media.speech_python, &media.ffmpeg) {
            (Some(python), Some(ffmpeg)) => Arc::new(confer::adapters::local::pocketsphinx::PocketSphinx::new(python, ffmpeg)),
            (None, _) => Arc::new(NoTranscriber(
                "no speech engine is configured (start confer-local with --speech-python, docs/recordings.md)".into(),
            )),
            (_, None) => Arc::new(NoTranscriber("ffmpeg was not found; the speech engine needs it to decode recordings".into())),
        };
        let search_dir = data_dir.join(SEARCH_DIR);
        let new_index = !search_dir.exists();
        app.search = Arc::new(TantivySearch::open(&search_dir).map_err(|e| e.to_string())?);
        app.meeting_apps = Arc::new(confer::adapters::meetings::ProviderApps::new(&media.apps));
        app.secrets = Arc::new(confer::adapters::local::secrets::LocalSecrets::open(data_dir).map_err(|e| e.to_string())?);
        let search_feed = SearchFeed::new(store.clone());
        if new_index {
            // A data directory from before search, or whose index was removed: rebuilt from the table.
            search_feed.reindex_all_blocking().map_err(|e| format!("cannot log the items to index: {e}"))?;
        }
        if let Some(url) = &media.translate_url {
            app.translator = Arc::new(confer::adapters::local::libretranslate::LibreTranslate::new(url, media.translate_api_key.clone()));
        }
        let app = Arc::new(app);
        Ok(LocalStack {
            app,
            connections,
            connection_records,
            issuer,
            verifier,
            event_log,
            store,
            blobs,
            recordings,
            recorder,
            queue,
            imports,
            search_feed,
        })
    }
}

/// Reads the webhook secret of the data directory, creating a random one on first use.
pub fn webhook_secret(data_dir: &Path) -> StackResult<String> {
    let path = data_dir.join(WEBHOOK_SECRET_FILE);
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().to_string());
    }
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(secret)
}

pub struct Running {
    pub addr: SocketAddr,
    pub stack: Arc<LocalStack>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    /// Webhook deliveries: told to stop, then awaited (a delivery in flight saves its position).
    webhooks: Vec<JoinHandle<()>>,
    stop_webhooks: tokio::sync::watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, closes live sockets, and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for h in &self.background {
            h.abort();
        }
        let _ = self.stop_webhooks.send(true);
        for mut h in self.webhooks.drain(..) {
            if tokio::time::timeout(Duration::from_secs(12), &mut h).await.is_err() {
                h.abort();
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.server).await;
    }
}

pub async fn start(config: ServeConfig) -> StackResult<Running> {
    let stack = Arc::new(LocalStack::open_with(&config.data_dir, config.ice_servers.clone(), &config.media)?);
    let listener = TcpListener::bind(config.addr).await.map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    stack.blobs.set_base_url(&format!("http://{addr}"));
    stack.recordings.set_base_url(&format!("http://{addr}"));
    {
        // Files confer-local writes itself raise the recordings bucket's notification, as S3 would.
        // Weak: the app owns the recorder, which must not keep the app (and its store) alive.
        let app = Arc::downgrade(&stack.app);
        stack.recorder.set_announce(Arc::new(move |file| {
            let Some(app) = app.upgrade() else { return };
            crate::s3_events::dispatch_object_created(
                app,
                confer::inbound::RECORDINGS_BUCKET,
                &file.key,
                file.size,
                "confer-local",
                "127.0.0.1",
            )
        }));
    }
    // Recordings stopped but not assembled when confer-local last stopped are finished now.
    for (tenant, recording) in stack.recorder.unassembled() {
        let (Ok(tenant), Ok(id)) = (confer::domain::TenantId::parse(&tenant), confer::domain::RecordingId::parse(&recording)) else {
            continue;
        };
        if let Err(e) = confer::app::recordings::assemble::resume((*stack.app).clone(), tenant, id).await {
            tracing::warn!(recording_id = %recording, error = %e, "a stopped recording could not be resumed");
        }
    }
    let mut background = Vec::new();
    // The queue's consumers, as Lambda's event source mappings run them.
    for consumer in confer::inbound::CONSUMERS {
        let queue = LocalBackends::queue_named(&stack.queue, &stack.imports, consumer.queue)
            .ok_or_else(|| format!("no local queue {} for {}", consumer.queue, consumer.function))?;
        background.push(crate::queue_worker::spawn(stack.app.clone(), queue, consumer));
    }
    // The search index's indexer, as the stream's function runs it in the cloud.
    background.push(crate::search_worker::spawn(stack.app.clone(), stack.search_feed.clone()));
    let (stop_webhooks, webhooks_stopped) = tokio::sync::watch::channel(false);
    let mut webhooks = Vec::new();
    if !config.webhooks.is_empty() {
        let secret = webhook_secret(&config.data_dir)?;
        let hooks = config.webhooks.iter().map(|url| WebhookConfig { url: url.clone(), secret: secret.clone() }).collect();
        webhooks = stack.event_log.spawn_webhooks(hooks, config.webhook_max_backoff, webhooks_stopped);
    }
    {
        // Expire records like DynamoDB TTL does: at start, then every minute.
        let (store, records, blobs) = (stack.store.clone(), stack.connection_records.clone(), stack.blobs.clone());
        background.push(tokio::spawn(async move {
            loop {
                records.purge_expired();
                // Uploads never verified (the bucket's lifecycle rule in the cloud).
                let swept = blobs.sweep(confer::keys::UPLOADS_PREFIX.trim_end_matches('/'), UPLOAD_SWEEP_AGE);
                if swept > 0 {
                    tracing::info!(swept, "unverified uploads removed");
                }
                match store.purge_expired().await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "expired records removed"),
                    Err(e) => tracing::warn!(error = %e, "TTL purge failed"),
                }
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
        }));
    }
    let (tx, rx) = oneshot::channel::<()>();
    let router = crate::gateway::router(stack.clone(), addr, config.web.clone());
    let shutdown_stack = stack.clone();
    let server = tokio::spawn(async move {
        let result = axum::serve(without_nagle(listener), router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
                crate::gateway::close_all(&shutdown_stack);
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running { addr, stack, shutdown: Some(tx), server, webhooks, stop_webhooks, background })
}

/// Accepted sockets send each write at once (`TCP_NODELAY`). With Nagle's algorithm a frame
/// written while the connection's previous one is still unacknowledged waits for the peer's
/// delayed ACK, up to 40 ms on Linux — and a chat connection often gets two frames in a row
/// (the answer to its own message, then the other side's message).
fn without_nagle(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(|stream: &mut TcpStream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY on an accepted connection");
        }
    })
}

/// Start-up failures are messages for people (the binary prints them and exits non-zero).
pub type StackResult<T> = Result<T, String>;

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    #[tokio::test]
    async fn accepted_connections_write_without_nagle_delay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = without_nagle(listener);
        let (accepted, client) = tokio::join!(listener.accept(), TcpStream::connect(addr));
        assert!(accepted.0.nodelay().unwrap(), "accepted socket must have TCP_NODELAY");
        // The platform's default is Nagle on: the option above is ours, not given.
        assert!(!client.unwrap().nodelay().unwrap());
    }
}
