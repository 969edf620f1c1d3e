//! Errors and the exit codes they map to.
//!
//! Configuration errors carry the file, line, column and field path so the user can
//! go straight to the mistake (ripgrep's messages are the model).

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
    /// Interrupted (Ctrl-C, SIGINT).
    pub const INTERRUPTED: i32 = 130;
    /// Stopped by SIGHUP (the terminal went away): 128 + 1.
    pub const HANGUP: i32 = 129;
    /// Stopped by SIGTERM (a CI job cancelled, `kill`, Kubernetes): 128 + 15.
    pub const TERMINATED: i32 = 143;
}

/// How a command ended, ordered by severity: of several scenarios' statuses the
/// process exits with the greatest (`max`). Stopped by a signal beats a usage error
/// beats a failed rule beats an unknown verdict beats a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitStatus {
    /// 0: every check passed.
    Pass,
    /// 3: nothing failed but some verdict is unknown.
    Unknown,
    /// 1: a rule or threshold failed.
    Fail,
    /// 2: usage or configuration error (also a failed write, an unreachable target).
    Usage,
    /// 129: stopped by SIGHUP.
    Hangup,
    /// 130: stopped by SIGINT (Ctrl-C).
    Interrupted,
    /// 143: stopped by SIGTERM.
    Terminated,
}

impl ExitStatus {
    /// The process exit code (the numbers documented in README and docs/ci.md).
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Pass => exit::PASS,
            ExitStatus::Unknown => exit::UNKNOWN,
            ExitStatus::Fail => exit::FAIL,
            ExitStatus::Usage => exit::USAGE,
            ExitStatus::Hangup => exit::HANGUP,
            ExitStatus::Interrupted => exit::INTERRUPTED,
            ExitStatus::Terminated => exit::TERMINATED,
        }
    }

    /// The status of an exit code; a code no status has counts as a usage error.
    pub fn from_code(code: i32) -> Self {
        match code {
            exit::PASS => ExitStatus::Pass,
            exit::UNKNOWN => ExitStatus::Unknown,
            exit::FAIL => ExitStatus::Fail,
            exit::HANGUP => ExitStatus::Hangup,
            exit::INTERRUPTED => ExitStatus::Interrupted,
            exit::TERMINATED => ExitStatus::Terminated,
            _ => ExitStatus::Usage,
        }
    }

    /// Whether a signal stopped the command.
    pub fn is_signal(self) -> bool {
        self >= ExitStatus::Hangup
    }
}

pub use quotabench_yaml::ConfigError;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_status_wins_and_codes_round_trip() {
        use ExitStatus::*;
        let all = [Pass, Unknown, Fail, Usage, Hangup, Interrupted, Terminated];
        for w in all.windows(2) {
            assert!(w[0] < w[1]);
        }
        assert_eq!([Pass, Fail, Unknown].into_iter().max(), Some(Fail));
        assert_eq!(Usage.max(Interrupted), Interrupted);
        for s in all {
            assert_eq!(ExitStatus::from_code(s.code()), s);
        }
        let codes: Vec<i32> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 3, 1, 2, 129, 130, 143]);
    }
}
