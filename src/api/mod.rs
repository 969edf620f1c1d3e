//! Targets: the profile format, built-in profiles, templates, the one request path
//! (render → transport → perform), reads of list answers, preflight and dry runs.

mod answer;
mod body;
pub mod builtin;
pub(crate) mod classify;
pub(crate) mod client;
pub(crate) mod clock;
pub(crate) mod compile;
pub(crate) mod dry_run;
mod h1;
pub(crate) mod paging;
pub(crate) mod perform;
pub(crate) mod preflight;
pub(crate) mod profile;
pub mod proxy;
mod read;
pub mod template;
pub mod tls;
pub(crate) mod transport;
pub(crate) mod worker_conn;

pub use classify::{classify, Classified};
pub use client::{extract_id, Answer, SendFailure, Target};
pub use compile::{compile_text, load, CompiledOp, CompiledProfile};
pub use perform::{FollowUp, Performed, RATE_RETRIES};
pub use proxy::ProxySetting;
pub use read::{count_sources, read_list, Listed};
pub use tls::TlsSettings;
pub use transport::{Transport, TransportOptions};
pub use worker_conn::owning_connection;
