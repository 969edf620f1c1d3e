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
        let scoped = super::parents::scoped(h, f);
        if quotas.is_empty() && scoped.is_empty() {
            return Judgement::skipped("the target declares no concurrent or scoped quota");
        }
        let mut t = Tally::default();
        if let Some(j) = scoped_frees(h, f, &scoped, &mut t) {
            return j;
        }
        for (g, i) in f.lone() {
            let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                continue;
            };
            // Releases of scoped quotas were judged in their parent above.
            let frees_concurrent = quotas.iter().any(|(_, b)| d.frees & b != 0);
            if !frees_concurrent || d.kind != OpKind::Release || o.outcome != Outcome::Accepted {
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
        let mut released = quotas.is_empty() || f.carried.released;
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

/// A scoped quota, in the released object's own parent: an accepted release alone
/// between two snapshots that both list the parent lowers its count; the consume alone
/// right after it in the same parent, with the second snapshot showing room there, is
/// admitted; and a consume alone later in a parent where releases were accepted is not
/// refused while its parent shows room for more than it (a slot leaked under load).
fn scoped_frees(
    h: &History,
    f: &Facts,
    scoped: &[super::parents::Scoped],
    t: &mut Tally,
) -> Option<Judgement> {
    for sq in scoped {
        let Some(limit) = sq.limit(f) else { continue };
        let count = |g: usize, parent: &str| f.snapshots[g].get(&sq.quota)?.in_parent(parent);
        // Other quotas the consume draws on that may have been full.
        let other_full = |g: usize, j: usize| {
            let (c, Some(d)) = (&h.ops[j], f.decl(j)) else {
                return true;
            };
            h.header.quotas.iter().any(|q| {
                let bit = quota_bit(h, &q.name);
                d.touches & bit & !sq.bit != 0
                    && (q.kind == QuotaKind::Scoped
                        || f.snapshots[g]
                            .get(&q.name)
                            .is_none_or(|r| r.consumed + c.amount > r.limit))
            })
        };
        let consume_in = |j: usize, parent: &str| {
            f.decl(j)
                .is_some_and(|x| x.kind == OpKind::Consume && x.touches & sq.bit != 0)
                && h.ops[j].parent.as_deref() == Some(parent)
        };
        for (g, i) in f.lone() {
            let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                continue;
            };
            let Some(parent) = o.parent.as_deref() else {
                continue;
            };
            if d.kind != OpKind::Release || d.frees & sq.bit == 0 || o.outcome != Outcome::Accepted
            {
                continue;
            }
            let (Some(a), Some(b)) = (count(g, parent), count(g + 1, parent)) else {
                t.undecided(|| {
                    format!(
                        "release #{}: a snapshot around it does not list {parent}",
                        o.id
                    )
                });
                continue;
            };
            let (sa, sb) = (&f.snapshots[g], &f.snapshots[g + 1]);
            if b >= a {
                return Some(Judgement::fail(
                    format!(
                        "{} in {parent}: release #{}{} was accepted, yet the parent's count went from {a} (snapshot #{}) to {b} (snapshot #{})",
                        sq.quota,
                        o.id,
                        o.object.as_deref().map(|x| format!(" of {x}")).unwrap_or_default(),
                        sa.id,
                        sb.id
                    ),
                    vec![o.id, sa.id, sb.id],
                ));
            }
            t.held();
            let Some(j) = f.alone(g + 1) else { continue };
            let c = &h.ops[j];
            if consume_in(j, parent)
                && c.outcome == Outcome::RejectedQuota
                && b + c.amount <= limit
                && !other_full(g + 1, j)
            {
                return Some(Judgement::fail(
                    format!(
                        "{} in {parent}: release #{} was accepted, but the next consume #{} there was refused as over quota though snapshot #{} lists {b} of {limit}: the release did not free its slot",
                        sq.quota, o.id, c.id, sb.id
                    ),
                    vec![o.id, c.id, sb.id],
                ));
            }
        }
        // Leaked earlier: a lone consume refused in a parent that lists room for more
        // than it, after releases there were accepted.
        for (g, j) in f.lone() {
            let c = &h.ops[j];
            let Some(parent) = c.parent.as_deref() else {
                continue;
            };
            if !consume_in(j, parent) || c.outcome != Outcome::RejectedQuota || other_full(g, j) {
                continue;
            }
            let released = sq.parents.get(parent).is_some_and(|l| {
                l.releases.iter().any(|&r| {
                    let r = &h.ops[r];
                    r.outcome == Outcome::Accepted && r.done_us <= f.snapshots[g].sent
                })
            });
            let Some(n) = count(g, parent) else { continue };
            if released && n + c.amount < limit {
                return Some(Judgement::fail(
                    format!(
                        "{} in {parent}: consume #{} was refused as over quota though snapshot #{} lists {n} of {limit} there, after releases in it were accepted: released slots were not freed",
                        sq.quota,
                        c.id,
                        f.snapshots[g].id
                    ),
                    vec![c.id, f.snapshots[g].id],
                ));
            }
        }
    }
    None
}
