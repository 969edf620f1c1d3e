//! Rule verdicts: a verdict with its level, witness and evidence.

use crate::vocab::Verdict;

use serde::{Deserialize, Serialize};

/// MUST or SHOULD, as in RFC 2119.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub enum Level {
    /// A failure fails the run.
    #[serde(rename = "MUST")]
    Must,
    /// A failure is reported but, alone, does not fail the run.
    #[serde(rename = "SHOULD")]
    Should,
}

impl Level {
    /// `MUST` or `SHOULD`, as reports print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// The judgement of one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct RuleVerdict {
    /// Stable rule id.
    pub id: String,
    /// MUST or SHOULD.
    pub level: Level,
    /// Verdict.
    pub verdict: Verdict,
    /// The smallest evidence, in words; `null` when there is none. Always present in
    /// summary.json (the documented contract lists it as required); a missing one reads
    /// as `None` (serde's rule for `Option` fields).
    #[cfg_attr(test, schemars(required))]
    pub witness: Option<String>,
    /// Operation ids the witness cites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<u64>,
    /// The phase the witness points at (the phase of its first cited operation); absent
    /// when the verdict rests on the run as a whole. junit.xml groups testcases by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// A curl command reproducing a representative request (secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<String>,
    /// How many observations the verdict judged: `definite` checks decided (held, or the
    /// one that failed), `indeterminate` checks the evidence could not decide.
    #[serde(default)]
    pub evidence: Evidence,
}

/// The evidence a verdict rests on, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Evidence {
    /// Checks decided by definite answers.
    pub definite: u64,
    /// Checks left undecided (indeterminate answers, no answer, uncertain clock).
    pub indeterminate: u64,
}

impl RuleVerdict {
    /// What this verdict weighs in the run's overall verdict: a SHOULD rule's failure
    /// is reported but, alone, does not fail the run.
    pub fn gating(&self) -> Verdict {
        match (self.level, self.verdict) {
            (Level::Should, Verdict::Fail) => Verdict::Pass,
            (_, v) => v,
        }
    }
}
