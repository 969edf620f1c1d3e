#![warn(missing_docs)]
//! quotabench: a load-testing and conformance harness for quota APIs.
//!
//! Data flows one way: a [`scenario`] is loaded, the [`engine`] drives a [`target`],
//! every operation lands in the [`history`], the [`check`]er judges it, and the
//! [`report`] is exported. The bundled [`fake`] is both the default target and, with
//! a fault switched on, a known-bad implementation the checks must catch.

pub mod api;
pub mod check;
pub mod compare;
pub mod engine;
pub mod error;
pub use quotabench_fake as fake;
mod fake_target;
pub mod history;
pub mod metrics;
pub mod progress;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub mod thresholds;
pub mod vocab;
pub mod yaml;
