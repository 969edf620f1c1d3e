//! One phase: closed (virtual users) or open (arrival schedule) workload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;

use super::op::{execute_in, new_parent, Slot};
use super::schedule::Schedule;
use super::{sleep_or_stop, Mix, Shared};
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
    // Open model: one pacer thread releases each arrival at its intended instant (OS
    // sleeps are precise to tens of µs; tokio's timer wheel rounds up to the next
    // millisecond, which alone added ~1.4 ms to every latency-from-intended at 200/s).
    // A worker takes the next arrival when it is free; an arrival that waits for one is
    // late, and its latency counts the wait (coordinated omission stays corrected).
    let (arrivals, pacer) = match &schedule {
        Some(s) => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Instant>(workers.max(1) as usize);
            let pace = Pace {
                schedule: s.clone(),
                start,
                deadline,
                budget,
                stop: sh.stop.clone(),
            };
            let pacer = tokio::task::spawn_blocking(move || pace.run(tx));
            (Some(Arc::new(tokio::sync::Mutex::new(rx))), Some(pacer))
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
        let arrivals = arrivals.clone();
        let pinned = pinned.clone();
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
                let intended = match &arrivals {
                    Some(rx) => {
                        let next = tokio::select! {
                            next = async { rx.lock().await.recv().await } => next,
                            _ = sh.stop.cancelled() => None,
                        };
                        let Some(intended) = next else { break };
                        if Instant::now().saturating_duration_since(intended) > LATE_AFTER {
                            late.fetch_add(1, Ordering::Relaxed);
                        }
                        intended
                    }
                    None => {
                        let n = ticket.fetch_add(1, Ordering::Relaxed);
                        let now = Instant::now();
                        if budget.is_some_and(|b| n >= b) || deadline.is_some_and(|d| now >= d) {
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
                execute_in(&sh, &slot, op, amount, intended, &mut body, pin).await;
                executed.fetch_add(1, Ordering::Relaxed);
                if let Some(t) = think {
                    if !sleep_or_stop(&sh.stop, t).await {
                        break;
                    }
                }
            }
        }));
    }
    drop(arrivals);
    for h in handles {
        let _ = h.await;
    }
    if let Some(p) = pacer {
        let _ = p.await;
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
    let stats = PhaseStats {
        name: phase.name.clone(),
        seconds,
        operations,
        asked_rate,
        late: late.load(Ordering::Relaxed),
        dropped,
        amounts,
    };
    (stats, sizing)
}

/// The open model's arrival clock: releases arrival n at `start + schedule.at(n)`.
struct Pace {
    schedule: Arc<Schedule>,
    start: Instant,
    deadline: Option<Instant>,
    budget: Option<u64>,
    stop: tokio_util::sync::CancellationToken,
}

impl Pace {
    /// Longest single sleep, so a stop is seen promptly.
    const SLICE: Duration = Duration::from_millis(20);

    /// Runs on a blocking thread until the schedule, the deadline or the budget ends, the
    /// run stops, or every worker is gone.
    fn run(self, tx: tokio::sync::mpsc::Sender<Instant>) {
        for n in 0u64.. {
            if self.budget.is_some_and(|b| n >= b) {
                return;
            }
            let Some(t) = self.schedule.at(n) else { return };
            let intended = self.start + Duration::from_secs_f64(t);
            if self.deadline.is_some_and(|d| intended >= d) {
                return;
            }
            loop {
                if self.stop.is_cancelled() {
                    return;
                }
                let now = Instant::now();
                if intended <= now {
                    break;
                }
                std::thread::sleep((intended - now).min(Self::SLICE));
            }
            // Blocks while every worker is busy and the queue is full: the arrival is
            // then late, and is sent with its intended time all the same.
            if tx.blocking_send(intended).is_err() {
                return;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(rate: f64, length: Option<Duration>, budget: Option<u64>) -> (Pace, Instant) {
        let start = Instant::now();
        let p = Pace {
            schedule: Arc::new(Schedule::constant(rate)),
            start,
            deadline: length.map(|l| start + l),
            budget,
            stop: tokio_util::sync::CancellationToken::new(),
        };
        (p, start)
    }

    /// Collects what a pacer releases, with the instant each was received.
    fn released(p: Pace) -> Vec<(Instant, Instant)> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let t = std::thread::spawn(move || p.run(tx));
        let mut got = Vec::new();
        while let Some(i) = rx.blocking_recv() {
            got.push((i, Instant::now()));
        }
        t.join().unwrap();
        got
    }

    #[test]
    fn the_pacer_releases_each_arrival_at_its_intended_time_never_early() {
        let (p, start) = pace(1000.0, Some(Duration::from_millis(50)), None);
        let schedule = p.schedule.clone();
        let got = released(p);
        assert_eq!(got.len(), 50, "1000/s for 50 ms");
        for (n, (intended, received)) in got.iter().enumerate() {
            let want = start + Duration::from_secs_f64(schedule.at(n as u64).unwrap());
            assert_eq!(*intended, want, "arrival {n}");
            assert!(received >= intended, "arrival {n} released early");
        }
    }

    #[test]
    fn the_pacer_stops_at_the_budget_and_on_stop() {
        let (p, _) = pace(10_000.0, None, Some(7));
        assert_eq!(released(p).len(), 7);

        let (p, _) = pace(1.0, None, None);
        let stop = p.stop.clone();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let t = std::thread::spawn(move || p.run(tx));
        // Arrival 0 is due at once; arrival 1 a second later: stop before it.
        assert!(rx.blocking_recv().is_some());
        stop.cancel();
        t.join().unwrap();
        assert!(
            rx.blocking_recv().is_none(),
            "nothing released after the stop"
        );
    }

    #[test]
    fn the_pacer_ends_when_every_worker_is_gone() {
        let (p, _) = pace(10_000.0, None, None);
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        p.run(tx);
    }
}
