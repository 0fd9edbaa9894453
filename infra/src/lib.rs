//! confer-local: the whole of Confer on one machine. An in-process API Gateway emulation
//! (REST + WebSocket + authorizers) calls the same handlers the Lambdas run, over embedded
//! backends (SQLite table and event log, in-process connections, local token issuer).

pub mod apigw_events;
pub mod blob_routes;
pub mod gateway;
pub mod queue_worker;
pub mod s3_events;
pub mod search_worker;
pub mod stack;
pub mod web;

pub use stack::{LocalStack, Running, ServeConfig};
