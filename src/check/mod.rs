//! Conformance checking: rules judged from the history, one file per rule family.
//!
//! The checker knows nothing of HTTP: it reads a [`History`] and returns verdicts.

mod accounting;
mod auth;
mod concurrent;
pub(crate) mod facts;
mod isolation;
pub(crate) mod ledger;
mod limits;
mod listing;
mod order;
pub(crate) mod parents;
mod quota;
mod rejected;
mod reset;
pub(crate) mod windows;

pub(crate) mod verdict;

mod combine;
pub mod segment;
mod segment_worker;

#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_roundtrip;
#[cfg(test)]
mod tests_scoped;
#[cfg(test)]
mod tests_segment;

pub use crate::vocab::Verdict;
pub use facts::{time_source, Facts};
pub use segment::{judge_file, judge_file_seeing, SegmentOpts, Streamed};
pub use verdict::{Evidence, Level, RuleVerdict};

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
    /// The observations counted (filled by [`Tally::finish`]; a failure counts at least
    /// its witness).
    pub evidence: Evidence,
}

impl Judgement {
    /// A pass, with an optional note of what was checked.
    pub fn pass(note: impl Into<Option<String>>) -> Self {
        Judgement {
            verdict: Verdict::Pass,
            witness: note.into(),
            ops: vec![],
            evidence: Evidence::default(),
        }
    }
    /// A failure with its witness.
    pub fn fail(witness: String, ops: Vec<u64>) -> Self {
        Judgement {
            verdict: Verdict::Fail,
            witness: Some(witness),
            ops,
            evidence: Evidence::default(),
        }
    }
    /// Undecided, and why.
    pub fn unknown(why: String) -> Self {
        Judgement {
            verdict: Verdict::Unknown,
            witness: Some(why),
            ops: vec![],
            evidence: Evidence::default(),
        }
    }
    /// Not exercised, and why.
    pub fn skipped(why: impl Into<String>) -> Self {
        Judgement {
            verdict: Verdict::Skipped,
            witness: Some(why.into()),
            ops: vec![],
            evidence: Evidence::default(),
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
        &listing::Objects,
        &isolation::Tenants,
        &auth::Required,
    ]
}

/// Counts decisive and undecided checks of one rule, and turns them into a judgement:
/// a pass needs at least one decisive check (indeterminate evidence never proves a pass).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    decisive: usize,
    undecided_n: usize,
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
        self.undecided_n += 1;
        if self.undecided.len() < 3 {
            self.undecided.push(why());
        }
    }
    /// The judgement: pass, unknown, or skipped with `nothing` when nothing was checked.
    pub fn finish(self, what: &str, nothing: &str) -> Judgement {
        let evidence = Evidence {
            definite: self.decisive as u64,
            indeterminate: self.undecided_n as u64,
        };
        let mut j = self.judgement(what, nothing);
        j.evidence = evidence;
        j
    }

    fn judgement(self, what: &str, nothing: &str) -> Judgement {
        if self.decisive > 0 {
            let mut note = format!("{} {what} checked", self.decisive);
            if !self.notes.is_empty() {
                note = format!("{note}: {}", self.notes.join("; "));
            }
            if !self.undecided.is_empty() {
                note = format!(
                    "{note}; {} undecided: {}",
                    self.undecided_n,
                    self.undecided.join("; ")
                );
            }
            Judgement::pass(Some(note))
        } else if !self.undecided.is_empty() {
            Judgement::unknown(self.undecided.join("; "))
        } else {
            Judgement::skipped(nothing)
        }
    }
}

/// Why rule `id` judged in segments may be unknown where the whole history decides it
/// (it rests on a whole-run aggregate no segment holds), for a history with `header`
/// whose sliding windows were carried whole across every cut.
pub fn segmented_unknown(header: &crate::history::Header, id: &str) -> Option<String> {
    combine::pass_unproven(header, id, false)
}

/// A rule's catalogue entry by id.
pub fn rule_info(id: &str) -> Option<RuleInfo> {
    catalogue().iter().map(|r| r.info()).find(|i| i.id == id)
}

