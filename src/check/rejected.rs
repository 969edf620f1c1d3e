//! Rejected orders are not counted.

use super::facts::{cite, kind_of, thousands, touches, Facts};
use super::{Judgement, Level, Rule, RuleInfo};
use crate::history::{History, Outcome};
use crate::target::profile::OpKind;

/// `rejected.invalid-not-counted`: between two quiescent snapshots, a counter may rise
/// by at most what was accepted (plus what may have been); a rise beyond that, in an
/// interval whose only other traffic was validation-rejected orders, convicts them.
pub struct InvalidNotCounted;

impl Rule for InvalidNotCounted {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "rejected.invalid-not-counted",
            level: Level::Must,
            title: "orders rejected by validation leave the counters untouched",
        }
    }

    fn judge(&self, h: &History, facts: &Facts) -> Judgement {
        let invalid: Vec<_> = h
            .ops
            .iter()
            .filter(|o| kind_of(h, o) == Some(OpKind::ConsumeInvalid))
            .collect();
        if invalid.is_empty() {
            return Judgement::skipped("no invalid order was sent");
        }
        let rejected: Vec<_> = invalid
            .iter()
            .filter(|o| o.outcome == Outcome::RejectedInvalid)
            .collect();
        if rejected.is_empty() {
            return Judgement::unknown(format!(
                "none of the {} invalid orders was classified rejected_invalid",
                invalid.len()
            ));
        }
        let mut judged = 0;
        for w in facts.snapshots.windows(2) {
            let (s1, t1, a) = (&w[0].0, w[0].1, &w[0].2);
            let (s2, t2, b) = (&w[1].0, w[1].1, &w[1].2);
            let between = |sent: u64, done: u64| sent >= t1 && done <= t2;
            let inv_here: Vec<u64> = rejected
                .iter()
                .filter(|o| between(o.sent_us, o.done_us))
                .map(|o| o.id)
                .collect();
            if inv_here.is_empty() {
                continue;
            }
            // Quota-rejected traffic in the same interval would blur the attribution.
            if h.ops
                .iter()
                .any(|o| between(o.sent_us, o.done_us) && o.outcome == Outcome::RejectedQuota)
            {
                continue;
            }
            // Releases only lower a counter, so for every kind of quota the rise between
            // two snapshots is bounded by what may have been accepted.
            for q in &h.header.quotas {
                let (Some(ra), Some(rb)) = (a.get(&q.name), b.get(&q.name)) else {
                    continue;
                };
                let ops_here = h
                    .ops
                    .iter()
                    .filter(|o| between(o.sent_us, o.done_us) && touches(h, o, &q.name));
                let (mut acc, mut maybe) = (0u64, 0u64);
                for o in ops_here {
                    match o.outcome {
                        Outcome::Accepted => acc += o.amount,
                        Outcome::Indeterminate => maybe += o.amount,
                        _ => {}
                    }
                }
                judged += 1;
                if rb.consumed > ra.consumed + acc + maybe {
                    let rise = rb.consumed - ra.consumed;
                    return Judgement::fail(
                        format!(
                            "{}: consumed rose by {} between snapshots #{s1} and #{s2} while only {} were accepted; {} validation-rejected orders were sent in between ({})",
                            q.name,
                            thousands(rise),
                            thousands(acc + maybe),
                            inv_here.len(),
                            cite(&inv_here, 6)
                        ),
                        inv_here,
                    );
                }
            }
        }
        if judged == 0 {
            return Judgement::unknown("no pair of quiescent snapshots brackets the validation-rejected orders without quota rejections".into());
        }
        Judgement::pass(Some(format!(
            "{} validation-rejected orders; counters unchanged by them",
            rejected.len()
        )))
    }
}
