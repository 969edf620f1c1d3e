//! Targets: the profile format, built-in profiles, templates, and the HTTP client.

pub mod builtin;
pub mod client;
pub mod compile;
pub mod profile;
pub mod template;

pub use client::{classify, extract_id, read_list, Answer, SendFailure, Target};
pub use compile::{CompiledOp, CompiledProfile};
