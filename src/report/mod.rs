//! The report: one model, many exporters, atomic redacted writes.

pub mod export;
mod model;
mod write;

pub use model::*;
pub use write::write_atomic;
