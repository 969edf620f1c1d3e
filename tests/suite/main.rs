//! quotabench's integration tests, one binary (one link after a change, not twenty).
//!
//! Each module is one area; shared helpers live in `support`.

mod disk;
mod history_cuts;
mod hostile_input;
mod layers;
mod mutation;
mod signals;
