//! One phase: closed (virtual users) or open (arrival schedule) workload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::op::{execute, Slot};
use super::schedule::Schedule;
use super::{sleep_or_stop, Mix, Shared};
use crate::history::Reading;
use crate::scenario::units::Amount;
use crate::scenario::{MixEntry, Phase};
use crate::target::profile::OpKind;

/// Open-model lag beyond which an arrival counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(5);

/// What a phase delivered.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PhaseStats {
    /// Phase name.
    pub name: String,
    /// Seconds it ran.
    pub seconds: f64,
    /// Operations completed.
    pub operations: u64,
    /// Open model: the asked arrival rate per second (averaged over the phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_rate: Option<f64>,
    /// Open model: arrivals sent more than 5 ms after their intended time.
    pub late: u64,
    /// Open model: arrivals scheduled within the phase but never sent.
    pub dropped: u64,
    /// Units per order this phase used, per consume operation.
    pub amounts: std::collections::BTreeMap<String, u64>,
}

/// Runs one phase to its end (duration, operation count, or stop).
pub(crate) async fn run(
    sh: &Arc<Shared>,
    index: u32,
    phase: &Phase,
    mix: &[MixEntry],
    snapshot: Option<&[Reading]>,
    seed: u64,
) -> PhaseStats {
    let w = &phase.workload;
    let amounts = order_amounts(w.amount, w.fill_orders.unwrap_or(40), mix, snapshot);
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
    let late = Arc::new(AtomicU64::new(0));
    let executed = Arc::new(AtomicU64::new(0));
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
    let weights: Vec<u32> = mix.iter().map(|m| m.weight).collect();
    let mix_pick = Mix::new(&weights);
    let mut handles = Vec::new();
    for wid in 0..workers {
        let sh = sh.clone();
        let mix: Vec<MixEntry> = mix.to_vec();
        let mix_pick = mix_pick.clone();
        let ticket = ticket.clone();
        let late = late.clone();
        let executed = executed.clone();
        let think = w.think_time.map(|t| t.0);
        let amounts = amounts.clone();
        let schedule = schedule.clone();
        handles.push(tokio::spawn(async move {
            let mut rng =
                rand::rngs::SmallRng::seed_from_u64(seed ^ ((index as u64) << 32) ^ wid as u64);
            let mut body = Vec::new();
            let mut turn = 0usize;
            let label_idx: Vec<usize> = mix
                .iter()
                .map(|m| sh.recorder.label_index(&m.label).unwrap_or(0))
                .collect();
            loop {
                if sh.stop.is_cancelled() {
                    break;
                }
                let n = ticket.fetch_add(1, Ordering::Relaxed);
                if budget.is_some_and(|b| n >= b) {
                    break;
                }
                let intended = match &schedule {
                    Some(s) => match s.at(n) {
                        Some(t) => start + Duration::from_secs_f64(t),
                        None => break,
                    },
                    None => Instant::now(),
                };
                if deadline.is_some_and(|d| intended >= d) {
                    break;
                }
                if schedule.is_some() {
                    let now = Instant::now();
                    if intended > now {
                        if !sleep_or_stop(&sh.stop, intended - now).await {
                            break;
                        }
                    } else if now - intended > LATE_AFTER {
                        late.fetch_add(1, Ordering::Relaxed);
                    }
                }
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
                execute(&sh, &slot, op, amount, intended, &mut body).await;
                executed.fetch_add(1, Ordering::Relaxed);
                if let Some(t) = think {
                    if !sleep_or_stop(&sh.stop, t).await {
                        break;
                    }
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let operations = executed.load(Ordering::Relaxed);
    // Arrivals the schedule asked for within the phase but that were never sent.
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
    PhaseStats {
        name: phase.name.clone(),
        seconds,
        operations,
        asked_rate,
        late: late.load(Ordering::Relaxed),
        dropped,
        amounts,
    }
}

/// Units per order for each consume operation of the mix: fixed, or sized so that
/// `fill_orders` orders fill what remains of the tightest quota that operation draws on
/// (each operation from its own quotas: a 4-slot concurrent quota does not shrink
/// orders against a 1,000-unit period quota).
fn order_amounts(
    amount: Amount,
    fill_orders: u64,
    mix: &[MixEntry],
    snap: Option<&[Reading]>,
) -> std::collections::BTreeMap<String, u64> {
    mix.iter()
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
                        _ => 1,
                    }
                }
            };
            (o.name.clone(), o.max_amount.map_or(n, |m| n.min(m)))
        })
        .collect()
}
