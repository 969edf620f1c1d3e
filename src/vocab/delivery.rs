//! What a phase delivered: the figures the engine produces and progress, thresholds and
//! reports read.

use serde::{Deserialize, Serialize};

/// What a phase delivered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PhaseStats {
    /// Phase name.
    pub name: String,
    /// Seconds it ran.
    pub seconds: f64,
    /// Operations completed.
    pub operations: u64,
    /// Open model: the asked arrival rate per second (averaged over the phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_rate: Option<f64>,
    /// Open model: operations sent per second of the phase, beside `asked_rate`; below it
    /// when the engine or the target could not keep the rate (the rest is `dropped`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_rate: Option<f64>,
    /// Open model: arrivals sent more than 5 ms after their intended time.
    pub late: u64,
    /// Open model: arrivals the schedule asked for within the phase that no worker sent
    /// by its deadline (k6's dropped iterations); 0 when the phase was interrupted.
    pub dropped: u64,
    /// Units per order this phase used, per consume operation.
    pub amounts: std::collections::BTreeMap<String, u64>,
    /// When the phase's load began, seconds since the run started (after its opening
    /// snapshot): with `seconds`, the phase's band on the report's charts. Absent in
    /// summaries written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_s: Option<f64>,
}

impl PhaseStats {
    /// Operations completed per second of the phase (0 for a phase that took no time).
    pub fn achieved_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.operations as f64 / self.seconds
        } else {
            0.0
        }
    }
}
