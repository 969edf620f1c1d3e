//! The budget plan: before the first phase the run reads every quota once and plans
//! what each phase will consume of each one. Phases that need room run while it exists:
//! a phase that fills a period quota to its limit (the boundary probe) is moved after
//! the phases that still need room in that quota, unless a clock move known to work
//! (a reset probe with clock control) resets it in between. At each phase's opening
//! snapshot the plan is checked against what really remains; a phase that finds less
//! than it needs is a shortfall, named with its quota, its need, what remains and when
//! it resets, and the run's verdict is then unknown, never a vacuous pass.

use std::collections::BTreeMap;

use crate::api::{CompiledOp, CompiledProfile};
use crate::scenario::{MixEntry, Phase, ProbeKind};
use crate::vocab::boundary;
use crate::vocab::units::Amount;
use crate::vocab::{BudgetEntry, BudgetPlan, OpKind, PeriodDecl, QuotaKind, Reading};

/// How much of one quota a phase takes, before knowing what is available.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Take {
    /// At most this many units.
    Units(u64),
    /// `orders` orders each sized `ceil(available / fill)`.
    Auto { orders: u64, fill: u64 },
    /// Everything that remains (a fill to the limit).
    All,
}

impl Take {
    fn of(self, available: u64) -> u64 {
        match self {
            Take::Units(u) => u.min(available),
            Take::Auto { orders, fill } => orders
                .saturating_mul(available.div_ceil(fill.max(1)).max(1))
                .min(available),
            Take::All => available,
        }
    }
}

/// One phase's demand on one quota.
#[derive(Debug, Clone)]
struct QDemand {
    take: Take,
    /// Units the phase needs at least.
    needs: u64,
    /// The phase ends with nothing of this quota held (concurrent quotas it releases).
    frees_all: bool,
    /// Every quota the same orders draw on: they are sized and bounded by the tightest.
    group: Vec<String>,
}

/// One phase's demands.
#[derive(Debug, Clone, Default)]
pub(crate) struct Demand {
    quotas: BTreeMap<String, QDemand>,
    /// A reset probe: period quotas reset when its clock moves.
    resets: bool,
    /// A boundary probe: it fills these quotas to their limit.
    exhausts: Vec<String>,
    /// A reset probe that waits for a real boundary within its `wait:`: the period
    /// quotas reset there as surely as after a clock move known to work.
    crosses: bool,
    /// What a reset probe's wait will do, for the plan's entries.
    wait_note: Option<String>,
}

/// The consume the probes send: the first drawing on a period quota, else the first.
pub(crate) fn main_consume(profile: &CompiledProfile) -> Option<&CompiledOp> {
    let kind = |q: &str| {
        profile
            .profile
            .quotas
            .iter()
            .find(|d| d.name == q)
            .map(|d| d.kind)
    };
    profile
        .ops
        .values()
        .filter(|o| o.kind == OpKind::Consume)
        .find(|o| o.touches.iter().any(|t| kind(t) == Some(QuotaKind::Period)))
        .or_else(|| profile.first_of(OpKind::Consume))
}

fn planned_kind(profile: &CompiledProfile, q: &str) -> Option<QuotaKind> {
    profile
        .profile
        .quotas
        .iter()
        .find(|d| d.name == q)
        .map(|d| d.kind)
        .filter(|k| *k != QuotaKind::Scoped)
}

