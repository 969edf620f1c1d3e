//! Quota-value rules.

use super::facts::{quota_bit, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// `quota.zero-admits-nothing`: a quota listed with limit 0 admits no order that draws
/// on it (the seed's example lists one).
pub struct ZeroAdmitsNothing;

impl Rule for ZeroAdmitsNothing {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "quota.zero-admits-nothing",
            level: Level::Must,
            title: "a quota of 0 admits nothing",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let mut t = Tally::default();
        let mut zero = Vec::new();
        for q in &h.header.quotas {
            let bit = quota_bit(h, &q.name);
            if !f
                .snapshots
                .iter()
                .any(|s| s.get(&q.name).is_some_and(|r| r.limit == 0))
            {
                continue;
            }
            zero.push(q.name.clone());
            for &i in &f.order {
                let o = &h.ops[i];
                let Some(d) = f.decl(i) else { continue };
                if d.kind != OpKind::Consume || d.touches & bit == 0 {
                    continue;
                }
                let Some(k) = f.snap_before(o.sent_us) else {
                    continue;
                };
                if f.snapshots[k].get(&q.name).is_none_or(|r| r.limit != 0) {
                    continue;
                }
                if o.outcome == Outcome::Accepted {
                    return Judgement::fail(
                        format!(
                            "{}: order #{} of {} was accepted though snapshot #{} lists its limit as 0",
                            q.name, o.id, o.amount, f.snapshots[k].id
                        ),
                        vec![o.id, f.snapshots[k].id],
                    );
                }
                if o.outcome == Outcome::RejectedQuota {
                    t.held();
                }
            }
        }
        let nothing = if zero.is_empty() {
            "no quota was listed with limit 0".to_string()
        } else {
            format!("no order drew on a quota of 0 ({})", zero.join(", "))
        };
        t.finish("orders against a quota of 0", &nothing)
    }
}
