//! Limit rules: accepted work never exceeds the limit.

use super::facts::{cite, kind_of, thousands, touches, Facts};
use super::{Judgement, Level, Rule, RuleInfo};
use crate::history::{History, Outcome};
use crate::target::profile::{OpKind, QuotaKind};

/// `limit.never-exceeded`: per period window for period quotas, at every instant for
/// concurrent ones. Only definite evidence proves an over-admission; indeterminate
/// operations widen the bounds (Jepsen's counter checker).
pub struct NeverExceeded;

impl Rule for NeverExceeded {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "limit.never-exceeded",
            level: Level::Must,
            title: "accepted work never exceeds the limit",
        }
    }

    fn judge(&self, h: &History, facts: &Facts) -> Judgement {
        let mut checked = Vec::new();
        let mut unknown = Vec::new();
        for q in &h.header.quotas {
            let ops: Vec<_> = h.ops.iter().filter(|o| touches(h, o, &q.name)).collect();
            if ops.is_empty() {
                continue;
            }
            let first_send = ops.iter().map(|o| o.sent_us).min().unwrap_or(0);
            // The baseline: the last quiescent snapshot before the first consume.
            let Some((snap_id, _, base)) = facts
                .snapshots
                .iter()
                .rfind(|s| s.1 <= first_send)
                .and_then(|s| s.2.get(&q.name).map(|r| (s.0, s.1, r.clone())))
            else {
                unknown.push(format!(
                    "{}: no snapshot before the first order, so no baseline",
                    q.name
                ));
                continue;
            };
            // A list read above the limit is the target confessing an over-admission.
            for o in &h.ops {
                if let Some(r) = o
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.iter().find(|r| r.name == q.name))
                {
                    if r.consumed > r.limit {
                        return Judgement::fail(
                            format!(
                                "{}: the target itself listed consumed {} > quota {} (list op #{})",
                                q.name,
                                thousands(r.consumed),
                                thousands(r.limit),
                                o.id
                            ),
                            vec![o.id],
                        );
                    }
                }
            }
            let limit = base.limit;
            match q.kind {
                QuotaKind::Period => {
                    if h.ops.iter().any(|o| {
                        kind_of(h, o) == Some(OpKind::AdvanceClock)
                            && o.outcome == Outcome::Accepted
                    }) {
                        // Windows across clock moves are judged by the reset rules.
                        unknown.push(format!(
                            "{}: the clock moved during the run; windows are judged by reset rules",
                            q.name
                        ));
                        continue;
                    }
                    let mut accepted: Vec<_> = ops
                        .iter()
                        .filter(|o| o.outcome == Outcome::Accepted)
                        .collect();
                    accepted.sort_by_key(|o| o.done_us);
                    let total: u64 = accepted.iter().map(|o| o.amount).sum();
                    if base.consumed + total > limit {
                        // Cite the orders past the point where the quota was full.
                        let mut run = base.consumed;
                        let over: Vec<u64> = accepted
                            .iter()
                            .filter(|o| {
                                run += o.amount;
                                run > limit
                            })
                            .map(|o| o.id)
                            .collect();
                        return Judgement::fail(
                            format!(
                                "{} window: baseline {} + {} definitely accepted = {} > quota {} (baseline from snapshot #{snap_id}; orders past the limit: {})",
                                q.name,
                                thousands(base.consumed),
                                thousands(total),
                                thousands(base.consumed + total),
                                thousands(limit),
                                cite(&over, 6)
                            ),
                            over,
                        );
                    }
                    checked.push(format!(
                        "{}: {} + {} ≤ {}",
                        q.name,
                        thousands(base.consumed),
                        thousands(total),
                        thousands(limit)
                    ));
                }
                QuotaKind::Scoped => match scoped(h, &q.name, limit) {
                    Ok(note) => checked.push(note),
                    Err(j) => return j,
                },
                QuotaKind::Concurrent => {
                    // Lower bound of active objects at each instant: consumes certainly done,
                    // minus every release that may have taken effect.
                    let consume_names: Vec<&str> = h
                        .header
                        .operations
                        .iter()
                        .filter(|(_, d)| d.touches.iter().any(|t| t == &q.name))
                        .map(|(n, _)| n.as_str())
                        .collect();
                    let mut events: Vec<(u64, i64, u64)> = Vec::new();
                    for o in &h.ops {
                        let Some(d) = h.header.operations.get(&o.name) else {
                            continue;
                        };
                        if d.kind == OpKind::Consume
                            && consume_names.contains(&o.name.as_str())
                            && o.outcome == Outcome::Accepted
                        {
                            events.push((o.done_us, 1, o.id));
                        } else if d.kind == OpKind::Release
                            && d.releases
                                .as_deref()
                                .is_some_and(|r| consume_names.contains(&r))
                            && matches!(o.outcome, Outcome::Accepted | Outcome::Indeterminate)
                        {
                            events.push((o.sent_us, -1, o.id));
                        }
                    }
                    // Releases first at equal times: the bound stays a lower bound.
                    events.sort_by_key(|e| (e.0, e.1));
                    let mut active = base.consumed as i64;
                    let mut recent: Vec<u64> = Vec::new();
                    for (t, d, id) in events {
                        active += d;
                        if d > 0 {
                            recent.push(id);
                        }
                        if active > limit as i64 {
                            let cited: Vec<u64> =
                                recent.iter().rev().take(6).rev().copied().collect();
                            return Judgement::fail(
                                format!(
                                    "{}: at t={:.3}s at least {} active > quota {} (baseline {} from snapshot #{snap_id}; latest accepted: {})",
                                    q.name,
                                    t as f64 / 1e6,
                                    active,
                                    limit,
                                    base.consumed,
                                    cite(&cited, 6)
                                ),
                                cited,
                            );
                        }
                    }
                    checked.push(format!("{}: active ≤ {}", q.name, limit));
                }
            }
        }
        if !unknown.is_empty() && checked.is_empty() {
            return Judgement::unknown(unknown.join("; "));
        }
        if checked.is_empty() {
            return Judgement::skipped("no consume operation was sent");
        }
        Judgement::pass(Some(checked.join("; ")))
    }
}

