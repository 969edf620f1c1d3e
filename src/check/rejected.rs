//! Rejected orders are not counted.

use super::facts::{cite, comparable, crossed_reason, quota_bit, thousands, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// Between two quiescent snapshots a counter may rise by at most what may have been
/// accepted in between (releases only lower it). A rise beyond that, in an interval whose
/// other rejected traffic cannot be blamed, convicts the `suspect` rejections.
fn not_counted(
    h: &History,
    f: &Facts,
    suspect: impl Fn(OpKind, Outcome) -> bool,
    blurs: impl Fn(OpKind, Outcome) -> bool,
    what: &str,
) -> Judgement {
    let mut t = Tally::default();
    let mut seen = 0usize;
    let mut crossed: Vec<&str> = Vec::new();
    for (g, gap) in f.gaps.iter().enumerate() {
        let kinds = || {
            gap.ops
                .iter()
                .filter_map(|&i| f.decl(i).map(|d| (i, d, h.ops[i].outcome)))
        };
        let here: Vec<u64> = kinds()
            .filter(|(_, d, o)| suspect(d.kind, *o))
            .map(|(i, _, _)| h.ops[i].id)
            .collect();
        if here.is_empty() {
            continue;
        }
        seen += here.len();
        let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
        if gap.dirty
            || kinds().any(|(_, d, o)| blurs(d.kind, o))
            || f.clock_moved(h, a.done, b.sent)
        {
            t.undecided(|| {
                format!(
                    "snapshots #{} and #{}: other traffic blurs the attribution",
                    a.id, b.id
                )
            });
            continue;
        }
        for (q, rise) in f.rises(h, g) {
            // A reset only lowers a counter: a rise beyond what may have been accepted
            // convicts whatever the windows; an unplaceable window only stops the
            // interval from counting as held.
            let same_window = comparable(h, f, q, a.seen(&q.name), b.seen(&q.name), b.sent);
            if !same_window {
                crossed.push(&q.name);
            }
            let bit = quota_bit(h, &q.name);
            let possible: u64 = kinds()
                .filter(|(_, d, o)| {
                    d.kind == OpKind::Consume
                        && d.touches & bit != 0
                        && matches!(o, Outcome::Accepted | Outcome::Indeterminate)
                })
                .map(|(i, _, _)| h.ops[i].amount)
                .sum::<u64>()
                // Indeterminate orders sent before this gap may take effect in it.
                + f.ledger(h, bit).indeterminate_sent.between(0, a.done);
            if rise > possible as i64 {
                let mut ops = here.clone();
                ops.truncate(6);
                return Judgement::fail(
                    format!(
                        "{}: consumed rose by {} between snapshots #{} and #{} while at most {} were accepted; {} {what} were sent in between ({})",
                        q.name,
                        thousands(rise as u64),
                        a.id,
                        b.id,
                        thousands(possible),
                        here.len(),
                        cite(&here, 6)
                    ),
                    ops,
                );
            }
            if same_window {
                t.held();
            }
        }
    }
    if seen == 0 {
        return Judgement::skipped(format!("no {what} were sent"));
    }
    let nothing = crossed_reason(h, &crossed, &format!("intervals around {what}"))
        .unwrap_or_else(|| format!("no interval could be judged for {what}"));
    t.finish("intervals", &nothing)
}

/// `rejected.invalid-not-counted`: orders rejected by validation leave the counters
/// untouched (the Adobe seed says so in as many words).
pub struct InvalidNotCounted;

impl Rule for InvalidNotCounted {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "rejected.invalid-not-counted",
            level: Level::Must,
            title: "orders rejected by validation leave the counters untouched",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let invalid = (0..h.ops.len())
            .filter(|&i| f.decl(i).is_some_and(|d| d.kind == OpKind::ConsumeInvalid))
            .count();
        if invalid == 0 {
            return Judgement::skipped("no invalid order was sent");
        }
        not_counted(
            h,
            f,
            |k, o| k == OpKind::ConsumeInvalid && o == Outcome::RejectedInvalid,
            // Quota-rejected traffic in the same interval would blur the attribution.
            |_, o| o == Outcome::RejectedQuota,
            "validation-rejected orders",
        )
    }
}

/// `rejected.quota-not-counted`: an order rejected as over quota counts nothing.
pub struct QuotaNotCounted;

impl Rule for QuotaNotCounted {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "rejected.quota-not-counted",
            level: Level::Must,
            title: "orders rejected as over quota leave the counters untouched",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        not_counted(
            h,
            f,
            |k, o| k == OpKind::Consume && o == Outcome::RejectedQuota,
            |k, o| k == OpKind::ConsumeInvalid || o == Outcome::RejectedAuth,
            "quota-rejected orders",
        )
    }
}
