//! Targets: the profile format, built-in profiles, templates, the one request path
//! (render → transport → perform), reads of list answers, preflight and dry runs.

mod answer;
pub mod builtin;
pub mod classify;
pub mod client;
pub mod compile;
pub mod dry_run;
pub mod perform;
pub mod preflight;
pub mod profile;
mod read;
pub mod template;
pub mod transport;

pub use classify::{classify, Classified};
pub use client::{extract_id, Answer, SendFailure, Target};
pub use compile::{CompiledOp, CompiledProfile};
pub use perform::{FollowUp, Performed};
pub use read::{count_sources, read_list, Listed};
pub use transport::{Transport, TransportOptions};
