//! Isolation: one tenant's orders never move another tenant's counters, and never
//! count against another tenant's admission.

use super::facts::{Facts, Snap};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::OpKind;
use crate::vocab::Outcome;

/// `isolation.tenants`, three checks: (1) two snapshots of the other tenant, with orders
/// accepted on the main tenant in between and nothing sent for the other tenant, read
/// the same counters; (2) two quiescent snapshots of the main tenant, with orders
/// accepted on the other tenant in between and nothing sent for the main tenant, read
/// the same counters; (3) an order on the other tenant refused as over quota right
/// after the other's own snapshot showed room for it (nothing sent for it in between)
/// means its admission counted another tenant's use; one admitted there holds; (4) the
/// same on the main tenant: a probe's order refused right after the main tenant's own
/// snapshot showed room, while the other tenant's latest snapshot shows it using those
/// quotas, means the main tenant's admission counted the other's use.
pub struct Tenants;

/// Whether an operation of another tenant than `tenant` that may change counters was
/// sent in `(from, to)`.
fn other_effect(h: &History, f: &Facts, tenant: &str, from: u64, to: u64) -> bool {
    h.ops.iter().enumerate().any(|(i, o)| {
        o.tenant != tenant
            && o.sent_us < to
            && o.done_us > from
            && f.decl(i).is_some_and(|d| super::facts::effectful(d.kind))
            && o.outcome != Outcome::NotSent
    })
}

