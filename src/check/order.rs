//! Order rules: an order is admitted whole or not at all.

use super::facts::{quota_bit, thousands, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// `order.all-or-nothing`: an accepted order alone between two snapshots raised every
/// quota it draws on by its whole amount (a partial admission answered as success
/// leaves the client believing work was done that was not).
pub struct AllOrNothing;

impl Rule for AllOrNothing {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "order.all-or-nothing",
            level: Level::Must,
            title: "an accepted order counts its whole amount",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if !h.header.capabilities.all_or_nothing {
            return Judgement::skipped(
                "the target declares partial admission (all_or_nothing: false)",
            );
        }
        let mut t = Tally::default();
        for (g, i) in f.lone() {
            let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                continue;
            };
            if d.kind != OpKind::Consume || o.outcome != Outcome::Accepted {
                continue;
            }
            for (q, rise) in f.rises(h, g) {
                if d.touches & quota_bit(h, &q.name) == 0 {
                    continue;
                }
                if rise < o.amount as i64 {
                    let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
                    return Judgement::fail(
                        format!(
                            "{}: order #{} of {} was accepted but counted {} (snapshots #{} → #{}): partially admitted",
                            q.name,
                            o.id,
                            thousands(o.amount),
                            thousands(rise.max(0) as u64),
                            a.id,
                            b.id
                        ),
                        vec![o.id, a.id, b.id],
                    );
                }
                t.held();
            }
        }
        t.finish(
            "orders alone between snapshots",
            "no accepted order was alone between two snapshots (add `probe: boundary`)",
        )
    }
}
