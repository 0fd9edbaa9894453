//! Shared test support: the confer-local harness, and helpers for AWS emulator tests.

pub mod collected;
pub mod conformance;
pub mod feed;
pub mod harness;
pub mod meet_stub;
pub mod moto;
pub mod opensearch_stub;
pub mod search_conformance;
pub mod teams_stub;
pub mod zoom_stub;
