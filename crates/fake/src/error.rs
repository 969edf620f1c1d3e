//! The fake's errors: a located configuration mistake and a usage mistake, with the
//! exit code the CLI maps them to. The harness has types of the same shape and
//! converts these into its own (this crate depends on nothing of the harness).

use std::fmt;
use std::path::PathBuf;

/// Exit codes of `quotabench fake` (the harness's, README and docs/ci.md).
pub mod exit {
    /// Served until stopped, or printed what was asked.
    pub const PASS: i32 = 0;
    /// Usage or configuration error.
    pub const USAGE: i32 = 2;
}

/// A mistake in a mocks file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the mistake is in (or a pseudo-name like `<test>`).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Field path such as `orgs.acme.limits` (empty for the document root).
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if self.path.is_empty() || self.path == "." {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

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
