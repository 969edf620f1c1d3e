//! Conformance checking: rules judged from the history, one file per rule family.
//!
//! The checker knows nothing of HTTP: it reads a [`History`] and returns verdicts.

mod accounting;
mod auth;
mod concurrent;
pub mod facts;
mod isolation;
pub mod ledger;
mod limits;
mod listing;
mod order;
mod quota;
mod rejected;
mod reset;

pub mod verdict;

#[cfg(test)]
mod tests;

pub use crate::vocab::Verdict;
pub use facts::Facts;
pub use verdict::{Level, RuleVerdict};

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
    vec![
        &limits::NeverExceeded,
        &limits::RejectionJustified,
        &limits::RejectionShape,
        &accounting::Exact,
        &accounting::SnapshotsConsistent,
        &rejected::InvalidNotCounted,
        &rejected::QuotaNotCounted,
        &reset::PeriodBoundary,
        &reset::MonthlyNotDaily,
        &concurrent::Cap,
        &concurrent::ReleaseFrees,
        &order::AllOrNothing,
        &quota::ZeroAdmitsNothing,
        &listing::Complete,
        &listing::Filter,
        &listing::UnknownFilter,
        &listing::Values,
        &isolation::Tenants,
        &auth::Required,
    ]
}

/// Counts decisive and undecided checks of one rule, and turns them into a judgement:
/// a pass needs at least one decisive check (indeterminate evidence never proves a pass).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    decisive: usize,
    undecided: Vec<String>,
    notes: Vec<String>,
}

impl Tally {
    /// One check decided (and held).
    pub fn held(&mut self) {
        self.decisive += 1;
    }
    /// One check that held, with a note for the report.
    pub fn held_note(&mut self, note: String) {
        self.decisive += 1;
        self.notes.push(note);
    }
    /// One check the evidence could not decide, and why (the first few reasons are kept).
    pub fn undecided(&mut self, why: impl FnOnce() -> String) {
        if self.undecided.len() < 3 {
            self.undecided.push(why());
        }
    }
    /// The judgement: pass, unknown, or skipped with `nothing` when nothing was checked.
    pub fn finish(self, what: &str, nothing: &str) -> Judgement {
        if self.decisive > 0 {
            let mut note = format!("{} {what} checked", self.decisive);
            if !self.notes.is_empty() {
                note = format!("{note}: {}", self.notes.join("; "));
            }
            if !self.undecided.is_empty() {
                note = format!("{note}; undecided: {}", self.undecided.join("; "));
            }
            Judgement::pass(Some(note))
        } else if !self.undecided.is_empty() {
            Judgement::unknown(self.undecided.join("; "))
        } else {
            Judgement::skipped(nothing)
        }
    }
}

/// Every rule id.
pub fn rule_ids() -> Vec<&'static str> {
    catalogue().iter().map(|r| r.info().id).collect()
}

/// Judges `h` by the rules in `only` (all rules when empty).
pub fn judge(h: &History, only: &[String]) -> Vec<RuleVerdict> {
    let facts = Facts::build(h);
    let mut verdicts: Vec<RuleVerdict> = catalogue()
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
                phase: None,
                reproduce: None,
            }
        })
        .collect();
    attribute_phases(h, &mut verdicts);
    verdicts
}

/// Names the phase each verdict's evidence lies in: the phase of its first cited
/// operation. One pass over the history, whatever the number of verdicts.
fn attribute_phases(h: &History, verdicts: &mut [RuleVerdict]) {
    let wanted: std::collections::HashSet<u64> = verdicts
        .iter()
        .filter_map(|v| v.ops.first().copied())
        .collect();
    if wanted.is_empty() {
        return;
    }
    let phase_of: std::collections::HashMap<u64, u32> = h
        .ops
        .iter()
        .filter(|o| wanted.contains(&o.id))
        .map(|o| (o.id, o.phase))
        .collect();
    for v in verdicts.iter_mut() {
        v.phase = v
            .ops
            .first()
            .and_then(|op| phase_of.get(op))
            .and_then(|&p| h.header.phases.get(p as usize))
            .cloned();
    }
}