/// A scoped quota bounds each parent on its own (destinations per configuration).
/// Parents created during the run start at 0; others have no known baseline and are
/// left to the listing rules.
fn scoped(h: &History, quota: &str, limit: u64) -> Result<String, Judgement> {
    use std::collections::BTreeMap;
    let created: std::collections::HashSet<&str> = h
        .ops
        .iter()
        .filter(|o| kind_of(h, o) == Some(OpKind::Setup) && o.outcome == Outcome::Accepted)
        .filter_map(|o| o.object.as_deref())
        .collect();
    let consumes: Vec<&str> = h
        .header
        .operations
        .iter()
        .filter(|(_, d)| d.kind == OpKind::Consume && d.touches.iter().any(|t| t == quota))
        .map(|(n, _)| n.as_str())
        .collect();
    let mut events: BTreeMap<&str, Vec<(u64, i64, u64)>> = BTreeMap::new();
    for o in &h.ops {
        let (Some(d), Some(parent)) = (h.header.operations.get(&o.name), o.parent.as_deref())
        else {
            continue;
        };
        if !created.contains(parent) {
            continue;
        }
        if d.kind == OpKind::Consume
            && consumes.contains(&o.name.as_str())
            && o.outcome == Outcome::Accepted
        {
            events.entry(parent).or_default().push((o.done_us, 1, o.id));
        } else if d.kind == OpKind::Release
            && d.releases.as_deref().is_some_and(|r| consumes.contains(&r))
            && matches!(o.outcome, Outcome::Accepted | Outcome::Indeterminate)
        {
            events
                .entry(parent)
                .or_default()
                .push((o.sent_us, -1, o.id));
        }
    }
    let parents = events.len();
    for (parent, mut ev) in events {
        ev.sort_by_key(|e| (e.0, e.1));
        let mut active = 0i64;
        let mut ids = Vec::new();
        for (t, d, id) in ev {
            active += d;
            if d > 0 {
                ids.push(id);
            }
            if active > limit as i64 {
                let cited: Vec<u64> = ids.iter().rev().take(6).rev().copied().collect();
                return Err(Judgement::fail(
                    format!(
                        "{quota} in {parent}: at t={:.3}s at least {active} active > quota {limit} (accepted: {})",
                        t as f64 / 1e6,
                        cite(&cited, 6)
                    ),
                    cited,
                ));
            }
        }
    }
    Ok(format!("{quota}: ≤ {limit} in each of {parents} parents"))
}
