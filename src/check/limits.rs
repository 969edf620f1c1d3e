//! Limit rules: accepted work never exceeds the limit; quota rejections are justified
//! and look as the target declares.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::facts::{cite, quota_bit, thousands, window_name, window_start, Facts, Snap};
use super::ledger::Ledger;
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::History;
use crate::vocab::{OpKind, PeriodDecl, QuotaDecl, QuotaKind};
use crate::vocab::{Outcome, Reading};

/// `limit.never-exceeded`: per period window for period quotas (windows follow the
/// target's clock, moves included), at every instant for concurrent ones, per parent for
/// scoped ones. Only definite evidence proves an over-admission; indeterminate
/// operations only widen the bounds (Jepsen's counter checker).
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
        // A list read above the limit is the target confessing an over-admission.
        for o in facts
            .order
            .iter()
            .filter(|&&i| facts.briefs[i].listed && facts.briefs[i].main)
            .map(|&i| &h.ops[i])
        {
            let Some(s) = &o.snapshot else { continue };
            if let Some(r) = s.iter().find(|r| r.consumed > r.limit) {
                // A scoped quota's consumption is its fullest parent's count: name it.
                let parent = r.parents.as_ref().and_then(|m| {
                    m.iter()
                        .find(|(_, &n)| n == r.consumed)
                        .map(|(p, _)| format!(" in {p}"))
                });
                return Judgement::fail(
                    format!(
                        "{}{}: the target itself listed consumed {} > quota {} (list op #{})",
                        r.name,
                        parent.unwrap_or_default(),
                        thousands(r.consumed),
                        thousands(r.limit),
                        o.id
                    ),
                    vec![o.id],
                );
            }
        }
        let mut t = Tally::default();
        for q in &h.header.quotas {
            let bit = quota_bit(h, &q.name);
            let any = (0..h.ops.len()).any(|i| {
                facts
                    .decl(i)
                    .is_some_and(|d| d.kind == OpKind::Consume && d.touches & bit != 0)
            });
            if !any {
                continue;
            }
            let limit = facts
                .snapshots
                .iter()
                .rev()
                .find_map(|s| s.get(&q.name))
                .map(|r| r.limit);
            let Some(limit) = limit else {
                t.undecided(|| format!("{}: never listed, so its limit is unknown", q.name));
                continue;
            };
            let r = match q.kind {
                QuotaKind::Period => period(h, facts, &q.name, bit, q.period.as_ref(), &mut t),
                QuotaKind::Concurrent => concurrent(h, facts, &q.name, bit, limit, &mut t),
                QuotaKind::Scoped => {
                    let s = super::parents::scoped(h, facts)
                        .into_iter()
                        .find(|s| s.quota == q.name);
                    match s {
                        Some(s) => scoped(h, facts, &s, limit, &mut t),
                        None => Ok(()),
                    }
                }
            };
            if let Err(j) = r {
                return j;
            }
        }
        t.finish("quotas", "no consume operation was sent")
    }
}

