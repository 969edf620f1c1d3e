//! Conformance checking: rules judged from the history, one file per rule family.
//!
//! The checker knows nothing of HTTP: it reads a [`History`] and returns verdicts.

pub mod facts;
mod limits;
mod rejected;
pub mod threshold;
pub mod verdict;

pub use facts::Facts;
pub use verdict::{Level, RuleVerdict, Verdict};

use crate::history::History;

/// A rule's catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct RuleInfo {
    /// Stable id (appears in every report).
    pub id: &'static str,
    /// MUST or SHOULD.
    pub level: Level,
    /// One line: what it checks.
    pub title: &'static str,
}

/// A rule judged over a whole history.
pub trait Rule: Sync {
    /// Its catalogue entry.
    fn info(&self) -> RuleInfo;
    /// Judges the history. `None` witness on pass.
    fn judge(&self, h: &History, facts: &Facts) -> Judgement;
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Evidence in words.
    pub witness: Option<String>,
    /// Operation ids cited.
    pub ops: Vec<u64>,
}

impl Judgement {
    /// A pass, with an optional note of what was checked.
    pub fn pass(note: impl Into<Option<String>>) -> Self {
        Judgement {
            verdict: Verdict::Pass,
            witness: note.into(),
            ops: vec![],
        }
    }
    /// A failure with its witness.
    pub fn fail(witness: String, ops: Vec<u64>) -> Self {
        Judgement {
            verdict: Verdict::Fail,
            witness: Some(witness),
            ops,
        }
    }
    /// Undecided, and why.
    pub fn unknown(why: String) -> Self {
        Judgement {
            verdict: Verdict::Unknown,
            witness: Some(why),
            ops: vec![],
        }
    }
    /// Not exercised, and why.
    pub fn skipped(why: impl Into<String>) -> Self {
        Judgement {
            verdict: Verdict::Skipped,
            witness: Some(why.into()),
            ops: vec![],
        }
    }
}

/// Every rule, in catalogue order.
pub fn catalogue() -> Vec<&'static dyn Rule> {
    vec![&limits::NeverExceeded, &rejected::InvalidNotCounted]
}

/// Every rule id.
pub fn rule_ids() -> Vec<&'static str> {
    catalogue().iter().map(|r| r.info().id).collect()
}

/// Judges `h` by the rules in `only` (all rules when empty).
pub fn judge(h: &History, only: &[String]) -> Vec<RuleVerdict> {
    let facts = Facts::build(h);
    catalogue()
        .into_iter()
        .filter(|r| only.is_empty() || only.iter().any(|id| id == r.info().id))
        .map(|r| {
            let info = r.info();
            let j = r.judge(h, &facts);
            RuleVerdict {
                id: info.id.to_string(),
                level: info.level,
                verdict: j.verdict,
                witness: j.witness,
                ops: j.ops,
                reproduce: None,
            }
        })
        .collect()
}
