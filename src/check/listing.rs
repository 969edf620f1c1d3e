//! Listing rules: the list operation is the only window onto the counters, so it must
//! show every quota, filter correctly, and report stable, coherent values.

use std::collections::BTreeMap;

use super::facts::{quota_bit, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::Outcome;
use crate::vocab::{OpKind, QuotaKind};

/// How a list record's note starts when values it listed fall outside what the profile
/// allows (negative, non-integer, `remaining` above the limit). The same words as
/// `vocab::OUT_OF_RANGE_NOTE` of the request path, which records such answers as
/// `accepted` with the representable readings and every problem in the note.
pub const OUT_OF_RANGE_NOTE: &str = "value out of range: ";

/// The profile operation the coordinator lists with (the unfiltered list).
fn default_list(h: &History, f: &Facts) -> Option<crate::vocab::Sym> {
    f.snapshots.first().map(|s| h.ops[s.index].name)
}

/// `listing.complete`: every list read answers for every quota the profile declares.
pub struct Complete;

impl Rule for Complete {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "listing.complete",
            level: Level::Must,
            title: "the list shows every declared quota",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let full = default_list(h, f);
        let mut t = Tally::default();
        for &i in &f.order {
            let o = &h.ops[i];
            if Some(&o.name) != full.as_ref() {
                continue;
            }
            if o.outcome == Outcome::Error
                && o.note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("list answer unreadable"))
            {
                return Judgement::fail(
                    format!(
                        "list op #{} answered in a shape the profile cannot read: {}",
                        o.id,
                        o.note.as_deref().unwrap_or("")
                    ),
                    vec![o.id],
                );
            }
            if let Some(n) = o
                .note
                .as_deref()
                .filter(|n| n.starts_with(OUT_OF_RANGE_NOTE))
            {
                return Judgement::fail(
                    format!(
                        "list op #{} listed values the profile does not allow: {}",
                        o.id,
                        &n[OUT_OF_RANGE_NOTE.len()..]
                    ),
                    vec![o.id],
                );
            }
            let Some(s) = &o.snapshot else { continue };
            let missing: Vec<&str> = h
                .header
                .quotas
                .iter()
                .filter(|q| !s.iter().any(|r| r.name == q.name))
                .map(|q| q.name.as_str())
                .collect();
            if !missing.is_empty() {
                return Judgement::fail(
                    format!("list op #{} does not show {}", o.id, missing.join(", ")),
                    vec![o.id],
                );
            }
            t.held();
        }
        t.finish("list reads", "no list was read")
    }
}

/// `listing.filter`: a filtered list (any list operation other than the one snapshots
/// use) shows exactly the quota it asked for (`filter:` in the profile) — or, when the
/// profile does not say which, at least one and only declared quotas — with the limits
/// the full list shows. A declared filter the target rejects fails too.
pub struct Filter;

impl Rule for Filter {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "listing.filter",
            level: Level::Must,
            title: "a filtered list shows exactly the quota asked for, with the same values",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if !h.header.capabilities.list_filter {
            return Judgement::skipped("the target declares no list filter (list_filter: false)");
        }
        let full = default_list(h, f);
        let mut t = Tally::default();
        for &i in &f.order {
            let o = &h.ops[i];
            if f.decl(i).map(|d| d.kind) != Some(OpKind::List) || Some(&o.name) == full.as_ref() {
                continue;
            }
            let asked = h
                .header
                .operations
                .get(o.name.as_str())
                .and_then(|d| d.filter.as_deref());
            let Some(s) = &o.snapshot else {
                match (o.outcome, asked) {
                    (
                        Outcome::RejectedInvalid | Outcome::RejectedQuota | Outcome::RejectedAuth,
                        Some(q),
                    ) => {
                        return Judgement::fail(
                            format!(
                            "filtered list op #{} asked for {q} and was refused ({}, status {})",
                            o.id,
                            o.outcome.as_str(),
                            status(o.status)
                        ),
                            vec![o.id],
                        )
                    }
                    (Outcome::Accepted, _) | (_, None) => {}
                    _ => t.undecided(|| {
                        format!(
                            "filtered list op #{} got no readable answer ({})",
                            o.id,
                            o.outcome.as_str()
                        )
                    }),
                }
                continue;
            };
            let names: Vec<&str> = s.iter().map(|r| r.name.as_str()).collect();
            let shown = || {
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            };
            if let Some(q) = asked {
                if names != [q] {
                    return Judgement::fail(
                        format!(
                            "filtered list op #{} asked for {q} and showed {}",
                            o.id,
                            shown()
                        ),
                        vec![o.id],
                    );
                }
            } else {
                let unknown: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| !h.header.quotas.iter().any(|q| q.name == *n))
                    .collect();
                if s.is_empty() || !unknown.is_empty() {
                    return Judgement::fail(
                        format!(
                            "filtered list op #{} showed {}",
                            o.id,
                            if s.is_empty() {
                                "nothing".to_string()
                            } else {
                                format!("undeclared quotas: {}", unknown.join(", "))
                            }
                        ),
                        vec![o.id],
                    );
                }
            }
            if let Some(k) = f.snap_before(o.sent_us) {
                for r in s {
                    if let Some(x) = f.snapshots[k].get(&r.name) {
                        if x.limit != r.limit {
                            return Judgement::fail(
                                format!("{}: filtered list op #{} shows limit {}, the full list (snapshot #{}) {}", r.name, o.id, r.limit, f.snapshots[k].id, x.limit),
                                vec![o.id, f.snapshots[k].id],
                            );
                        }
                    }
                }
            }
            t.held();
        }
        t.finish(
            "filtered list reads",
            "the profile has no filtered list operation, or none ran",
        )
    }
}

