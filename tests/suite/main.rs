//! quotabench's integration tests, one binary (one link after a change, not twenty).
//!
//! Each module is one area; shared helpers live in `support`.

mod echo;
mod layers;
mod outcomes;
mod preflight;
mod transport;
