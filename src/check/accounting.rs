//! Accounting rules: the counters say exactly what was accepted.

use super::facts::{comparable, crossed_reason, quota_bit, thousands, Facts, Seen};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::Outcome;
use crate::vocab::{OpKind, QuotaDecl, QuotaKind};

/// `accounting.exact`: between two quiescent snapshots, every counter moves by exactly
/// what was accepted in between (consumes up, releases down); indeterminate operations
/// widen the expected range and can only leave it undecided.
pub struct Exact;

impl Rule for Exact {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "accounting.exact",
            level: Level::Must,
            title: "at quiescence, consumed = baseline + accepted amounts",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let mut t = Tally::default();
        let mut crossed: Vec<&str> = Vec::new();
        for (g, gap) in f.gaps.iter().enumerate() {
            if gap.dirty {
                continue;
            }
            let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
            for (q, rise) in f.rises(h, g) {
                if !comparable(h, f, q, a.seen(&q.name), b.seen(&q.name), b.sent) {
                    crossed.push(&q.name);
                    if let Some(id) = f.clock_uncertain(h, b.sent) {
                        t.undecided(|| {
                            format!(
                                "{} between snapshots #{} and #{}: clock move #{id} got no definite answer, so the clock's position is uncertain",
                                q.name, a.id, b.id
                            )
                        });
                    }
                    continue;
                }
                let bit = quota_bit(h, &q.name);
                // Indeterminate operations sent before this gap may take effect in it.
                let l = f.ledger(h, bit);
                let (mut lo, mut hi) = (
                    -(l.indeterminate_released_sent.between(0, a.done) as i64),
                    l.indeterminate_sent.between(0, a.done) as i64,
                );
                let mut accepted = Vec::new();
                for &i in &gap.ops {
                    let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                        continue;
                    };
                    let (up, down) = (
                        d.kind == OpKind::Consume && d.touches & bit != 0,
                        d.kind == OpKind::Release && d.frees & bit != 0,
                    );
                    match (o.outcome, up, down) {
                        (Outcome::Accepted, true, _) => {
                            lo += o.amount as i64;
                            hi += o.amount as i64;
                            accepted.push(o.id);
                        }
                        (Outcome::Indeterminate, true, _) => hi += o.amount as i64,
                        (Outcome::Accepted, _, true) => {
                            lo -= 1;
                            hi -= 1;
                        }
                        (Outcome::Indeterminate, _, true) => lo -= 1,
                        _ => {}
                    }
                }
                if rise < lo || rise > hi {
                    let expected = if lo == hi {
                        format!("{lo:+}")
                    } else {
                        format!("between {lo:+} and {hi:+}")
                    };
                    // The orders first: the report reproduces the first cited op.
                    let mut ops: Vec<u64> = gap.ops.iter().take(6).map(|&i| h.ops[i].id).collect();
                    ops.extend([a.id, b.id]);
                    return Judgement::fail(
                        format!(
                            "{}: consumed went from {} (snapshot #{}) to {} (snapshot #{}), a move of {rise:+}, while what was sent in between ({}) accounts for {expected}",
                            q.name,
                            thousands(a.get(&q.name).map_or(0, |r| r.consumed)),
                            a.id,
                            thousands(b.get(&q.name).map_or(0, |r| r.consumed)),
                            b.id,
                            match gap.ops.len() {
                                1 => "one operation".to_string(),
                                n => format!("{n} operations"),
                            }
                        ),
                        ops,
                    );
                }
                if lo == hi {
                    t.held();
                } else {
                    t.undecided(|| {
                        format!(
                            "{} between snapshots #{} and #{}: indeterminate orders",
                            q.name, a.id, b.id
                        )
                    });
                }
            }
        }
        let nothing = crossed_reason(h, &crossed, "intervals between snapshots")
            .unwrap_or_else(|| "no two quiescent snapshots to compare".into());
        t.finish("intervals between snapshots", &nothing)
    }
}

/// `accounting.snapshots-consistent`: every list read during the run (not only the
/// quiescent ones) lies between what had certainly taken effect and been visible for the
/// declared consistency window, and what could possibly have taken effect.
pub struct SnapshotsConsistent;

impl Rule for SnapshotsConsistent {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "accounting.snapshots-consistent",
            level: Level::Must,
            title: "every list read is consistent with the history around it",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let w = h.header.capabilities.consistency_window.0.as_micros() as u64;
        let quotas: Vec<&QuotaDecl> = h
            .header
            .quotas
            .iter()
            .filter(|q| q.kind != QuotaKind::Scoped)
            .collect();
        let ledgers: Vec<_> = quotas
            .iter()
            .map(|q| f.ledger(h, quota_bit(h, &q.name)))
            .collect();
        let mut t = Tally::default();
        let mut crossed: Vec<&str> = Vec::new();
        for (o, b) in h.ops.iter().zip(&f.briefs) {
            if !b.listed || !b.main || b.outcome != Outcome::Accepted {
                continue;
            }
            let Some(readings) = &o.snapshot else {
                continue;
            };
            let Some(k) = f.snap_before(o.sent_us) else {
                continue;
            };
            let s = &f.snapshots[k];
            if s.id == o.id {
                continue;
            }
            if let Some(g) = f.gaps.get(k) {
                if g.dirty {
                    continue;
                }
            }
            for (q, l) in quotas.iter().zip(&ledgers) {
                let (Some(base), Some(r)) =
                    (s.get(&q.name), readings.iter().find(|r| r.name == q.name))
                else {
                    continue;
                };
                let read = Seen {
                    sent: o.sent_us,
                    done: o.done_us,
                    reading: Some(r),
                };
                if !comparable(h, f, q, s.seen(&q.name), read, o.done_us) {
                    crossed.push(&q.name);
                    continue;
                }
                let visible = o.sent_us.saturating_sub(w);
                let lower = (base.consumed + l.accepted_done.after_upto(s.done, visible))
                    .saturating_sub(l.maybe_released_sent.between(s.sent, o.done_us));
                let upper = (base.consumed
                    + l.possible_sent.between(s.sent, o.done_us)
                    + l.indeterminate_sent.between(0, s.sent))
                .saturating_sub(l.released_done.after_upto(s.done, visible));
                let lower = lower.saturating_sub(l.indeterminate_released_sent.between(0, s.sent));
                if r.consumed < lower || r.consumed > upper {
                    return Judgement::fail(
                        format!(
                            "{}: list op #{} read consumed {}, but the history allows only {}..={} (baseline {} at snapshot #{}, consistency window {}µs)",
                            q.name,
                            o.id,
                            thousands(r.consumed),
                            thousands(lower),
                            thousands(upper),
                            thousands(base.consumed),
                            s.id,
                            w
                        ),
                        vec![o.id, s.id],
                    );
                }
                t.held();
            }
        }
        let nothing = crossed_reason(h, &crossed, "list reads")
            .unwrap_or_else(|| "no list read followed a quiescent snapshot".into());
        t.finish("list reads", &nothing)
    }
}