fn status(s: Option<u16>) -> String {
    s.map_or_else(|| "none".into(), |s| s.to_string())
}

/// `listing.unknown-filter`: a list asking for a quota that does not exist
/// (a `list_invalid` operation) is rejected by validation, not answered with some list.
pub struct UnknownFilter;

impl Rule for UnknownFilter {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "listing.unknown-filter",
            level: Level::Should,
            title: "a list filtered by an unknown quota is rejected by validation",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        if !h.header.capabilities.list_filter {
            return Judgement::skipped("the target declares no list filter (list_filter: false)");
        }
        let mut t = Tally::default();
        for &i in &f.order {
            if f.decl(i).map(|d| d.kind) != Some(OpKind::ListInvalid) {
                continue;
            }
            let o = &h.ops[i];
            let why = h
                .header
                .operations
                .get(o.name.as_str())
                .and_then(|d| d.reason.as_deref())
                .unwrap_or("an unknown filter");
            match (o.outcome, o.status) {
                (Outcome::RejectedInvalid, _) => t.held(),
                _ if super::no_answer(o) || o.outcome == Outcome::RejectedRate => t.undecided(|| {
                    format!("list op #{} ({why}) got no answer ({})", o.id, o.outcome.as_str())
                }),
                (outcome, status) => {
                    return Judgement::fail(
                        format!(
                            "list op #{} ({why}) was answered {} (status {}), not rejected by validation",
                            o.id,
                            match outcome {
                                Outcome::Accepted => "as a success",
                                other => other.as_str(),
                            },
                            self::status(status)
                        ),
                        vec![o.id],
                    )
                }
            }
        }
        t.finish(
            "lists with an unknown filter",
            "the profile has no list_invalid operation, or none ran",
        )
    }
}

/// `listing.values`: a quota's limit stays the same through the run, and quotas drawn on
/// by exactly the same operations (Adobe's daily and monthly identity quotas) move
/// together between snapshots.
pub struct Values;

