#![warn(missing_docs)]
//! quotabench: a load-testing and conformance harness for quota APIs.
//!
//! Data flows one way: a [`scenario`] is loaded, the [`engine`] drives a target through
//! the [`api`], every operation lands in the [`history`], the [`check`]er judges it, and
//! the [`report`] is exported. [`vocab`] holds the words every stage shares. The bundled
//! fake (crate `quotabench_fake`) is both the default target and, with a fault switched
//! on, a known-bad implementation the checks must catch.
//!
//! # The library's surface
//! The binary (`src/main.rs`), the integration tests (`tests/suite/`) and the benches
//! use these modules; everything else is `pub(crate)`:
//! - [`run`] (one scenario end to end, `profile check`), [`compare`] (the CI gate),
//!   [`error`] (errors and exit codes): what the CLI calls.
//! - [`scenario`] (load and validate), [`api`] (profiles, rendering, transports,
//!   classification), [`engine`] (scheduling; benches time its parts), [`history`]
//!   (records, load), [`check`] (judge a history), [`metrics`] (histograms),
//!   [`report`] (the model and its exporters), [`redact`] (the secret registry),
//!   [`vocab`] (the shared words).

pub mod api;
pub mod check;
pub mod compare;
pub mod engine;
pub mod error;
mod fake_target;
pub mod history;
pub mod live;
pub mod merge;
pub mod metrics;
pub(crate) mod progress;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub(crate) mod shard_clock;
pub(crate) mod thresholds;
pub mod vocab;
pub(crate) use quotabench_yaml as yaml;
#[cfg(test)]
mod committed;
