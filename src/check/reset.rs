//! Reset rules: period counters reset at their boundary (not before, not later than the
//! declared tolerance), monthly counters do not reset daily, concurrent counters never
//! reset, and admission resumes after a reset. Judged at each clock move that was alone
//! between two quiescent snapshots (the reset probe makes them).

use super::facts::{thousands, window, window_name, window_start, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::Outcome;
use crate::vocab::{OpKind, PeriodDecl, QuotaKind};

/// Concurrent work never resets; but a clock moved by a day or more may legitimately end
/// work that was due (a dataset expiration executing), so only shorter moves judge it.
const CONCURRENT_MOVE_MAX_S: u64 = 86_400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Boundary,
    MonthlyNotDaily,
}

/// Judges every clock move for one of the two rules.
fn judge(h: &History, f: &Facts, which: Which) -> Judgement {
    let moves: Vec<usize> = (0..h.ops.len())
        .filter(|&i| f.decl(i).is_some_and(|d| d.kind == OpKind::AdvanceClock))
        .collect();
    if moves.is_empty() {
        return Judgement::skipped(if h.header.clock_control {
            "no clock move was made (add `probe: reset`)"
        } else {
            "the target's clock cannot be moved (no clock control): resets are not exercised"
        });
    }
    if !moves.iter().any(|&i| h.ops[i].outcome == Outcome::Accepted) {
        let o = &h.ops[moves[0]];
        if super::no_answer(o) || o.outcome == Outcome::RejectedRate {
            return Judgement::unknown(format!(
                "the clock hook got no definite answer (op #{}, {}: {}): whether the clock moved is unknown",
                o.id,
                o.outcome.as_str(),
                o.note.as_deref().unwrap_or("no answer")
            ));
        }
        return Judgement::skipped(format!(
            "the clock hook answered {} (op #{}): resets are not exercised",
            o.status
                .map_or_else(|| o.outcome.as_str().to_string(), |s| s.to_string()),
            o.id
        ));
    }
    let tolerance = h.header.capabilities.reset_tolerance.0.as_secs() as i64;
    let mut t = Tally::default();
    for (g, i) in f.lone() {
        let m = &h.ops[i];
        if f.decl(i).map(|d| d.kind) != Some(OpKind::AdvanceClock) || m.outcome != Outcome::Accepted
        {
            continue;
        }
        let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
        let day = |at: u64| f.window_at(h, &PeriodDecl::Daily, at);
        let day_crossed = matches!((day(a.done), day(b.sent)), (Some(x), Some(y)) if x != y);
        let cite = vec![m.id, a.id, b.id];
        let mut crossed_any = false;
        for q in &h.header.quotas {
            let (Some(ra), Some(rb)) = (a.get(&q.name), b.get(&q.name)) else {
                continue;
            };
            let (c1, c2) = (ra.consumed, rb.consumed);
            match (q.kind, &q.period) {
                (QuotaKind::Concurrent, _) if which == Which::Boundary => {
                    if m.amount >= CONCURRENT_MOVE_MAX_S {
                        continue;
                    }
                    if c2 < c1 {
                        return Judgement::fail(
                            format!(
                                "{} is concurrent and must never reset, yet it fell from {} to {} when the clock moved {}s (op #{}; snapshots #{}, #{})",
                                q.name, c1, c2, m.amount, m.id, a.id, b.id
                            ),
                            cite,
                        );
                    }
                    t.held();
                }
                (QuotaKind::Period, Some(p)) => {
                    if window(p, 0).is_none() {
                        continue;
                    }
                    let (Some(w1), Some(w2)) =
                        (f.window_at(h, p, a.done), f.window_at(h, p, b.sent))
                    else {
                        t.undecided(|| {
                            format!(
                                "{}: the target's time near a boundary is uncertain (op #{})",
                                q.name, m.id
                            )
                        });
                        continue;
                    };
                    let monthly_rule = *p == PeriodDecl::Monthly && day_crossed;
                    if w1 == w2 {
                        // No boundary of this quota was crossed: the counter must stay.
                        let mine = if monthly_rule {
                            Which::MonthlyNotDaily
                        } else {
                            Which::Boundary
                        };
                        if mine != which {
                            continue;
                        }
                        if c2 < c1 {
                            let what = if monthly_rule {
                                "a monthly counter reset at a daily boundary"
                            } else {
                                "reset before its boundary"
                            };
                            return Judgement::fail(
                                format!(
                                    "{}: {what}: it fell from {} to {} when the clock moved {}s within window {} (op #{}; snapshots #{}, #{})",
                                    q.name,
                                    thousands(c1),
                                    thousands(c2),
                                    m.amount,
                                    window_name(p, w1),
                                    m.id,
                                    a.id,
                                    b.id
                                ),
                                cite,
                            );
                        }
                        if c1 > 0 {
                            t.held();
                        }
                        continue;
                    }
                    crossed_any = true;
                    if which != Which::Boundary {
                        continue;
                    }
                    let start = window_start(p, w2).unwrap_or(i64::MIN);
                    if f.target_time(h, b.sent).0 < start + tolerance {
                        t.undecided(|| {
                            format!(
                                "{}: snapshot #{} is within the reset tolerance",
                                q.name, b.id
                            )
                        });
                        continue;
                    }
                    if c1 == 0 {
                        // A counter at 0 looks the same reset or not.
                        continue;
                    }
                    if c2 > 0 {
                        return Judgement::fail(
                            format!(
                                "{}: not reset at the {} boundary: {} before (snapshot #{}), still {} in window {} after the clock crossed it (op #{}; snapshot #{})",
                                q.name,
                                p,
                                thousands(c1),
                                a.id,
                                thousands(c2),
                                window_name(p, w2),
                                m.id,
                                b.id
                            ),
                            cite,
                        );
                    }
                    t.held();
                }
                _ => {}
            }
        }
        // Admission resumes: the order right after a crossing is refused only if a quota
        // it draws on is still full.
        if which == Which::Boundary && crossed_any {
            if let Some(j) = f.alone(g + 1) {
                let (o, d) = (&h.ops[j], f.decl(j));
                if let (Some(d), Outcome::RejectedQuota) = (d, o.outcome) {
                    if d.kind == OpKind::Consume {
                        let room = h.header.quotas.iter().enumerate().all(|(qi, q)| {
                            d.touches & (1u64 << qi.min(63)) == 0
                                || b.get(&q.name)
                                    .is_some_and(|r| r.consumed + o.amount <= r.limit)
                        });
                        if room {
                            return Judgement::fail(
                                format!(
                                    "admission did not resume after the reset: order #{} of {} was rejected as over quota though snapshot #{} shows room in every quota it draws on",
                                    o.id, o.amount, b.id
                                ),
                                vec![o.id, b.id],
                            );
                        }
                    }
                }
            }
        }
    }
    t.finish(
        "counters across clock moves",
        "no clock move was alone between two snapshots",
    )
}

/// `reset.period-boundary`.
pub struct PeriodBoundary;

impl Rule for PeriodBoundary {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "reset.period-boundary",
            level: Level::Must,
            title:
                "period counters reset at their boundary, not before, not later than the tolerance",
        }
    }
    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        // First-hit windows reset as their listed end passes, clock moves or not.
        let windows = match super::windows::first_hit_resets(h) {
            Ok(n) => n,
            Err((witness, ops)) => return Judgement::fail(witness, ops),
        };
        let j = judge(h, f, Which::Boundary);
        if windows > 0 && j.verdict == crate::vocab::Verdict::Skipped {
            return Judgement::pass(format!(
                "{windows} first-hit window(s) ended and the next opened a window length later, as listed; clock: {}",
                j.witness.unwrap_or_default()
            ));
        }
        j
    }
}

/// `reset.monthly-not-daily`.
pub struct MonthlyNotDaily;

impl Rule for MonthlyNotDaily {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "reset.monthly-not-daily",
            level: Level::Must,
            title: "monthly counters keep their value across a daily boundary",
        }
    }
    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        judge(h, f, Which::MonthlyNotDaily)
    }
}