impl Rule for Values {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "listing.values",
            level: Level::Should,
            title: "listed limits are stable and counters of the same orders move together",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let mut t = Tally::default();
        let mut first: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for s in &f.snapshots {
            for (name, r) in &s.readings {
                let (limit, id) = *first.entry(name.as_str()).or_insert((r.limit, s.id));
                if r.limit != limit {
                    return Judgement::fail(
                        format!("{name}: the limit changed from {limit} (snapshot #{id}) to {} (snapshot #{}) during the run", r.limit, s.id),
                        vec![id, s.id],
                    );
                }
            }
        }
        if !first.is_empty() {
            t.held();
        }
        // Quota pairs drawn on by the same set of operations.
        let users = |bit: u64| -> Vec<&str> {
            h.header
                .operations
                .iter()
                .filter(|(_, d)| d.touches.iter().any(|q| quota_bit(h, q) & bit != 0))
                .map(|(n, _)| n.as_str())
                .collect()
        };
        let period: Vec<&str> = h
            .header
            .quotas
            .iter()
            .filter(|q| q.kind == QuotaKind::Period)
            .map(|q| q.name.as_str())
            .collect();
        for (x, a) in period.iter().enumerate() {
            for b in &period[x + 1..] {
                let ua = users(quota_bit(h, a));
                if ua.is_empty() || ua != users(quota_bit(h, b)) {
                    continue;
                }
                for (g, gap) in f.gaps.iter().enumerate() {
                    let (s1, s2) = (&f.snapshots[g], &f.snapshots[g + 1]);
                    if gap.dirty || gap.ops.is_empty() || f.clock_moved(h, s1.done, s2.sent) {
                        continue;
                    }
                    let (Some(da), Some(db)) = (f.rise(g, g + 1, a), f.rise(g, g + 1, b)) else {
                        continue;
                    };
                    if da != db {
                        return Judgement::fail(
                            format!("{a} moved by {da:+} but {b} by {db:+} between snapshots #{} and #{}, though the same orders draw on both", s1.id, s2.id),
                            vec![s1.id, s2.id],
                        );
                    }
                    t.held();
                }
            }
        }
        t.finish("listed values", "no quota was listed")
    }
}

/// `listing.objects`: a scoped quota's listed count follows what was done inside each
/// parent. Alone between two snapshots that list (or, for a parent the run created in
/// between, would have to list) its parent, an accepted consume raises the parent's
/// count by its amount, an accepted release lowers it by one, and a refused consume
/// leaves it — so an attach the listing never shows, a detach it still shows, or a
/// refused attach it shows is caught.
pub struct Objects;

impl Rule for Objects {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "listing.objects",
            level: Level::Must,
            title: "a scoped quota's listed count follows the consumes and releases in each parent",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let scoped = super::parents::scoped(h, f);
        if scoped.is_empty() {
            return Judgement::skipped("the target declares no scoped quota");
        }
        let mut t = Tally::default();
        for sq in &scoped {
            for (g, i) in f.lone() {
                let (o, Some(d)) = (&h.ops[i], f.decl(i)) else {
                    continue;
                };
                let Some(parent) = o.parent.as_deref() else {
                    continue;
                };
                let (what, expect): (&str, i64) = match (d.kind, o.outcome) {
                    (OpKind::Consume, Outcome::Accepted) if d.touches & sq.bit != 0 => {
                        ("accepted consume", o.amount as i64)
                    }
                    (OpKind::Consume, Outcome::RejectedQuota | Outcome::RejectedInvalid)
                        if d.touches & sq.bit != 0 =>
                    {
                        ("refused consume", 0)
                    }
                    (OpKind::Release, Outcome::Accepted) if d.frees & sq.bit != 0 => {
                        ("accepted release", -1)
                    }
                    _ => continue,
                };
                let (sa, sb) = (&f.snapshots[g], &f.snapshots[g + 1]);
                let created_between = sq
                    .parents
                    .get(parent)
                    .and_then(|l| l.created)
                    .is_some_and(|c| c.0 >= sa.done);
                let listed = |s: &super::facts::Snap| s.get(&sq.quota)?.in_parent(parent);
                let a = listed(sa).or(created_between.then_some(0));
                let (Some(a), Some(b)) = (a, listed(sb)) else {
                    t.undecided(|| {
                        format!(
                            "{what} #{} in {parent}: snapshot #{} or #{} does not list the parent",
                            o.id, sa.id, sb.id
                        )
                    });
                    continue;
                };
                let moved = b as i64 - a as i64;
                if moved != expect {
                    return Judgement::fail(
                        format!(
                            "{} in {parent}: {what} #{}{} alone between snapshots #{} and #{}, yet the listed count went from {a} to {b} ({moved:+}, expected {expect:+})",
                            sq.quota,
                            o.id,
                            o.object.as_deref().map(|x| format!(" of {x}")).unwrap_or_default(),
                            sa.id,
                            sb.id
                        ),
                        vec![o.id, sa.id, sb.id],
                    );
                }
                t.held();
            }
        }
        t.finish(
            "lone consumes and releases in a parent",
            "no consume or release of a scoped quota was alone between two snapshots (add `probe: release`)",
        )
    }
}
