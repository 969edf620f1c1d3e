//! A mistake in a configuration file, located: `file:line:col: field.path: message`,
//! then (when the file reads as a YAML mapping) the few lines around it with a caret.

use std::fmt;
use std::path::PathBuf;

/// A mistake in a configuration file (scenario, target profile, mock table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// The lines around the mistake, numbered, with a caret under its column and,
    /// after the caret, plain words when a likely cause is known. Empty when there is
    /// nothing safe to show (no position, or a file that is not a YAML mapping at all).
    pub snippet: Box<str>,
}

impl ConfigError {
    /// The first line alone, `file:line:col: field.path: message`: what tests, scripts
    /// and users grep for, and what a one-line report (a JSON field) carries.
    pub fn headline(&self) -> String {
        let mut out = self.file.display().to_string();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                out.push_str(&format!(":{col}"));
            }
        }
        if self.path.is_empty() || self.path == "." {
            out.push_str(&format!(": {}", self.message));
        } else {
            out.push_str(&format!(": {}: {}", self.path, self.message));
        }
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet.trim_end_matches('\n'))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
