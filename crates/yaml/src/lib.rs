//! Located YAML for quotabench and its bundled fake: the one place configuration files
//! (scenarios, target profiles, mock tables) are read and parsed, with errors naming
//! `file:line:col: field.path` and what was expected, then the lines around the mistake
//! with a caret and plain words. Its own crate so the harness and the fake (which
//! depends on nothing of the harness) share one reader and one error.

mod error;
mod hints;
mod parse;
mod rewrite;
mod snippet;
mod value;

pub use error::ConfigError;
pub use parse::*;
pub use rewrite::{from_str_rewritten, Rewrite};
pub use value::Value;

#[cfg(test)]
mod plain_words_tests;