/// Period quotas: in each window, the baseline (the first quiescent snapshot in the
/// window, or 0 for a window that began during the run) plus what was definitely
/// accepted after it must stay within the limit.
fn period(
    h: &History,
    f: &Facts,
    name: &str,
    bit: u64,
    decl: Option<&PeriodDecl>,
    t: &mut Tally,
) -> Result<(), Judgement> {
    let Some(p) = decl else {
        t.undecided(|| format!("{name}: no period declared, so its windows are unknown"));
        return Ok(());
    };
    match p {
        PeriodDecl::FirstHit(len) => return first_hit(h, f, name, bit, len.0, t),
        PeriodDecl::Sliding(len) => return sliding(h, f, name, bit, len.0, t),
        PeriodDecl::Daily | PeriodDecl::Monthly | PeriodDecl::Fixed(_) => {}
    }
    // Window of each accepted consume, from the target's clock.
    let win = |at: u64| f.window_at(h, p, at);
    let mut windows: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let mut ambiguous = 0usize;
    for &i in &f.order {
        let b = f.briefs[i];
        if !b.main || b.outcome != Outcome::Accepted {
            continue;
        }
        let Some(d) = f.decl(i) else { continue };
        if d.kind != OpKind::Consume || d.touches & bit == 0 {
            continue;
        }
        let o = &h.ops[i];
        match (win(o.sent_us), win(o.done_us)) {
            (Some(a), Some(b)) if a == b => windows.entry(a).or_default().push(i),
            _ => ambiguous += 1,
        }
    }
    if ambiguous > 0 {
        t.undecided(|| format!("{name}: {ambiguous} accepted orders near a window boundary"));
    }
    let run_start = f.target_time(h, 0).1;
    for (w, ops) in windows {
        let base: Option<&Snap> = f
            .snapshots
            .iter()
            .find(|s| win(s.sent) == Some(w) && win(s.done) == Some(w) && s.get(name).is_some());
        // Orders that overlap the baseline snapshot (only in a merged history: another
        // shard's, or any widened by a shard's clock bound) may or may not be in its
        // count: within the limit either way, or undecided.
        let mut overlapping = 0u64;
        let (consumed, from, limit, origin) = match base {
            Some(s) => {
                let r = s.get(name).expect("checked above");
                overlapping = ops
                    .iter()
                    .map(|&i| &h.ops[i])
                    .filter(|o| o.sent_us < s.done && o.done_us > s.sent)
                    .map(|o| o.amount)
                    .sum();
                (r.consumed, s.done, r.limit, format!("snapshot #{}", s.id))
            }
            None => {
                let began_in_run = window_start(p, w).is_some_and(|s| s >= run_start);
                let limit = f
                    .snapshots
                    .iter()
                    .rev()
                    .find_map(|s| s.get(name))
                    .map(|r| r.limit);
                match (began_in_run, limit) {
                    (true, Some(l)) => (0, 0, l, "the window began during the run".to_string()),
                    _ => {
                        t.undecided(|| format!("{name}: no snapshot in {}", window_name(p, w)));
                        continue;
                    }
                }
            }
        };
        let after: Vec<usize> = ops
            .into_iter()
            .filter(|&i| h.ops[i].sent_us >= from)
            .collect();
        let total: u64 = after.iter().map(|&i| h.ops[i].amount).sum();
        if consumed + total > limit {
            let mut run = consumed;
            let mut sorted = after.clone();
            sorted.sort_by_key(|&i| h.ops[i].done_us);
            let over: Vec<u64> = sorted
                .iter()
                .filter(|&&i| {
                    run += h.ops[i].amount;
                    run > limit
                })
                .map(|&i| h.ops[i].id)
                .collect();
            return Err(Judgement::fail(
                format!(
                    "{name} window {}: baseline {} ({origin}) + {} definitely accepted = {} > quota {} (orders past the limit: {})",
                    window_name(p, w),
                    thousands(consumed),
                    thousands(total),
                    thousands(consumed + total),
                    thousands(limit),
                    cite(&over, 6)
                ),
                over,
            ));
        }
        if consumed + total + overlapping > limit {
            t.undecided(|| {
                format!(
                    "{name} {}: {} units of accepted orders overlap the baseline ({origin}), so whether {} + {} ≤ {} holds depends on where they fell (a merged run's clock bound)",
                    window_name(p, w),
                    thousands(overlapping),
                    thousands(consumed),
                    thousands(total),
                    thousands(limit)
                )
            });
            continue;
        }
        t.held_note(format!(
            "{name} {}: {} + {} ≤ {}",
            window_name(p, w),
            thousands(consumed),
            thousands(total),
            thousands(limit)
        ));
    }
    Ok(())
}

/// The accepted consumes of the main tenant drawing on quota bit `bit`.
fn accepted(f: &Facts, bit: u64) -> impl Iterator<Item = usize> + '_ {
    f.order.iter().copied().filter(move |&i| {
        let b = f.briefs[i];
        b.main
            && b.outcome == Outcome::Accepted
            && f.decl(i)
                .is_some_and(|d| d.kind == OpKind::Consume && d.touches & bit != 0)
    })
}

/// The limit `name` was last listed with.
fn last_limit(f: &Facts, name: &str) -> Option<u64> {
    f.snapshots
        .iter()
        .rev()
        .find_map(|s| s.get(name))
        .map(|r| r.limit)
}

