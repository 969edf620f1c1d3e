//! Isolation: one tenant's orders never move another tenant's counters.

use super::facts::Facts;
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// `isolation.tenants`: two snapshots of the other tenant, with orders accepted on the
/// main tenant in between and nothing sent for the other tenant, read the same counters.
pub struct Tenants;

impl Rule for Tenants {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "isolation.tenants",
            level: Level::Must,
            title: "one tenant's orders never count against another tenant",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if f.others.len() < 2 {
            return Judgement::skipped(
                "no two snapshots of another tenant (set target.other_tenant and add `probe: isolation`)",
            );
        }
        let mut t = Tally::default();
        for w in f.others.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if a.readings.is_empty() || h.ops[a.index].tenant != h.ops[b.index].tenant {
                continue;
            }
            if f.clock_moved(h, a.done, b.sent) {
                continue;
            }
            let mut between: Vec<u64> = h
                .ops
                .iter()
                .enumerate()
                .filter(|(i, o)| {
                    o.sent_us >= a.done
                        && o.done_us <= b.sent
                        && o.tenant == h.header.tenant
                        && o.outcome == Outcome::Accepted
                        && f.decl(*i).is_some_and(|d| d.kind == OpKind::Consume)
                })
                .map(|(_, o)| o.id)
                .collect();
            between.sort_unstable();
            if between.is_empty() {
                t.undecided(|| {
                    format!(
                        "no order was accepted between snapshots #{} and #{}",
                        a.id, b.id
                    )
                });
                continue;
            }
            for (name, ra) in &a.readings {
                let Some(rb) = b.get(name) else { continue };
                if rb.consumed != ra.consumed {
                    let mut ops = between.clone();
                    ops.truncate(5);
                    ops.push(b.id);
                    return Judgement::fail(
                        format!(
                            "{name} of tenant {:?} moved from {} (snapshot #{}) to {} (snapshot #{}) while only tenant {:?} sent orders ({} accepted, e.g. #{})",
                            h.ops[a.index].tenant, ra.consumed, a.id, rb.consumed, b.id, h.header.tenant, between.len(), between[0]
                        ),
                        ops,
                    );
                }
            }
            t.held();
        }
        t.finish(
            "pairs of other-tenant snapshots",
            "no pair of other-tenant snapshots to compare",
        )
    }
}