/// What each phase asks of each quota.
pub(crate) fn demands(
    profile: &CompiledProfile,
    phases: &[Phase],
    mixes: &[Vec<MixEntry>],
) -> Vec<Demand> {
    phases
        .iter()
        .zip(mixes)
        .map(|(phase, mix)| {
            let mut d = Demand::default();
            let add = |d: &mut Demand, q: &str, mut qd: QDemand| {
                if planned_kind(profile, q).is_some() {
                    qd.group.retain(|g| planned_kind(profile, g).is_some());
                    d.quotas.insert(q.to_string(), qd);
                }
            };
            match phase.probe {
                Some(kind) => {
                    let main = main_consume(profile);
                    let touches = main.map(|o| o.touches.clone()).unwrap_or_default();
                    match kind {
                        ProbeKind::Boundary => {
                            for q in &touches {
                                add(
                                    &mut d,
                                    q,
                                    QDemand {
                                        take: Take::All,
                                        needs: 0,
                                        frees_all: false,
                                        group: touches.clone(),
                                    },
                                );
                                if planned_kind(profile, q) == Some(QuotaKind::Period) {
                                    d.exhausts.push(q.clone());
                                }
                            }
                        }
                        ProbeKind::Reset => {
                            d.resets = profile.first_of(OpKind::AdvanceClock).is_some();
                            for q in &touches {
                                let qd = QDemand {
                                    take: Take::Units(2),
                                    needs: 0,
                                    frees_all: false,
                                    group: touches.clone(),
                                };
                                add(&mut d, q, qd);
                            }
                        }
                        ProbeKind::Isolation => {
                            for q in &touches {
                                let qd = QDemand {
                                    take: Take::Units(1),
                                    needs: 0,
                                    frees_all: false,
                                    group: touches.clone(),
                                };
                                add(&mut d, q, qd);
                            }
                        }
                        ProbeKind::Release => {
                            // Fills a concurrent quota to its cap, then releases all it made.
                            for o in profile.ops.values().filter(|o| o.kind == OpKind::Release) {
                                let Some(c) = o.releases.as_ref().and_then(|c| profile.ops.get(c))
                                else {
                                    continue;
                                };
                                for q in &c.touches {
                                    if planned_kind(profile, q) == Some(QuotaKind::Concurrent) {
                                        let qd = QDemand {
                                            take: Take::All,
                                            needs: 0,
                                            frees_all: true,
                                            group: vec![q.clone()],
                                        };
                                        add(&mut d, q, qd);
                                    }
                                }
                            }
                        }
                        ProbeKind::Credentials => {}
                    }
                }
                None => {
                    let w = &phase.workload;
                    let total: u64 = mix.iter().map(|m| m.weight as u64).sum::<u64>().max(1);
                    let released: Vec<&str> = mix
                        .iter()
                        .flat_map(|m| &m.ops)
                        .filter(|o| o.kind == OpKind::Release)
                        .filter_map(|o| o.releases.as_deref())
                        .collect();
                    for m in mix {
                        for o in m.ops.iter().filter(|o| o.kind == OpKind::Consume) {
                            let orders = w.operations.map_or(u64::MAX, |n| {
                                (n * m.weight as u64).div_ceil(total * m.ops.len().max(1) as u64)
                            });
                            let frees = released.contains(&o.name.as_str());
                            let take = match w.amount {
                                Amount::Fixed(a) => Take::Units(
                                    orders.saturating_mul(o.max_amount.map_or(a, |x| a.min(x))),
                                ),
                                Amount::Auto => match o.max_amount {
                                    Some(1) => Take::Units(orders),
                                    _ => Take::Auto {
                                        orders,
                                        fill: w.fill_orders.unwrap_or(40),
                                    },
                                },
                            };
                            let unit = match w.amount {
                                Amount::Fixed(a) => a.max(1),
                                Amount::Auto => 1,
                            };
                            for q in &o.touches {
                                let concurrent =
                                    planned_kind(profile, q) == Some(QuotaKind::Concurrent);
                                let qd = QDemand {
                                    take,
                                    // A phase that releases what it consumes finds room as it goes.
                                    needs: if concurrent && frees { 0 } else { unit },
                                    frees_all: false,
                                    group: o.touches.clone(),
                                };
                                add(&mut d, q, qd);
                            }
                        }
                    }
                }
            }
            d
        })
        .collect()
}

