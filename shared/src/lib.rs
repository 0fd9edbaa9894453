//! Confer: customer communication backend. All logic lives here; `functions/` and `infra/`
//! only wire it to Lambda or to the local gateway.
//!
//! Layers: [`domain`] (pure rules) → [`app`] (use cases over [`ports`]) → [`adapters`]
//! (embedded and AWS backends); [`http`] and [`ws`] turn API Gateway events into use-case calls.

pub mod adapters;
pub mod app;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod identity;
pub mod keys;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod media;
pub mod ports;
pub mod ws;

pub use app::App;
pub use error::{AppError, AppResult};

/// Structured logs for Lambda and confer-local alike (`RUST_LOG` sets the level).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).without_time().json().try_init();
}