/// Windows opened by the first hit: each window instance the list reads place (from the
/// window end they list) holds its baseline plus the accepted orders certainly inside it.
/// An order whose interval straddles an edge may belong to either window, so it is
/// counted in neither (never both, never a false failure).
fn first_hit(
    h: &History,
    f: &Facts,
    name: &str,
    bit: u64,
    len: std::time::Duration,
    t: &mut Tally,
) -> Result<(), Judgement> {
    if !f.clock.is_empty() {
        t.undecided(|| format!("{name}: a first-hit window across clock moves cannot be placed"));
        return Ok(());
    }
    let len_us = len.as_micros() as u64;
    let windows = super::windows::instances(h, name, len_us);
    let ops: Vec<usize> = accepted(f, bit).collect();
    if windows.is_empty() {
        if !ops.is_empty() {
            t.undecided(|| {
                format!(
                    "{name}: its windows start at the first hit and no list read reported where one ends (declare `read.expires_in`)"
                )
            });
        }
        return Ok(());
    }
    let Some(limit) = last_limit(f, name) else {
        return Ok(());
    };
    let mut placed = vec![false; ops.len()];
    for w in &windows {
        let inside: Vec<usize> = ops
            .iter()
            .enumerate()
            .filter(|(_, i)| w.surely_holds(h.ops[**i].sent_us, h.ops[**i].done_us))
            .map(|(k, &i)| {
                placed[k] = true;
                i
            })
            .collect();
        let (consumed, from, origin) = if w.start.0 >= 0 {
            (0, 0, "the window began during the run".to_string())
        } else {
            // Opened before the run: the first quiescent snapshot inside it is the base.
            let base = f.snapshots.iter().find(|s| {
                s.get(name).is_some_and(|r| {
                    super::windows::end_of(s.sent, s.done, r, 0)
                        .is_some_and(|e| e.0 <= w.end.1 && w.end.0 <= e.1)
                })
            });
            match base.and_then(|s| s.get(name).map(|r| (s, r))) {
                Some((s, r)) => (r.consumed, s.done, format!("snapshot #{}", s.id)),
                None => {
                    t.undecided(|| format!("{name}: no snapshot in the {}", w.name()));
                    continue;
                }
            }
        };
        let after: Vec<usize> = inside
            .into_iter()
            .filter(|&i| h.ops[i].sent_us >= from)
            .collect();
        let total: u64 = after.iter().map(|&i| h.ops[i].amount).sum();
        if consumed + total > limit {
            let ids: Vec<u64> = after.iter().map(|&i| h.ops[i].id).collect();
            return Err(Judgement::fail(
                format!(
                    "{name} {} (from the first hit, {len:?}): baseline {} ({origin}) + {} certainly accepted inside it = {} > quota {} (orders: {})",
                    w.name(),
                    thousands(consumed),
                    thousands(total),
                    thousands(consumed + total),
                    thousands(limit),
                    cite(&ids, 6)
                ),
                ids,
            ));
        }
        t.held_note(format!(
            "{name} {}: {} + {} ≤ {}",
            w.name(),
            thousands(consumed),
            thousands(total),
            thousands(limit)
        ));
    }
    let loose = placed.iter().filter(|p| !**p).count();
    if loose > 0 {
        t.undecided(|| {
            format!("{name}: {loose} accepted orders near a window edge or in a window no list read saw")
        });
    }
    Ok(())
}

/// Sliding windows: the accepted orders that certainly took effect within one window
/// length of each other must fit the limit (the counter only adds what came before).
fn sliding(
    h: &History,
    f: &Facts,
    name: &str,
    bit: u64,
    len: std::time::Duration,
    t: &mut Tally,
) -> Result<(), Judgement> {
    let ops: Vec<&crate::history::OpRecord> = accepted(f, bit).map(|i| &h.ops[i]).collect();
    if ops.is_empty() {
        return Ok(());
    }
    let Some(limit) = last_limit(f, name) else {
        return Ok(());
    };
    let (peak, ids) = super::windows::sliding_peak(&ops, len.as_micros() as u64);
    if peak > limit {
        return Err(Judgement::fail(
            format!(
                "{name}: {} certainly accepted within one sliding window of {len:?} > quota {} (orders: {})",
                thousands(peak),
                thousands(limit),
                cite(&ids, 6)
            ),
            ids,
        ));
    }
    t.held_note(format!(
        "{name}: at most {} certainly within one {len:?} window ≤ {}",
        thousands(peak),
        thousands(limit)
    ));
    Ok(())
}