/// Plans each reset probe with `wait:` on a target without clock control, from the
/// target's time `now` (Unix seconds): when the next period boundary falls within the
/// wait, the probe waits for it and the period quotas reset there (planned like a clock
/// move known to work); otherwise it sends nothing, which the plan says.
pub(crate) fn waits(
    demands: &mut [Demand],
    profile: &CompiledProfile,
    phases: &[Phase],
    clock_control: bool,
    now: i64,
) {
    for (d, p) in demands.iter_mut().zip(phases) {
        let (Some(ProbeKind::Reset), Some(wait)) = (p.probe, p.wait) else {
            continue;
        };
        if clock_control {
            d.wait_note = Some(format!(
                "the clock hook answers: wait: {} is not needed",
                crate::vocab::units::Span(wait.0)
            ));
            continue;
        }
        let wait_s = wait.0.as_secs();
        d.wait_note = Some(match boundary::next_of(&profile.profile.quotas, now) {
            None => {
                "no declared period has a boundary to wait for: the reset rules are skipped".into()
            }
            Some((b, period)) if b - now <= wait_s as i64 => {
                d.resets = true;
                d.crosses = true;
                format!(
                    "waits {} for the next {period} boundary {} (within wait: {}); the period quotas reset there",
                    boundary::human(b - now),
                    jiff::Timestamp::from_second(b).map(|t| t.to_string()).unwrap_or_default(),
                    boundary::human(wait_s as i64)
                )
            }
            Some((b, period)) => format!(
                "{}: nothing is sent and the reset rules are skipped",
                boundary::beyond_wait(&period, b, now, wait_s)
            ),
        });
    }
}

/// The order phases run in, and why it differs from the scenario's. An exhausting phase
/// moves after the last later phase that needs room in a quota it fills, unless a reset
/// known to work (`clock_known`) comes first.
pub(crate) fn order(
    demands: &[Demand],
    names: &[String],
    clock_known: bool,
) -> (Vec<usize>, Vec<String>) {
    let mut cur: Vec<usize> = (0..demands.len()).collect();
    let mut moves = Vec::new();
    for e in 0..demands.len() {
        if demands[e].exhausts.is_empty() {
            continue;
        }
        let pos = cur.iter().position(|&x| x == e).unwrap_or(0);
        let mut last = None;
        for (j, &p) in cur.iter().enumerate().skip(pos + 1) {
            if demands[p].resets && (clock_known || demands[p].crosses) {
                break;
            }
            let needs = demands[e]
                .exhausts
                .iter()
                .find(|q| demands[p].quotas.get(*q).is_some_and(|d| d.needs > 0));
            if let Some(q) = needs {
                last = Some((j, q.clone()));
            }
        }
        if let Some((j, q)) = last {
            let moved = cur.remove(pos);
            cur.insert(j, moved);
            moves.push(format!(
                "{} runs after {}: it fills {q} to its limit, which {} still needs, and no clock move known to work resets it in between",
                names[e], names[cur[j - 1]], names[cur[j - 1]]
            ));
        }
    }
    (cur, moves)
}

