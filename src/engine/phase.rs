//! One phase: closed (virtual users) or open (arrival schedule) workload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;

use super::arrivals::{Alarm, Arrivals};
use super::op::{execute_in, new_parent, Slot, StopWait};
use super::schedule::Schedule;
use super::{shard, sleep_or_stop, Mix, Shared};
use crate::api::worker_conn::owning_connection;
use crate::api::CompiledOp;
use crate::scenario::{MixEntry, Parents, Phase};
use crate::vocab::units::Amount;
use crate::vocab::OpKind;
use crate::vocab::PhaseStats;
use crate::vocab::Reading;

/// Open-model lag beyond which an arrival counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(5);

/// Runs one phase to its end (duration, operation count, or stop).
pub(crate) async fn run(
    sh: &Arc<Shared>,
    index: u32,
    phase: &Phase,
    mix: &[MixEntry],
    snapshot: Option<&[Reading]>,
    seed: u64,
) -> (PhaseStats, Option<String>) {
    let w = &phase.workload;
    let (amounts, sizing) = order_amounts(w.amount, w.fill_orders.unwrap_or(40), mix, snapshot);
    // Invalid orders carry the largest size, so a target that counts them shows it.
    let invalid_amount = amounts.values().copied().max().unwrap_or(match w.amount {
        Amount::Fixed(n) => n,
        Amount::Auto => 1,
    });
    let schedule = match (w.rate, w.stages.is_empty()) {
        (_, false) => Some(Schedule::stages(
            w.rate.map_or(0.0, |r| r.per_second()),
            &w.stages
                .iter()
                .map(|s| (s.duration.0.as_secs_f64(), s.target.per_second()))
                .collect::<Vec<_>>(),
        )),
        (Some(r), true) => Some(Schedule::constant(r.per_second())),
        (None, true) => None,
    };
    let limit = w
        .duration
        .map(|d| d.0.as_secs_f64())
        .or_else(|| schedule.as_ref().and_then(Schedule::length));
    let start = Instant::now();
    let deadline = limit.map(|l| start + Duration::from_secs_f64(l));
    let budget = w.operations;
    let ticket = Arc::new(AtomicU64::new(0));
    let peak = w
        .stages
        .iter()
        .map(|s| s.target.per_second())
        .chain(w.rate.map(|r| r.per_second()))
        .fold(0.0, f64::max);
    let workers = match (w.concurrency, &schedule) {
        (Some(c), _) => c,
        // Enough in flight to keep the schedule through 1 s of latency, bounded.
        (None, Some(_)) => (peak.ceil() as u32).clamp(1, 1024),
        (None, None) => 1,
    };
    let schedule = schedule.map(Arc::new);
    // Open model: free workers claim arrivals in order (arrivals.rs); nothing is queued
    // per arrival, so the phase ends at its deadline whatever the rate.
    let (arrivals, alarm) = match &schedule {
        Some(s) => {
            let (alarm, thread) = Alarm::start();
            let a = Arrivals::new(s.clone(), start, deadline, budget, alarm.clone());
            (Some(Arc::new(a)), Some((alarm, thread)))
        }
        None => (None, None),
    };
    // `parents: one`: every scoped consume of the phase acts inside one fresh parent.
    let pinned = match w.parents {
        Parents::One => match scoped_setup(sh, mix) {
            Some(setup) => new_parent(sh, index, &setup).await,
            None => None,
        },
        Parents::Spread => None,
    };
    let pinned = Arc::new(pinned);
    let weights: Vec<u32> = mix.iter().map(|m| m.weight).collect();
    let mix_pick = Mix::new(&weights);
    // Workers are dealt to the shards in turn (shard.rs): each shard's thread runs its
    // workers and their connections, and records what they do itself.
    let mut shards: Vec<Vec<_>> = (0..shard::count(workers)).map(|_| Vec::new()).collect();
    let n_shards = shards.len();
    for wid in 0..workers {
        let sh = sh.clone();
        let mix: Vec<MixEntry> = mix.to_vec();
        let mix_pick = mix_pick.clone();
        let ticket = ticket.clone();
        let think = w.think_time.map(|t| t.0);
        let amounts = amounts.clone();
        let arrivals = arrivals.clone();
        let pinned = pinned.clone();
        // Each worker owns its keep-alive connection to an http:// target.
        shards[wid as usize % n_shards].push(owning_connection(async move {
            // Counted per worker and summed when the phase ends: no shared counter
            // bounces between the shards' cores on every operation.
            let mut tally = Tally::default();
            let mut rng =
                rand::rngs::SmallRng::seed_from_u64(seed ^ ((index as u64) << 32) ^ wid as u64);
            let mut body = Vec::new();
            let mut stop_wait: StopWait = Box::pin(sh.stop.clone().cancelled_owned());
            let mut turn = 0usize;
            let label_idx: Vec<usize> = mix
                .iter()
                .map(|m| sh.recorder.label_index(&m.label).unwrap_or(0))
                .collect();
            loop {
                if sh.stop.is_cancelled() {
                    break;
                }
                let intended = match &arrivals {
                    Some(a) => {
                        let Some(intended) = a.next(&sh.stop).await else {
                            break;
                        };
                        if Instant::now().saturating_duration_since(intended) > LATE_AFTER {
                            tally.late += 1;
                        }
                        intended
                    }
                    None => {
                        let now = Instant::now();
                        if deadline.is_some_and(|d| now >= d) {
                            break;
                        }
                        // The budget is shared: claimed one operation at a time.
                        if budget.is_some_and(|b| ticket.fetch_add(1, Ordering::Relaxed) >= b) {
                            break;
                        }
                        now
                    }
                };
                let k = mix_pick.pick(&mut rng);
                let entry = &mix[k];
                let op = &entry.ops[turn % entry.ops.len()];
                turn = turn.wrapping_add(1);
                let slot = Slot {
                    phase: index,
                    worker: wid,
                    label: &entry.label,
                    label_index: label_idx[k],
                };
                let amount = amounts.get(&op.name).copied().unwrap_or(invalid_amount);
                let pin = (*pinned).as_ref();
                let stop = Some(&mut stop_wait);
                execute_in(&sh, &slot, op, amount, intended, &mut body, pin, stop).await;
                tally.executed += 1;
                if let Some(t) = think {
                    if !sleep_or_stop(&sh.stop, t).await {
                        break;
                    }
                }
            }
            tally
        }));
    }
    drop(arrivals);
    let tallies = shard::run(sh, shards).await;
    if let Some((alarm, thread)) = alarm {
        alarm.close();
        let _ = thread.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let operations: u64 = tallies.iter().map(|t| t.executed).sum();
    // Arrivals the schedule asked for within the phase but that no worker sent by the
    // deadline (an interrupted phase drops nothing: it was cut, not outrun).
    let (asked_rate, dropped) = match (&schedule, limit) {
        (Some(s), Some(l)) if !sh.stop.is_cancelled() => {
            let expected = s.expected(l);
            let expected = budget.map_or(expected, |b| expected.min(b));
            (
                Some(expected as f64 / l),
                expected.saturating_sub(operations.min(expected)),
            )
        }
        (Some(s), _) => (Some(s.expected(seconds) as f64 / seconds.max(1e-9)), 0),
        _ => (None, 0),
    };
    let stats = PhaseStats {
        name: phase.name.clone(),
        seconds,
        operations,
        asked_rate,
        achieved_rate: asked_rate.map(|_| operations as f64 / seconds.max(1e-9)),
        late: tallies.iter().map(|t| t.late).sum(),
        dropped,
        amounts,
        started_s: None,
    };
    (stats, sizing)
}

/// What one worker did in a phase.
#[derive(Default)]
struct Tally {
    /// Operations it sent (each recorded).
    executed: u64,
    /// Open model: arrivals it sent more than [`LATE_AFTER`] after their instant.
    late: u64,
}

/// The setup operation the mix's first scoped consume (`uses:`) acts inside.
fn scoped_setup(sh: &Shared, mix: &[MixEntry]) -> Option<CompiledOp> {
    let c = mix
        .iter()
        .flat_map(|m| &m.ops)
        .find(|o| o.kind == OpKind::Consume && o.uses.is_some())?;
    sh.target.profile.ops.get(c.uses.as_deref()?).cloned()
}

/// Units per order for each consume operation of the mix: fixed, or sized so that
/// `fill_orders` orders fill what remains of the tightest quota that operation draws on
/// (each operation from its own quotas: a 4-slot concurrent quota does not shrink
/// orders against a 1,000-unit period quota). With `amount: auto`, a sizing read that
/// failed (no snapshot, or none of the operation's quotas in it) is said, not hidden:
/// such orders fall back to 1 unit and the second value says why.
fn order_amounts(
    amount: Amount,
    fill_orders: u64,
    mix: &[MixEntry],
    snap: Option<&[Reading]>,
) -> (std::collections::BTreeMap<String, u64>, Option<String>) {
    let mut failed = Vec::new();
    let amounts = mix
        .iter()
        .flat_map(|m| &m.ops)
        .filter(|o| o.kind == OpKind::Consume)
        .map(|o| {
            let n = match amount {
                Amount::Fixed(n) => n,
                Amount::Auto => {
                    let remaining = o
                        .touches
                        .iter()
                        .filter_map(|q| snap?.iter().find(|r| &r.name == q))
                        .map(|r| r.limit.saturating_sub(r.consumed))
                        .min();
                    match remaining {
                        Some(r) if r > 0 => r.div_ceil(fill_orders.max(1)).max(1),
                        Some(_) => 1,
                        None => {
                            failed.push(match snap {
                                None => format!("{}: the opening snapshot failed", o.name),
                                Some(_) => format!(
                                    "{}: none of {} is in the opening snapshot",
                                    o.name,
                                    o.touches.join(", ")
                                ),
                            });
                            1
                        }
                    }
                }
            };
            (o.name.clone(), o.max_amount.map_or(n, |m| n.min(m)))
        })
        .collect();
    let why = (!failed.is_empty()).then(|| {
        format!(
            "amount: auto could not be sized ({}): those orders are 1 unit each",
            failed.join("; ")
        )
    });
    (amounts, why)
}
