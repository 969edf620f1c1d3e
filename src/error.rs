//! Errors and the exit codes they map to.
//!
//! Configuration errors carry the file, line, column and field path so the user can
//! go straight to the mistake (ripgrep's messages are the model).

use std::fmt;
use std::path::PathBuf;

/// Exit codes promised to users (README, docs/ci.md).
pub mod exit {
    /// Every check passed.
    pub const PASS: i32 = 0;
    /// A rule or threshold failed.
    pub const FAIL: i32 = 1;
    /// Usage or configuration error.
    pub const USAGE: i32 = 2;
    /// Nothing failed but some verdict is unknown.
    pub const UNKNOWN: i32 = 3;
    /// Interrupted (Ctrl-C).
    pub const INTERRUPTED: i32 = 130;
}

/// A mistake in a configuration file (scenario, target profile, mock table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the mistake is in (or a pseudo-name like `<builtin:adobe>`).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Field path such as `phases[1].workload.rate` (empty for the document root).
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

/// Every error the library reports to the CLI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file is wrong (exit 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Several configuration mistakes at once (exit 2).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    ConfigMany(Vec<ConfigError>),
    /// Bad command-line usage that clap could not catch (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed (exit 2).
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The target could not be reached or answered in a way no rule can judge (exit 2).
    #[error("target: {0}")]
    Target(String),
}

impl Error {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        exit::USAGE
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