/// Every rule id.
pub fn rule_ids() -> Vec<&'static str> {
    catalogue().iter().map(|r| r.info().id).collect()
}

/// The share of a phase's operations that may go without a definite answer before the
/// verdicts resting on it turn unknown (`max_indefinite` in a scenario; 5 %).
pub const DEFAULT_MAX_INDEFINITE: f64 = 0.05;

/// Rules that attribute a counter move to one lone operation between two snapshots.
const LONE_RULES: [&str; 7] = [
    "listing.objects",
    "reset.period-boundary",
    "reset.monthly-not-daily",
    "concurrent.cap",
    "concurrent.release-frees",
    "order.all-or-nothing",
    "auth.required",
];

/// Whether an operation got no answer the target can be held to: indeterminate, never
/// sent, or an error with no status at all (a transport failure as the client classified
/// it before the outcome table carried `not_sent`).
pub fn no_answer(o: &crate::history::OpRecord) -> bool {
    !o.outcome.definite() || (o.outcome == crate::vocab::Outcome::Error && o.status.is_none())
}

/// Whether an operation was cut by the run's interrupt: not the target's doing, counted
/// nowhere (neither evidence nor error).
pub fn interrupted(o: &crate::history::OpRecord) -> bool {
    o.note.as_deref() == Some(crate::vocab::INTERRUPTED_NOTE)
}

/// Judges `h` by the rules in `only` (all rules when empty), with the default
/// [`DEFAULT_MAX_INDEFINITE`].
pub fn judge(h: &History, only: &[String]) -> Vec<RuleVerdict> {
    judge_with(h, only, DEFAULT_MAX_INDEFINITE)
}

/// Judges `h` by the rules in `only`; a phase where more than `max_indefinite` (a
/// fraction) of the operations got no definite answer leaves the passes resting on it
/// unknown.
pub fn judge_with(h: &History, only: &[String], max_indefinite: f64) -> Vec<RuleVerdict> {
    let mut verdicts = judge_rules(h, only, 0, facts::Carried::default());
    if let Some(why) = too_indefinite(h, max_indefinite) {
        thin_passes(&mut verdicts, &why);
    }
    verdicts
}

/// A pass on evidence too thin (`too_indefinite`) is unknown, with the reason.
pub(crate) fn thin_passes(verdicts: &mut [RuleVerdict], why: &str) {
    for v in verdicts.iter_mut().filter(|v| v.verdict == Verdict::Pass) {
        v.verdict = Verdict::Unknown;
        v.witness = Some(match v.witness.take() {
            Some(w) => format!("{why} (it would otherwise pass: {w})"),
            None => why.to_string(),
        });
    }
}

/// Judges `h` by the rules in `only` (all when empty), before the run-wide judgement of
/// thin evidence. The first `context` records are context carried into a segment
/// (`check::segment`): rules that judge record by record leave them to the segment
/// they belong to.
pub(crate) fn judge_rules(
    h: &History,
    only: &[String],
    context: usize,
    carried: facts::Carried,
) -> Vec<RuleVerdict> {
    let mut facts = Facts::build(h);
    facts.context = context;
    facts.carried = carried;
    let facts = facts;
    let blurred = facts.blurred();
    let rules: Vec<&dyn Rule> = catalogue()
        .into_iter()
        .filter(|r| only.is_empty() || only.iter().any(|id| id == r.info().id))
        .collect();
    let judge_one = |r: &dyn Rule| {
        let info = r.info();
        let mut j = r.judge(h, &facts);
        if j.verdict == Verdict::Fail && j.evidence.definite == 0 {
            j.evidence.definite = 1;
        }
        if let (Some((n, id)), true) = (blurred, LONE_RULES.contains(&info.id)) {
            let why = format!(
                    "{n} lone step(s) between snapshots came after op #{id}, whose answer was indeterminate and which may have taken effect at any later moment: their counter moves cannot be attributed"
                );
            j.evidence.indeterminate += n as u64;
            match j.verdict {
                Verdict::Skipped => {
                    j.verdict = Verdict::Unknown;
                    j.witness = Some(why);
                }
                Verdict::Pass => {
                    j.witness = Some(match j.witness.take() {
                        Some(w) => format!("{w}; undecided: {why}"),
                        None => format!("undecided: {why}"),
                    })
                }
                _ => {}
            }
        }
        RuleVerdict {
            id: info.id.to_string(),
            level: info.level,
            verdict: j.verdict,
            witness: j.witness,
            ops: j.ops,
            phase: None,
            reproduce: None,
            evidence: j.evidence,
        }
    };
    let mut verdicts = judge_all(h, &rules, judge_one);
    attribute_phases(h, &mut verdicts);
    verdicts
}

