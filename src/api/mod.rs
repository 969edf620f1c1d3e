//! Targets: the profile format, built-in profiles, templates, and the HTTP client.

mod answer;
pub mod builtin;
pub mod client;
pub mod compile;
pub mod dry_run;
mod plain;
pub mod profile;
mod read;
pub mod template;

pub use client::{classify, extract_id, Answer, SendFailure, Target};
pub use compile::{CompiledOp, CompiledProfile};
pub use read::{count_sources, read_list};
