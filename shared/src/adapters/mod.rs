//! Adapters: embedded backends for confer-local and AWS backends for Lambda.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "local")]
pub mod local;
pub mod meetings;
pub mod missing;