/// Histories shorter than this are judged rule after rule on the calling thread.
const PARALLEL_FROM: usize = 10_000;

/// Each rule's verdict, in `rules`' order. A long history's rules are shared out between
/// the machine's cores (each thread takes the next rule not yet taken): the rules only
/// read the history and the facts, so the verdicts are those of one thread, and a
/// segment judged by one core left the other idle (`check::segment`: the reader waits
/// for it).
fn judge_all(
    h: &History,
    rules: &[&dyn Rule],
    judge_one: impl Fn(&dyn Rule) -> RuleVerdict + Sync,
) -> Vec<RuleVerdict> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rules.len());
    if h.ops.len() < PARALLEL_FROM || threads < 2 {
        return rules.iter().map(|&r| judge_one(r)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&r) = rules.get(i) else { break done };
            done.push((i, judge_one(r)));
        }
    };
    let mut done: Vec<(usize, RuleVerdict)> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        // This thread works too: with no helper started it judges every rule alone.
        let mut done = work();
        for helper in helpers {
            match helper.join() {
                Ok(d) => done.extend(d),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, v)| v).collect()
}

/// Per phase: (operations, operations with no definite answer), interrupted ones left out.
/// With `writes_only`, reads (lists, resource listings, clock reads) are left out too: a
/// read without a definite answer is missing evidence, but it changed nothing, so it
/// blurs no counter — a paged read cut short by a total that moved under load must not
/// thin a phase's writes.
pub fn phase_answers(h: &History, writes_only: bool) -> Vec<(u64, u64)> {
    let mut per = vec![(0u64, 0u64); h.header.phases.len()];
    for o in h
        .ops
        .iter()
        .filter(|o| !interrupted(o))
        .filter(|o| !writes_only || facts::kind_of(h, o).is_none_or(facts::effectful))
    {
        if let Some(p) = per.get_mut(o.phase as usize) {
            p.0 += 1;
            if no_answer(o) {
                p.1 += 1;
            }
        }
    }
    per
}

/// Why the run's evidence is too thin to pass on: a phase where more than
/// `max_indefinite` of the operations got no definite answer, or no definite answer at all.
pub fn too_indefinite(h: &History, max_indefinite: f64) -> Option<String> {
    let all = phase_answers(h, false);
    let per = phase_answers(h, true);
    thin_from(&h.header.phases, &all, &per, max_indefinite)
}

/// [`too_indefinite`] from the per-phase counts ([`phase_answers`] of every operation,
/// and of writes only): what a streamed judgement counts as the records go by.
pub(crate) fn thin_from(
    phases: &[String],
    all: &[(u64, u64)],
    per: &[(u64, u64)],
    max_indefinite: f64,
) -> Option<String> {
    let total: u64 = all.iter().map(|p| p.0).sum();
    let none: u64 = all.iter().map(|p| p.1).sum();
    if total > 0 && none == total {
        return Some(format!(
            "no operation of the run got a definite answer ({total} sent or attempted): a run never passes on nothing"
        ));
    }
    let mut bad = Vec::new();
    for (i, (n, x)) in per.iter().enumerate() {
        if *n > 0 && (*x as f64) > max_indefinite * (*n as f64) {
            bad.push(format!(
                "phase {}: {x} of {n} writes ({:.1}%) got no definite answer",
                phases.get(i).map_or("?", |s| s.as_str()),
                100.0 * *x as f64 / *n as f64
            ));
        }
    }
    (!bad.is_empty()).then(|| {
        format!(
            "{} (more than max_indefinite {}%): the evidence is too thin to pass",
            bad.join("; "),
            max_indefinite * 100.0
        )
    })
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