/// The plan for `order`, from the readings of one list before the first phase.
pub(crate) fn build(
    profile: &CompiledProfile,
    names: &[String],
    demands: &[Demand],
    order: &[usize],
    moves: Vec<String>,
    start: &[Reading],
    clock_known: bool,
) -> BudgetPlan {
    let mut avail: BTreeMap<String, u64> = BTreeMap::new();
    let mut limits: BTreeMap<String, u64> = BTreeMap::new();
    for r in start {
        if planned_kind(profile, &r.name).is_some() {
            avail.insert(r.name.to_string(), r.limit.saturating_sub(r.consumed));
            limits.insert(r.name.to_string(), r.limit);
        }
    }
    let mut entries = Vec::new();
    let mut pending_reset = None;
    for &i in order {
        let d = &demands[i];
        let before = avail.clone();
        for (q, qd) in &d.quotas {
            let Some(a) = avail.get(q).copied() else {
                entries.push(BudgetEntry {
                    phase: names[i].clone(),
                    quota: q.clone(),
                    planned: 0,
                    available: 0,
                    needs: qd.needs,
                    found: None,
                    exhausts: d.exhausts.contains(q),
                    note: Some("not in the list read before the first phase".into()),
                });
                continue;
            };
            let tightest = qd
                .group
                .iter()
                .filter_map(|g| before.get(g))
                .copied()
                .min()
                .unwrap_or(a)
                .min(a);
            let planned = qd.take.of(tightest);
            entries.push(BudgetEntry {
                phase: names[i].clone(),
                quota: q.clone(),
                planned,
                available: a,
                needs: qd.needs,
                found: None,
                exhausts: d.exhausts.contains(q),
                note: d.wait_note.clone().or_else(|| pending_reset.clone()),
            });
            let kind = planned_kind(profile, q);
            // A concurrent quota a phase releases entirely is whole again after it.
            let whole = kind == Some(QuotaKind::Concurrent) && qd.frees_all;
            avail.insert(q.clone(), if whole { a } else { a - planned });
        }
        pending_reset = None;
        if d.resets {
            if clock_known || d.crosses {
                for (q, l) in &limits {
                    if planned_kind(profile, q) == Some(QuotaKind::Period) {
                        avail.insert(q.clone(), l.saturating_sub(2));
                    }
                }
                pending_reset = Some(if d.crosses {
                    format!("after {}'s wait the period quotas reset", names[i])
                } else {
                    format!("after {}'s clock moves reset the period quotas", names[i])
                });
            } else {
                pending_reset = Some(format!(
                    "{} resets the period quotas only if the target's clock hook answers; planned as if it does not",
                    names[i]
                ));
            }
        }
    }
    BudgetPlan {
        order: order.iter().map(|&i| names[i].clone()).collect(),
        moves,
        entries,
        shortfalls: Vec::new(),
        left_behind: Vec::new(),
    }
}

/// When `quota` next frees room, in the target's time `now` (Unix seconds).
pub(crate) fn resets_at(profile: &CompiledProfile, quota: &str, now: i64) -> String {
    let decl = profile.profile.quotas.iter().find(|d| d.name == quota);
    let utc = jiff::tz::TimeZone::UTC;
    let at = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    match decl.map(|d| (d.kind, d.period.clone())) {
        Some((QuotaKind::Period, Some(PeriodDecl::Daily))) => {
            format!(
                "it resets at {} (the next UTC day)",
                at((now.div_euclid(86_400) + 1) * 86_400)
            )
        }
        Some((QuotaKind::Period, Some(PeriodDecl::Monthly))) => {
            let next = jiff::Timestamp::from_second(now)
                .ok()
                .map(|t| t.to_zoned(utc.clone()).date().first_of_month())
                .and_then(|d| d.checked_add(jiff::Span::new().months(1)).ok())
                .and_then(|d| d.to_zoned(utc).ok())
                .map(|z| z.timestamp().to_string())
                .unwrap_or_default();
            format!("it resets at {next} (the next UTC month)")
        }
        Some((QuotaKind::Period, Some(PeriodDecl::Fixed(s)))) => {
            let len = s.0.as_secs().max(1) as i64;
            format!(
                "it resets at {} (its next {s} window)",
                at((now.div_euclid(len) + 1) * len)
            )
        }
        Some((QuotaKind::Period, Some(p))) => format!("it resets when its {p} window ends"),
        Some((QuotaKind::Concurrent, _)) => {
            "it frees room only when active objects are released (it never resets)".into()
        }
        _ => "its reset is not declared".into(),
    }
}

