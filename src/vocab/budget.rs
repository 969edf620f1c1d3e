//! The budget plan: what each phase of a run will consume of each quota, planned from
//! one list read before the first phase, and what the run left behind.

use serde::{Deserialize, Serialize};

/// The run's budget plan, as printed before the first phase and kept in summary.json.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct BudgetPlan {
    /// Phase names in the order they ran (the plan may move exhausting phases after
    /// the phases that need room).
    pub order: Vec<String>,
    /// Why the order differs from the scenario's, one line per move.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<String>,
    /// Per phase and quota: units planned and available.
    pub entries: Vec<BudgetEntry>,
    /// Phases that found no room for what they needed: each names the quota, what the
    /// phase needs, what remains and when it resets. Any of them makes the run unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortfalls: Vec<String>,
    /// Objects the run created and could not release or delete at its end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
}

/// One phase's plan for one quota.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct BudgetEntry {
    /// The phase.
    pub phase: String,
    /// The quota.
    pub quota: String,
    /// Units the phase is planned to consume (`exhausts`: whatever remains).
    pub planned: u64,
    /// Units the plan expects to remain when the phase starts.
    pub available: u64,
    /// Units the phase needs at least to be meaningful (0: none).
    pub needs: u64,
    /// Units that remained at the phase's opening snapshot, once it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<u64>,
    /// The phase fills the quota to its limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exhausts: bool,
    /// A remark: a reset expected before it, a sizing read that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
