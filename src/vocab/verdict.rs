//! Verdicts: three-valued (plus skipped), ranked fail > unknown > pass.

use serde::{Deserialize, Serialize};

/// The verdict of one rule or threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The evidence shows the rule held.
    Pass,
    /// Definite evidence that the rule broke.
    Fail,
    /// The evidence cannot decide (indeterminate operations, missing snapshots).
    Unknown,
    /// The rule could not be exercised on this target or run; never a pass.
    Skipped,
}

impl Verdict {
    /// Rank for the overall verdict: fail > unknown > pass (skipped counts as pass).
    fn rank(self) -> u8 {
        match self {
            Verdict::Fail => 3,
            Verdict::Unknown => 2,
            Verdict::Pass | Verdict::Skipped => 1,
        }
    }

    /// The overall verdict of many.
    pub fn overall(all: impl IntoIterator<Item = Verdict>) -> Verdict {
        all.into_iter()
            .max_by_key(|v| v.rank())
            .map(|v| {
                if v == Verdict::Skipped {
                    Verdict::Pass
                } else {
                    v
                }
            })
            .unwrap_or(Verdict::Pass)
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
            Verdict::Skipped => "skipped",
        }
    }
}