/// Concurrent quotas: a lower bound of the active objects at every instant (consumes
/// certainly done, minus every release that may have taken effect) stays within the limit.
fn concurrent(
    h: &History,
    f: &Facts,
    name: &str,
    bit: u64,
    limit: u64,
    t: &mut Tally,
) -> Result<(), Judgement> {
    // A segment's context (`check::segment`) holds consumes from before its first
    // snapshot: the baseline is the snapshot before its own first consume.
    let Some(first) = h
        .ops
        .iter()
        .enumerate()
        .skip(f.context)
        .filter(|(i, _)| {
            f.decl(*i)
                .is_some_and(|d| d.kind == OpKind::Consume && d.touches & bit != 0)
        })
        .map(|(_, o)| o.sent_us)
        .min()
    else {
        return Ok(());
    };
    let Some(k) = f.snap_before(first) else {
        t.undecided(|| format!("{name}: no snapshot before the first order, so no baseline"));
        return Ok(());
    };
    let base = &f.snapshots[k];
    let Some(b) = base.get(name) else {
        return Ok(());
    };
    let mut events: Vec<(u64, i64, u64)> = Vec::new();
    for &i in &f.order {
        let b = f.briefs[i];
        let Some(d) = f.decl(i).filter(|_| b.main) else {
            continue;
        };
        // The record is read only for an event.
        if d.kind == OpKind::Consume && d.touches & bit != 0 && b.outcome == Outcome::Accepted {
            let o = &h.ops[i];
            events.push((o.done_us, o.amount as i64, o.id));
        } else if d.kind == OpKind::Release
            && d.frees & bit != 0
            && matches!(b.outcome, Outcome::Accepted | Outcome::Indeterminate)
        {
            let o = &h.ops[i];
            events.push((o.sent_us, -1, o.id));
        }
    }
    // Releases first at equal times: the bound stays a lower bound.
    events.sort_by_key(|e| (e.0, e.1));
    let mut active = b.consumed as i64;
    let mut recent: Vec<u64> = Vec::new();
    for (at, d, id) in events {
        active += d;
        if d > 0 {
            recent.push(id);
        }
        if active > limit as i64 {
            let cited: Vec<u64> = recent.iter().rev().take(6).rev().copied().collect();
            return Err(Judgement::fail(
                format!(
                    "{name}: at t={:.3}s at least {active} active > quota {limit} (baseline {} from snapshot #{}; latest accepted: {})",
                    at as f64 / 1e6,
                    b.consumed,
                    base.id,
                    cite(&cited, 6)
                ),
                cited,
            ));
        }
    }
    t.held_note(format!("{name}: active ≤ {limit}"));
    Ok(())
}

/// `limit.rejection-justified`: an order rejected as over quota must have met a quota
/// that could have been full at some instant of its interval: its baseline plus
/// everything possibly accepted by the time it completed, plus its own amount, exceeds
/// the limit. Releases and resets only lower a counter, so ignoring them keeps this an
/// upper bound.
pub struct RejectionJustified;

