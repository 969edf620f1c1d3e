//! quotabench: a load-testing and conformance harness for quota APIs.
//!
//! Data flows one way: a [`scenario`] is loaded, the engine drives a target, every
//! operation lands in the history, the checker judges it, and the report is exported.

pub mod error;
pub mod fake;
pub mod yaml;
