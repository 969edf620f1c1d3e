//! The fake's errors: a located configuration mistake and a usage mistake, with the
//! exit code the CLI maps them to. The located ConfigError is the one the harness uses
//! too (crate quotabench-yaml); this crate depends on nothing of the harness.

/// Exit codes of `quotabench fake` (the harness's, README and docs/ci.md).
pub mod exit {
    /// Served until stopped, or printed what was asked.
    pub const PASS: i32 = 0;
    /// Usage or configuration error.
    pub const USAGE: i32 = 2;
}

/// A mistake in the mocks file, located (shared with the harness: crate quotabench-yaml).
pub use quotabench_yaml::ConfigError;

/// Every error the fake reports to its caller.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mocks file is wrong (exit 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Bad usage: an unknown or malformed fault, an address that cannot be bound (exit 2).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        exit::USAGE
    }
}