impl Rule for RejectionJustified {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "limit.rejection-justified",
            level: Level::Must,
            title: "an order is rejected as over quota only when a quota could have been full",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let quotas = unscoped_ledgers(h, f);
        // Scoped quotas are judged in the order's own parent.
        let scoped = super::parents::scoped(h, f);
        let known = quotas
            .iter()
            .map(|(_, b, _)| b)
            .chain(scoped.iter().map(|s| &s.bit));
        let known = known.fold(0, |m, b| m | b);
        let mut t = Tally::default();
        let mut at: AtSnapshot<'_, u64> = (usize::MAX, Vec::new());
        for &i in &f.order {
            let b = f.briefs[i];
            let Some(d) = f.decl(i) else { continue };
            if d.kind != OpKind::Consume || b.outcome != Outcome::RejectedQuota || !b.main {
                continue;
            }
            let o = &h.ops[i];
            let Some(k) = f.snap_before(o.sent_us) else {
                t.undecided(|| format!("#{}: no snapshot before it", o.id));
                continue;
            };
            let s = &f.snapshots[k];
            // What the order is judged against at snapshot k, asked of every refused
            // order after it (most orders of a long run): found once per snapshot.
            if at.0 != k {
                at = (
                    k,
                    quotas
                        .iter()
                        .map(|(q, _, l)| (s.get(&q.name), l.indeterminate_sent.between(0, s.sent)))
                        .collect(),
                );
            }
            let mut fits = Vec::new();
            let mut full = false;
            let mut judged = true;
            for ((q, b, l), &(r, before)) in quotas.iter().zip(&at.1) {
                if d.touches & b == 0 {
                    continue;
                }
                let Some(r) = r else {
                    judged = false;
                    continue;
                };
                // Indeterminate orders sent before the snapshot may have taken effect
                // after it (a gateway answered while the upstream still worked).
                let possible = l.possible_sent.between(s.sent, o.done_us) + before;
                let upper = r.consumed + possible;
                if upper + o.amount > r.limit {
                    full = true;
                    break;
                }
                // Worded only if the order fitted every quota (a failure).
                fits.push((&q.name, upper, r, possible));
            }
            let mut fits: Vec<String> = if full {
                Vec::new()
            } else {
                fits.into_iter()
                .map(|(name, upper, r, possible)| format!(
                    "{name} had at most {} of {} consumed (baseline {} at snapshot #{} + at most {} possibly accepted since)",
                    thousands(upper),
                    thousands(r.limit),
                    thousands(r.consumed),
                    s.id,
                    thousands(possible)
                ))
                .collect()
            };
            let mut unknown_parent = None;
            for sq in scoped.iter().filter(|sq| d.touches & sq.bit != 0) {
                if full {
                    break;
                }
                let (Some(parent), Some(limit)) = (o.parent.as_deref(), sq.limit(f)) else {
                    judged = false;
                    continue;
                };
                let Some(b) = sq.base(f, parent, o.sent_us) else {
                    unknown_parent = Some(format!("{} in {parent}", sq.quota));
                    continue;
                };
                let upper = sq.upper(h, parent, &b, o.done_us, o.id);
                if upper + o.amount > limit {
                    full = true;
                    break;
                }
                fits.push(format!(
                    "{} in {parent} had at most {} of {} (count {} from {} + at most {} possibly accepted in it since)",
                    sq.quota,
                    thousands(upper),
                    thousands(limit),
                    thousands(b.count),
                    b.origin,
                    thousands(upper - b.count)
                ));
            }
            // A quota the order touches that is unlisted may have been full.
            let hidden = d.touches & !known != 0;
            if full || hidden || !judged || unknown_parent.is_some() {
                if full {
                    t.held();
                } else if let Some(p) = unknown_parent {
                    t.undecided(|| format!("#{}: the count of {p} is not known (never listed, not created by the run)", o.id));
                } else {
                    t.undecided(|| format!("#{}: a quota it draws on is not listed", o.id));
                }
                continue;
            }
            return Judgement::fail(
                format!(
                    "order #{} of {} was rejected as over quota, yet {}: it fitted",
                    o.id,
                    thousands(o.amount),
                    fits.join("; ")
                ),
                vec![o.id],
            );
        }
        t.finish("quota rejections", "no order was rejected as over quota")
    }
}

/// The quotas other than scoped ones, each with its bit and ledger: looked up once per
/// rule, not per order (a ledger lookup takes the facts' lock).
fn unscoped_ledgers<'h>(h: &'h History, f: &Facts) -> Vec<(&'h QuotaDecl, u64, Arc<Ledger>)> {
    h.header
        .quotas
        .iter()
        .filter(|q| q.kind != QuotaKind::Scoped)
        .map(|q| {
            let bit = quota_bit(h, &q.name);
            (q, bit, f.ledger(h, bit))
        })
        .collect()
}

/// The snapshot a refused order is judged against (its index) and, per quota, its
/// reading and what a rule needs of that quota there.
type AtSnapshot<'f, T> = (usize, Vec<(Option<&'f Reading>, T)>);

/// `limit.rejection-shape`: an order that must be over quota (a lower bound of the
/// counter plus its amount exceeds the limit) is answered with the declared
/// quota-rejection class, not an error or a validation rejection.
pub struct RejectionShape;

