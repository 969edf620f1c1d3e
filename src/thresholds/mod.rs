//! SLO thresholds: parsed once while the scenario loads, evaluated against the report's
//! figures at the end of a run. One module owns both, so a metric's meaning and its
//! measurement cannot drift apart.

mod evaluate;
mod parse;

pub use evaluate::evaluate;
pub use parse::{Metric, Threshold};
