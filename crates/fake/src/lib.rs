//! The bundled fake: a complete, stateful reference implementation of the Adobe Data
//! Hygiene and Didomi quota APIs, with a virtual clock and a catalogue of seeded faults
//! (docs/fake.md, docs/faults.md).
//!
//! Layers, each testable alone: [`clock`] and [`model`] (pure state machine, no HTTP)
//! ← [`routes`] (request in, response out) ← transports ([`server`] for long runs and
//! the CLI, the `wiremock` adapter for short tests, behind the `wiremock` feature).
//!
//! This crate depends on nothing of the harness: it has its own small [`error`] and
//! [`yaml`] modules (located `file:line:col: field: message` configuration errors).

#![warn(missing_docs)]

pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod faults;
pub mod model;
pub mod orgs;
pub mod quota;
pub mod routes;
pub mod server;
pub mod service;
#[cfg(feature = "wiremock")]
pub mod wiremock;
pub use quotabench_yaml as yaml;

pub use config::FakeConfig;
pub use error::{ConfigError, Error};
pub use faults::{catalogue, FaultInfo, FaultSet};
pub use routes::{FakeRequest, FakeResponse};
pub use server::{serve, serve_with, RunningFake, ServeOptions, HEADER_READ_TIMEOUT};
pub use service::{AdminAccess, Fake};
#[cfg(feature = "wiremock")]
pub use wiremock::mount_on_wiremock;
