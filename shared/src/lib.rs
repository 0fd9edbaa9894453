//! Confer: customer communication backend. All logic lives here; `functions/` and `infra/`
//! only wire it to Lambda or to the local gateway.
//!
//! Layers: [`domain`] (pure rules) → [`app`] (use cases over [`ports`]) → [`adapters`]
//! (embedded and AWS backends); [`http`] and [`ws`] turn API Gateway events into use-case calls.

pub mod adapters;
pub mod app;
pub mod capabilities;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod identity;
pub mod inbound;
pub mod keys;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod media;
pub mod ports;
pub mod transcript;
pub mod translation;
pub mod ws;

pub use app::App;
pub use error::{AppError, AppResult};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, the event's fields at the top level.
    Json,
    /// One line of text per event, for a person at a terminal.
    Text,
}

/// Lambda's logs: JSON lines on standard output, level from `RUST_LOG` (default `info`), no
/// timestamp (CloudWatch stamps each line).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).without_time().json().flatten_event(true).try_init();
}

/// confer-local's logs: on standard error (standard output carries only what a script reads),
/// with timestamps, `filter` in `RUST_LOG` syntax (`info`, `warn,confer=debug`, …).
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("log level {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| format!("cannot set up logging: {e}"))
}
