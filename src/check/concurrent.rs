//! Concurrent-quota rules, judged from operations that were alone between two quiescent
//! snapshots (the release probe makes them).

use super::facts::{quota_bit, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::Outcome;
use crate::vocab::{OpKind, QuotaKind};

fn concurrent_quotas(h: &History) -> Vec<(String, u64)> {
    h.header
        .quotas
        .iter()
        .filter(|q| q.kind == QuotaKind::Concurrent)
        .map(|q| (q.name.clone(), quota_bit(h, &q.name)))
        .collect()
}

/// `concurrent.cap`: a create alone after a snapshot showing the quota at its cap is
/// rejected; one alone after a snapshot showing room (in every quota it draws on) is
/// accepted. Together: the cap is exactly the listed limit.
pub struct Cap;

impl Rule for Cap {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "concurrent.cap",
            level: Level::Must,
            title: "a concurrent quota admits exactly up to its limit",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let quotas = concurrent_quotas(h);
        if quotas.is_empty() {
            return Judgement::skipped("the target declares no concurrent quota");
        }
        let mut t = Tally::default();
        for (g, i) in f.lone() {
            let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                continue;
            };
            if d.kind != OpKind::Consume || !quotas.iter().any(|(_, b)| d.touches & b != 0) {
                continue;
            }
            let before = &f.snapshots[g];
            for (name, bit) in quotas.iter().filter(|(_, b)| d.touches & b != 0) {
                let Some(r) = before.get(name) else { continue };
                let at_cap = r.consumed + o.amount > r.limit;
                match o.outcome {
                    Outcome::Accepted if at_cap => {
                        return Judgement::fail(
                            format!(
                                "{name}: create #{} was accepted though snapshot #{} showed {} of {} active",
                                o.id, before.id, r.consumed, r.limit
                            ),
                            vec![o.id, before.id],
                        )
                    }
                    Outcome::RejectedQuota if !at_cap => {
                        // Another quota it draws on may have been the full one.
                        let other_full = h.header.quotas.iter().any(|q| {
                            quota_bit(h, &q.name) & d.touches & !bit != 0
                                && before
                                    .get(&q.name)
                                    .is_none_or(|x| x.consumed + o.amount > x.limit)
                        });
                        if other_full {
                            continue;
                        }
                        return Judgement::fail(
                            format!(
                                "{name}: create #{} was rejected as over quota though snapshot #{} showed only {} of {} active",
                                o.id, before.id, r.consumed, r.limit
                            ),
                            vec![o.id, before.id],
                        );
                    }
                    Outcome::Accepted | Outcome::RejectedQuota => t.held(),
                    _ => {}
                }
            }
        }
        t.finish(
            "creates alone between snapshots",
            "no create was alone between two snapshots (add `probe: release`)",
        )
    }
}

/// `concurrent.release-frees`: a release that was accepted frees its slot: alone between
/// two snapshots, it lowers the counter.
pub struct ReleaseFrees;

impl Rule for ReleaseFrees {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "concurrent.release-frees",
            level: Level::Must,
            title: "an accepted release frees its slot",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let quotas = concurrent_quotas(h);
        if quotas.is_empty() {
            return Judgement::skipped("the target declares no concurrent quota");
        }
        let mut t = Tally::default();
        for (g, i) in f.lone() {
            let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                continue;
            };
            if d.kind != OpKind::Release || o.outcome != Outcome::Accepted {
                continue;
            }
            for (name, _) in quotas.iter().filter(|(_, b)| d.frees & b != 0) {
                let Some(rise) = f.rise(g, g + 1, name) else {
                    continue;
                };
                if rise >= 0 {
                    let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
                    return Judgement::fail(
                        format!(
                            "{name}: release #{}{} was accepted, yet the counter went from {} (snapshot #{}) to {} (snapshot #{})",
                            o.id,
                            o.object.as_deref().map(|x| format!(" of {x}")).unwrap_or_default(),
                            a.get(name).map_or(0, |r| r.consumed),
                            a.id,
                            b.get(name).map_or(0, |r| r.consumed),
                            b.id
                        ),
                        vec![o.id, a.id, b.id],
                    );
                }
                t.held();
            }
            // The create right after it, alone too, must find the freed slot.
            if let Some(j) = f.alone(g + 1) {
                let (c, after) = (&h.ops[j], &f.snapshots[g + 1]);
                let create = f
                    .decl(j)
                    .is_some_and(|x| x.kind == OpKind::Consume && x.touches & d.frees != 0);
                let room = quotas
                    .iter()
                    .filter(|(_, b)| d.frees & b != 0)
                    .all(|(name, _)| {
                        after
                            .get(name)
                            .is_some_and(|r| r.consumed + c.amount <= r.limit)
                    });
                let other_full = h.header.quotas.iter().any(|q| {
                    let bit = quota_bit(h, &q.name);
                    f.decl(j).is_some_and(|x| x.touches & bit & !d.frees != 0)
                        && after
                            .get(&q.name)
                            .is_none_or(|r| r.consumed + c.amount > r.limit)
                });
                if create && room && !other_full && c.outcome == Outcome::RejectedQuota {
                    return Judgement::fail(
                        format!(
                            "release #{} was accepted, but the next create #{} was refused as over quota though snapshot #{} lists a free slot: the release did not free it",
                            o.id, c.id, after.id
                        ),
                        vec![o.id, c.id, after.id],
                    );
                }
            }
        }
        // Slots leaked earlier (under load) show later: a lone create refused although
        // the listing shows room for more than it, after releases were accepted.
        let mut released = false;
        for g in 0..f.gaps.len() {
            for &i in &f.gaps[g].ops {
                let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                    continue;
                };
                if d.kind == OpKind::Release && o.outcome == Outcome::Accepted {
                    released = true;
                }
            }
            let Some(j) = f.alone(g) else { continue };
            let (c, Some(d)) = (&h.ops[j], f.decl(j)) else {
                continue;
            };
            if !released || d.kind != OpKind::Consume || c.outcome != Outcome::RejectedQuota {
                continue;
            }
            let before = &f.snapshots[g];
            let roomy = h.header.quotas.iter().all(|q| {
                d.touches & quota_bit(h, &q.name) == 0
                    || (q.kind == QuotaKind::Concurrent
                        && before
                            .get(&q.name)
                            .is_some_and(|r| r.consumed + c.amount < r.limit))
            });
            if roomy {
                return Judgement::fail(
                    format!(
                        "create #{} was refused as over quota though snapshot #{} lists room for more than it, after releases were accepted: released slots were not freed",
                        c.id, before.id
                    ),
                    vec![c.id, before.id],
                );
            }
        }
        t.finish(
            "releases alone between snapshots",
            "no accepted release was alone between two snapshots (add `probe: release`)",
        )
    }
}
