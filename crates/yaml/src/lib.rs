//! Located YAML for quotabench and its bundled fake: the one place configuration files
//! (scenarios, target profiles, mock tables) are read and parsed, with errors naming
//! `file:line:col: field.path` and what was expected. Its own crate so the harness and
//! the fake (which depends on nothing of the harness) share one reader and one error.

mod error;
mod parse;
mod rewrite;

pub use error::ConfigError;
pub use parse::*;
pub use rewrite::{from_str_rewritten, Rewrite};