/// Checks `phase`'s entries against its opening snapshot: records what was found and
/// returns a shortfall line per quota with less room than the phase needs.
pub(crate) fn check(
    plan: &mut BudgetPlan,
    profile: &CompiledProfile,
    phase: &str,
    snap: Option<&[Reading]>,
    now: i64,
) -> Vec<String> {
    let mut short = Vec::new();
    for e in plan.entries.iter_mut().filter(|e| e.phase == phase) {
        let r = snap.and_then(|s| s.iter().find(|r| *r.name == *e.quota));
        match r {
            Some(r) => {
                let left = r.limit.saturating_sub(r.consumed);
                e.found = Some(left);
                if left < e.needs {
                    short.push(format!(
                        "phase {phase} needs {} unit(s) of {}, but {left} remain ({} of {} consumed); {}",
                        e.needs,
                        e.quota,
                        r.consumed,
                        r.limit,
                        resets_at(profile, &e.quota, now)
                    ));
                } else if e.exhausts && left == 0 {
                    e.note = Some(
                        "the quota is already full: only the refusals (R+1 = 1, then 1) are sent, no exact fill".into(),
                    );
                }
            }
            None if e.needs > 0 => short.push(format!(
                "phase {phase} needs {} unit(s) of {}, but its opening snapshot did not show it",
                e.needs, e.quota
            )),
            None => {}
        }
    }
    plan.shortfalls.extend(short.iter().cloned());
    short
}

/// The plan as printed on the terminal before the first phase.
pub(crate) fn render(plan: &BudgetPlan) -> String {
    let mut out = format!("budget plan (phases in order: {})\n", plan.order.join(", "));
    for m in &plan.moves {
        out.push_str(&format!("  moved: {m}\n"));
    }
    for e in &plan.entries {
        out.push_str(&format!(
            "  {:<24} {:<40} planned {:>10}{} of {:>10} available (needs {})\n",
            e.phase,
            e.quota,
            e.planned,
            if e.exhausts { " (fills it)" } else { "" },
            e.available,
            e.needs
        ));
        if let Some(n) = &e.note {
            out.push_str(&format!("  {:<24} note: {n}\n", ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(needs: &[(&str, u64)], exhausts: &[&str], resets: bool) -> Demand {
        Demand {
            quotas: needs
                .iter()
                .map(|(q, n)| {
                    (
                        q.to_string(),
                        QDemand {
                            take: Take::All,
                            needs: *n,
                            frees_all: false,
                            group: vec![q.to_string()],
                        },
                    )
                })
                .collect(),
            resets,
            exhausts: exhausts.iter().map(|s| s.to_string()).collect(),
            crosses: false,
            wait_note: None,
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_exhausting_phase_moves_after_the_last_phase_that_needs_room() {
        let ds = vec![
            d(&[], &[], false),
            d(&[("daily", 0)], &["daily"], false),
            d(&[], &[], true),
            d(&[("daily", 1)], &[], false),
            d(&[("daily", 1)], &[], false),
            d(&[("daily", 0)], &[], false),
        ];
        let n = names(&["invalid", "boundary", "reset", "fill", "race", "isolation"]);
        let (o, moves) = order(&ds, &n, false);
        assert_eq!(o, vec![0, 2, 3, 4, 1, 5]);
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert!(moves[0].contains("boundary runs after race"), "{moves:?}");
        // A reset known to work in between: the scenario's order stands.
        let (o, moves) = order(&ds, &n, true);
        assert_eq!(o, vec![0, 1, 2, 3, 4, 5]);
        assert!(moves.is_empty());
    }

    #[test]
    fn takes_are_bounded_by_what_is_available() {
        assert_eq!(Take::All.of(7), 7);
        assert_eq!(Take::Units(3).of(2), 2);
        // 9 orders of ceil(1000 / 10) = 900: most of what remains.
        assert_eq!(
            Take::Auto {
                orders: 9,
                fill: 10
            }
            .of(1000),
            900
        );
        // 82 orders of ceil(100 / 45) = 3 exceed 100: the race fills it.
        assert_eq!(
            Take::Auto {
                orders: 82,
                fill: 45
            }
            .of(100),
            100
        );
        assert_eq!(
            Take::Auto {
                orders: 82,
                fill: 45
            }
            .of(0),
            0
        );
    }
}