impl Rule for RejectionShape {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "limit.rejection-shape",
            level: Level::Must,
            title: "an order over quota gets the declared quota rejection, not an error",
        }
    }

    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        let mut t = Tally::default();
        let quotas = unscoped_ledgers(h, f);
        let probe = crate::vocab::Sym::new("probe.credentials");
        let mut at: AtSnapshot<'_, Option<i64>> = (usize::MAX, Vec::new());
        for &i in &f.order {
            let b = f.briefs[i];
            // Only a definite refusal has a shape to judge: no answer (indeterminate,
            // not sent) and a rate limit (not a quota decision) say nothing about it.
            if !b.main || matches!(b.outcome, Outcome::Accepted | Outcome::RejectedRate) {
                continue;
            }
            let o = &h.ops[i];
            let Some(d) = f.decl(i) else { continue };
            if d.kind != OpKind::Consume || o.op == probe || super::no_answer(o) {
                continue;
            }
            let Some(k) = f.snap_before(o.sent_us) else {
                continue;
            };
            let s = &f.snapshots[k];
            if f.clock_moved(h, s.sent, o.done_us) {
                continue;
            }
            // Each quota's reading at snapshot k and the window it was sent in, asked
            // of every refused order after it: found once per snapshot.
            if at.0 != k {
                at = (
                    k,
                    quotas
                        .iter()
                        .map(|(q, _, _)| {
                            (
                                s.get(&q.name),
                                q.period.as_ref().and_then(|p| f.window_at(h, p, s.sent)),
                            )
                        })
                        .collect(),
                );
            }
            let mut must = None;
            for ((q, bit, l), &(r, window)) in quotas.iter().zip(&at.1) {
                let Some(r) = r.filter(|_| d.touches & bit != 0) else {
                    continue;
                };
                if let Some(p) = &q.period {
                    if window.is_none() || window != f.window_at(h, p, o.done_us) {
                        continue;
                    }
                }
                let lower = (r.consumed + l.accepted_done.after_upto(s.done, o.sent_us))
                    .saturating_sub(l.maybe_released_sent.between(s.sent, o.done_us));
                if lower + o.amount > r.limit {
                    must = Some((q.name.clone(), lower, r.limit));
                    break;
                }
            }
            let Some((name, lower, limit)) = must else {
                continue;
            };
            if o.outcome == Outcome::RejectedQuota {
                t.held();
                continue;
            }
            let answer = match o.status {
                Some(st) => format!("{st} ({})", o.outcome.as_str()),
                None => o.outcome.as_str().to_string(),
            };
            return Judgement::fail(
                format!(
                    "order #{} of {} had to be over quota ({name}: at least {} of {} already consumed) but was answered {answer}, not the declared quota rejection",
                    o.id,
                    thousands(o.amount),
                    thousands(lower),
                    thousands(limit)
                ),
                vec![o.id],
            );
        }
        t.finish(
            "orders that had to be over quota",
            "no order certainly over quota was sent",
        )
    }
}

/// A scoped quota bounds each parent on its own (destinations per configuration): from
/// the parent's first known count before its first consume (a snapshot listing it, or
/// 0 at its creation by the run), a lower bound of its count at every instant —
/// consumes certainly done, minus every release that may have taken effect — stays
/// within the limit. A parent with no known count is left undecided.
fn scoped(
    h: &History,
    f: &Facts,
    s: &super::parents::Scoped,
    limit: u64,
    t: &mut Tally,
) -> Result<(), Judgement> {
    let quota = &s.quota;
    let mut judged = 0usize;
    for (parent, log) in &s.parents {
        let Some(first) = log.consumes.iter().map(|&i| h.ops[i].sent_us).min() else {
            continue;
        };
        let Some(b) = s.base(f, parent, first) else {
            t.undecided(|| format!("{quota} in {parent}: no count known before its first consume"));
            continue;
        };
        let mut events: Vec<(u64, i64, u64)> = Vec::new();
        for &i in &log.consumes {
            let o = &h.ops[i];
            if o.outcome == Outcome::Accepted && o.sent_us >= b.done {
                events.push((o.done_us, o.amount as i64, o.id));
            }
        }
        for &i in &log.releases {
            let o = &h.ops[i];
            let late = o.outcome == Outcome::Indeterminate;
            if (o.outcome == Outcome::Accepted && o.done_us > b.sent) || late {
                events.push((o.sent_us.max(b.done), -1, o.id));
            }
        }
        // Releases first at equal times: the bound stays a lower bound.
        events.sort_by_key(|e| (e.0, e.1));
        let mut active = b.count as i64;
        let mut ids = Vec::new();
        for (at, d, id) in events {
            active += d;
            if d > 0 {
                ids.push(id);
            }
            if active > limit as i64 {
                let cited: Vec<u64> = ids.iter().rev().take(6).rev().copied().collect();
                return Err(Judgement::fail(
                    format!(
                        "{quota} in {parent}: at t={:.3}s at least {active} active > quota {limit} (baseline {} from {}; latest accepted: {})",
                        at as f64 / 1e6,
                        b.count,
                        b.origin,
                        cite(&cited, 6)
                    ),
                    cited,
                ));
            }
        }
        judged += 1;
    }
    if judged > 0 {
        t.held_note(format!("{quota}: ≤ {limit} in each of {judged} parents"));
    }
    Ok(())
}