impl Rule for Tenants {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "isolation.tenants",
            level: Level::Must,
            title: "one tenant's orders never count against another tenant",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if f.others.is_empty() {
            return Judgement::skipped(
                "no snapshot of another tenant (set target.other_tenant and add `probe: isolation`)",
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
            let other = h.ops[a.index].tenant.as_str();
            let sent_for_other = h.ops.iter().enumerate().any(|(i, o)| {
                o.tenant.as_str() == other
                    && o.sent_us < b.sent
                    && o.done_us > a.done
                    && f.decl(i).is_some_and(|d| super::facts::effectful(d.kind))
                    && o.outcome != Outcome::NotSent
            });
            if sent_for_other {
                continue;
            }
            let mut between: Vec<u64> = h
                .ops
                .iter()
                .enumerate()
                .filter(|(i, o)| {
                    o.sent_us >= a.done
                        && o.done_us <= b.sent
                        && o.tenant == f.tenant
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
            if let Some((name, from, to)) = first_move(a, b) {
                return Judgement::fail(
                    format!(
                        "{name} of tenant {:?} moved from {from} (snapshot #{}) to {to} (snapshot #{}) while only tenant {:?} sent orders ({} accepted, e.g. #{})",
                        h.ops[a.index].tenant, a.id, b.id, h.header.tenant, between.len(), between[0]
                    ),
                    cited(&between, b.id),
                );
            }
            t.held();
        }
        // (2) The other way round: the main tenant's counters across the other's orders.
        for (w, gap) in f.snapshots.windows(2).zip(&f.gaps) {
            let (a, b) = (&w[0], &w[1]);
            if !gap.ops.is_empty() || gap.dirty || f.clock_moved(h, a.done, b.sent) {
                continue;
            }
            let between: Vec<u64> = h
                .ops
                .iter()
                .enumerate()
                .filter(|(i, o)| {
                    o.sent_us >= a.done
                        && o.done_us <= b.sent
                        && o.tenant != f.tenant
                        && o.outcome == Outcome::Accepted
                        && f.decl(*i).is_some_and(|d| d.kind == OpKind::Consume)
                })
                .map(|(_, o)| o.id)
                .collect();
            let Some(&first) = between.first() else {
                continue;
            };
            if let Some((name, from, to)) = first_move(a, b) {
                return Judgement::fail(
                    format!(
                        "{name} of tenant {:?} moved from {from} (snapshot #{}) to {to} (snapshot #{}) while only another tenant sent orders ({} accepted, e.g. #{first})",
                        h.header.tenant, a.id, b.id, between.len()
                    ),
                    cited(&between, b.id),
                );
            }
            t.held();
        }
        // (3) Admission on the other tenant, judged by its own counters.
        // Records carried from before a segment (`check::segment`) were judged there.
        for (i, o) in h.ops.iter().enumerate().skip(f.context) {
            if o.tenant == f.tenant
                || !matches!(o.outcome, Outcome::Accepted | Outcome::RejectedQuota)
                || f.decl(i).is_none_or(|d| d.kind != OpKind::Consume)
            {
                continue;
            }
            let Some(s) = f
                .others
                .iter()
                .rfind(|s| s.done <= o.sent_us && h.ops[s.index].tenant == o.tenant)
            else {
                continue;
            };
            if other_effect(h, f, &h.header.tenant, s.done, o.sent_us) {
                continue;
            }
            let Some(decl) = h.header.operations.get(o.name.as_str()) else {
                continue;
            };
            let limited: Vec<&String> = decl
                .touches
                .iter()
                .filter(|q| {
                    h.header
                        .quotas
                        .iter()
                        .any(|d| &d.name == *q && d.kind != crate::vocab::QuotaKind::Scoped)
                })
                .collect();
            let readings: Vec<_> = limited.iter().filter_map(|q| s.get(q)).collect();
            if readings.is_empty() || readings.len() < limited.len() {
                continue;
            }
            let room = readings
                .iter()
                .all(|r| r.limit.saturating_sub(r.consumed) >= o.amount);
            if !room {
                continue;
            }
            if o.outcome == Outcome::RejectedQuota {
                let shown: Vec<String> = readings
                    .iter()
                    .map(|r| format!("{} {} of {}", r.name, r.consumed, r.limit))
                    .collect();
                return Judgement::fail(
                    format!(
                        "order #{} of {} on tenant {:?} was refused as over quota right after that tenant's own snapshot #{} showed room ({}): its admission counts another tenant's use",
                        o.id, o.amount, o.tenant.as_str(), s.id, shown.join(", ")
                    ),
                    vec![s.id, o.id],
                );
            }
            t.held();
        }
        // (4) Admission on the main tenant while the other holds its own use: a probe's
        // order refused right after the main tenant's own snapshot showed room.
        if let Some(j) = main_admission(h, f, &mut t) {
            return j;
        }
        t.finish(
            "pairs of other-tenant snapshots",
            "no pair of other-tenant snapshots to compare",
        )
    }
}

/// The first quota whose consumption differs between two snapshots of one tenant:
/// (name, before, after). Both directions of the isolation check ask this.
fn first_move<'a>(a: &'a Snap, b: &Snap) -> Option<(&'a str, u64, u64)> {
    a.readings.iter().find_map(|(name, ra)| {
        let rb = b.get(name)?;
        (rb.consumed != ra.consumed).then_some((name.as_str(), ra.consumed, rb.consumed))
    })
}

/// The operations a witness cites: the first five orders, then the snapshot that moved.
fn cited(orders: &[u64], snapshot: u64) -> Vec<u64> {
    let mut ops: Vec<u64> = orders.iter().take(5).copied().collect();
    ops.push(snapshot);
    ops
}

/// Check (4) of [`Tenants`]: coordinator orders on the main tenant (the isolation probe
/// sends them; workers' orders overlap one another and are judged by the limit rules).
fn main_admission(h: &History, f: &Facts, t: &mut Tally) -> Option<Judgement> {
    for (i, o) in h.ops.iter().enumerate() {
        if o.tenant != f.tenant
            || o.worker != crate::vocab::COORDINATOR
            || !matches!(o.outcome, Outcome::Accepted | Outcome::RejectedQuota)
            || f.decl(i).is_none_or(|d| d.kind != OpKind::Consume)
        {
            continue;
        }
        let Some(k) = f.snap_before(o.sent_us) else {
            continue;
        };
        let s = &f.snapshots[k];
        // Alone between two of the main tenant's snapshots: nothing else moved a counter.
        if f.alone(k) != Some(i) || f.clock_moved(h, s.done, o.done_us) {
            continue;
        }
        let Some(decl) = h.header.operations.get(o.name.as_str()) else {
            continue;
        };
        let limited: Vec<&String> = decl
            .touches
            .iter()
            .filter(|q| {
                h.header
                    .quotas
                    .iter()
                    .any(|d| &d.name == *q && d.kind != crate::vocab::QuotaKind::Scoped)
            })
            .collect();
        let readings: Vec<_> = limited.iter().filter_map(|q| s.get(q)).collect();
        if readings.is_empty() || readings.len() < limited.len() {
            continue;
        }
        if !readings
            .iter()
            .all(|r| r.limit.saturating_sub(r.consumed) >= o.amount)
        {
            continue;
        }
        // The other tenant's own use of those quotas, as it last listed them.
        let Some(os) = f.others.iter().rfind(|x| x.done <= o.sent_us) else {
            continue;
        };
        let used: Vec<String> = limited
            .iter()
            .filter_map(|q| os.get(q))
            .filter(|r| r.consumed > 0)
            .map(|r| format!("{} {} of {}", r.name, r.consumed, r.limit))
            .collect();
        if used.is_empty() {
            continue;
        }
        if o.outcome == Outcome::RejectedQuota {
            let shown: Vec<String> = readings
                .iter()
                .map(|r| format!("{} {} of {}", r.name, r.consumed, r.limit))
                .collect();
            return Some(Judgement::fail(
                format!(
                    "order #{} of {} on tenant {:?} was refused as over quota right after its own snapshot #{} showed room ({}), while tenant {:?} listed {} (snapshot #{}): its admission counts another tenant's use",
                    o.id,
                    o.amount,
                    h.header.tenant.as_str(),
                    s.id,
                    shown.join(", "),
                    h.ops[os.index].tenant.as_str(),
                    used.join(", "),
                    os.id
                ),
                vec![os.id, s.id, o.id],
            ));
        }
        t.held();
    }
    None
}
