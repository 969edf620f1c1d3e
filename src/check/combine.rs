//! Combining the judgements of a history's segments (`check::segment`) into one verdict
//! per rule, as judging the whole would: a failure anywhere fails, with its witness and
//! operations as found; else a pass if any segment decided a check (a whole history's
//! rule passes on any decisive check, its undecided ones noted); else unknown with the
//! first reason; skipped only when every segment skipped.

use super::{Evidence, RuleVerdict};
use crate::vocab::Verdict;

/// Why a pass of rule `id` judged in segments is no proof for a history with this
/// header, when it is not: `limit.never-exceeded` over a first-hit window (its instances
/// are placed from list reads a cut may leave behind, so a window spanning a cut is
/// judged in parts), and over a sliding window when `sliding_split`: the orders within a
/// window length before a cut were too many to carry (`check::segment`), so a window
/// across that cut was counted in parts. A failure found in a segment stands: it is a
/// failure of the whole.
pub(crate) fn pass_unproven(
    header: &crate::history::Header,
    id: &str,
    sliding_split: bool,
) -> Option<String> {
    use crate::vocab::{PeriodDecl, QuotaKind};
    if id != "limit.never-exceeded" {
        return None;
    }
    let windows: Vec<&str> = header
        .quotas
        .iter()
        .filter(|q| q.kind == QuotaKind::Period)
        .filter(|q| match q.period {
            Some(PeriodDecl::FirstHit(_)) => true,
            Some(PeriodDecl::Sliding(_)) => sliding_split,
            _ => false,
        })
        .map(|q| q.name.as_str())
        .collect();
    (!windows.is_empty()).then(|| {
        format!(
            "the first-hit or sliding windows of {} (a window across a cut is counted in parts)",
            windows.join(", ")
        )
    })
}

/// One rule's verdicts so far.
struct Acc {
    first: RuleVerdict,
    fail: Option<RuleVerdict>,
    pass: Option<RuleVerdict>,
    unknown: Option<RuleVerdict>,
    evidence: Evidence,
    passed: usize,
}

/// The verdicts of every segment judged so far, rule by rule.
#[derive(Default)]
pub(crate) struct Combined {
    rules: Vec<Acc>,
    segments: usize,
}

impl Combined {
    /// Adds one segment's verdicts (the same rules, in the same order, every time).
    pub fn add(&mut self, verdicts: Vec<RuleVerdict>) {
        self.segments += 1;
        if self.rules.is_empty() {
            self.rules = verdicts
                .iter()
                .map(|v| Acc {
                    first: v.clone(),
                    fail: None,
                    pass: None,
                    unknown: None,
                    evidence: Evidence::default(),
                    passed: 0,
                })
                .collect();
        }
        for (a, v) in self.rules.iter_mut().zip(verdicts) {
            if a.fail.is_some() {
                // The first failure stands, with the evidence counted up to it.
                continue;
            }
            a.evidence.definite += v.evidence.definite;
            a.evidence.indeterminate += v.evidence.indeterminate;
            match v.verdict {
                Verdict::Fail => a.fail = Some(v),
                Verdict::Pass => {
                    a.passed += 1;
                    a.pass.get_or_insert(v);
                }
                Verdict::Unknown => {
                    a.unknown.get_or_insert(v);
                }
                Verdict::Skipped => {}
            }
        }
    }

    /// Segments added.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// One verdict per rule; `broken` (why the stream could not be judged as it is)
    /// leaves every verdict unknown.
    /// `sliding_split`: see [`pass_unproven`].
    pub fn finish(
        self,
        broken: Option<&str>,
        header: &crate::history::Header,
        sliding_split: bool,
    ) -> Vec<RuleVerdict> {
        let n = self.segments;
        self.rules
            .into_iter()
            .map(|a| {
                let mut v = if let Some(why) = broken {
                    let mut v = a.first.clone();
                    v.verdict = Verdict::Unknown;
                    v.witness = Some(format!(
                        "the history could not be judged in segments: {why}"
                    ));
                    v.ops.clear();
                    v.phase = None;
                    v
                } else if let Some(f) = a.fail {
                    f
                } else if let Some(mut p) = a.pass {
                    if n > 1 {
                        let unknown = a
                            .unknown
                            .and_then(|u| u.witness)
                            .map(|w| format!("; undecided in some segments: {w}"))
                            .unwrap_or_default();
                        p.witness = Some(format!(
                            "passed in {} of {n} segments cut at quiescent snapshots (first: {}){unknown}",
                            a.passed,
                            p.witness.as_deref().unwrap_or("checked")
                        ));
                    }
                    p
                } else if let Some(u) = a.unknown {
                    u
                } else {
                    a.first
                };
                if broken.is_none() {
                    v.evidence = a.evidence;
                }
                if n > 1 && broken.is_none() {
                    if let Some(why) = pass_unproven(header, &v.id, sliding_split) {
                        if v.verdict == Verdict::Pass {
                            v.verdict = Verdict::Unknown;
                            v.witness = Some(format!(
                                "judged in {n} segments, and this rule rests on {why}, which no segment holds whole"
                            ));
                            v.ops.clear();
                            v.phase = None;
                        }
                    }
                }
                v
            })
            .collect()
    }
}
