//! Putting shards' records on one time line, honestly.
//!
//! Each shard's offsets count from its own `started_at`, read off its own clock. The
//! merge moves them by the shard's start plus its offset estimate to the target's
//! clock, so every shard's records are on the target's time line; then, for judging,
//! it widens each record by the shard's bound (send earlier, completion later). An
//! operation whose true position relative to another shard's snapshot is uncertain
//! then overlaps it, and the checker, which never places an operation that overlaps a
//! snapshot, leaves it unplaced instead of misplacing it.
//!
//! Ids and workers are made unique across shards: record `#812` of shard 3 becomes
//! `#3000000812`, its worker `w` becomes `(3 − 1) · 2²² + w`. Only shard 1's
//! coordinator stays the coordinator: another shard's coordinator took its snapshots
//! when *its* workers were idle, not when every shard's were, so its reads join the
//! history as ordinary reads of a worker (`(K − 1) · 2²² + 2²² − 1`), never as quiescent
//! snapshots; and a snapshot of shard 1 that another shard's effectful operation
//! overlaps is demoted the same way (`demote_overlapped`).

use std::path::Path;

use crate::error::Error;
use crate::history::{History, OpRecord, ShardInfo};
use crate::vocab::COORDINATOR;

/// The shards' records on one time line.
pub struct LinedUp {
    /// The merged time line's zero: the earliest shard start, on the target's clock.
    pub zero: jiff::Timestamp,
    /// Each shard's shift onto it, µs, in the order given.
    pub shifts: Vec<u64>,
    /// Every record moved onto it, unwidened (for the metrics), by completion, with
    /// its shard.
    pub aligned: Vec<(OpRecord, u32)>,
    /// The history as judged: widened records by completion, the first shard's header
    /// with the merged start and every shard's entry.
    pub judged: History,
    /// The shard of each record of `judged`.
    pub judged_shard: Vec<u32>,
}

/// Lines up the shards `(folder, history, shard)`, given in shard order.
pub fn line_up(shards: &[(&Path, &History, &ShardInfo)]) -> Result<LinedUp, Error> {
    let starts = shards
        .iter()
        .map(|(dir, h, info)| {
            let at = h
                .header
                .started_at
                .parse::<jiff::Timestamp>()
                .map_err(|e| {
                    Error::Usage(format!(
                        "{}: the history header's started_at {:?} is not an RFC 3339 instant: {e}",
                        dir.display(),
                        h.header.started_at
                    ))
                })?;
            Ok((at.as_microsecond(), info.offset_us))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let (zero, shifts) = shifts(&starts);
    let zero = jiff::Timestamp::from_microsecond(zero)
        .map_err(|e| Error::Usage(format!("the shards' start is out of range: {e}")))?;
    let mut all = Vec::new();
    for ((dir, h, info), &shift) in shards.iter().zip(&shifts) {
        let k = info.index;
        for o in &h.ops {
            let id = id_of(k, o.id).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: record id {} is past {ID_STRIDE} per shard, which merged ids cannot keep apart",
                    dir.display(),
                    o.id
                ))
            })?;
            all.push((aligned(o, k, shift, id), k));
        }
    }
    all.sort_by_key(|(o, _)| (o.done_us, o.id));
    let mut judged: Vec<(OpRecord, u32)> = all
        .iter()
        .map(|(o, k)| {
            let bound = shards[(*k - 1) as usize].2.bound_us;
            (widened(o.clone(), bound), *k)
        })
        .collect();
    judged.sort_by_key(|(o, _)| (o.done_us, o.id));
    let first_header = &shards
        .first()
        .ok_or_else(|| Error::Usage("merge: no run folder given".into()))?
        .1
        .header;
    demote_overlapped(&mut judged, first_header);
    let mut header = shards
        .first()
        .map(|s| s.1.header.clone())
        .ok_or_else(|| Error::Usage("merge: no run folder given".into()))?;
    header.started_at = zero.to_string();
    header.shards = shards.iter().map(|s| s.2.clone()).collect();
    let judged_shard = judged.iter().map(|(_, k)| *k).collect();
    Ok(LinedUp {
        zero,
        shifts,
        aligned: all,
        judged: History {
            header,
            ops: judged.into_iter().map(|(o, _)| o).collect(),
        },
        judged_shard,
    })
}

/// Record ids of shard K start at K · this.
pub const ID_STRIDE: u64 = 1_000_000_000;

/// Workers of shard K are numbered from (K − 1) · this.
pub const WORKER_STRIDE: u32 = 1 << 22;

/// Shard 1's coordinator snapshots were quiescent in shard 1 only. One that another
/// shard's effectful operation overlaps (as widened) was not quiescent at all: it joins
/// the history as an ordinary read (shard 1's demoted-coordinator worker), so no rule
/// takes it for a quiet moment. Shard 1's own operations cannot have overlapped it.
fn demote_overlapped(judged: &mut [(OpRecord, u32)], header: &crate::history::Header) {
    let effectful = |o: &OpRecord| {
        header
            .operations
            .get(o.name.as_str())
            .is_some_and(|d| crate::check::facts::effectful(d.kind))
    };
    // Other shards' effectful operations as (sent, done), by send.
    let mut busy: Vec<(u64, u64)> = judged
        .iter()
        .filter(|(o, k)| *k != 1 && effectful(o))
        .map(|(o, _)| (o.sent_us, o.done_us))
        .collect();
    busy.sort_unstable();
    // The latest completion among the operations sent up to each point.
    let mut reach = Vec::with_capacity(busy.len());
    let mut far = 0u64;
    for &(_, done) in &busy {
        far = far.max(done);
        reach.push(far);
    }
    for (o, k) in judged.iter_mut() {
        if *k != 1 || o.worker != COORDINATOR || o.snapshot.is_none() {
            continue;
        }
        // Sent before the snapshot completed and done after it was sent: overlapping.
        let n = busy.partition_point(|&(sent, _)| sent < o.done_us);
        if n > 0 && reach[n - 1] > o.sent_us {
            o.worker = WORKER_STRIDE - 1;
        }
    }
}

/// The merged id of record `id` of shard `k`; `None` past the stride.
pub fn id_of(k: u32, id: u64) -> Option<u64> {
    (id < ID_STRIDE).then(|| u64::from(k) * ID_STRIDE + id)
}

/// The merged worker of `worker` in shard `k` (the coordinator stays one for shard 1).
pub fn worker_of(k: u32, worker: u32) -> u32 {
    let base = (k - 1) * WORKER_STRIDE;
    match worker {
        COORDINATOR if k == 1 => COORDINATOR,
        COORDINATOR => base + WORKER_STRIDE - 1,
        w => base + w.min(WORKER_STRIDE - 2),
    }
}

/// The merged time line's zero (Unix µs on the target's clock, by the estimates) and
/// each shard's shift onto it, from (started_at Unix µs, offset estimate µs) per shard.
pub fn shifts(starts: &[(i64, i64)]) -> (i64, Vec<u64>) {
    let on_target: Vec<i64> = starts.iter().map(|(s, o)| s + o).collect();
    let zero = on_target.iter().copied().min().unwrap_or(0);
    (zero, on_target.iter().map(|t| (t - zero) as u64).collect())
}

/// The record moved onto the merged time line (for the metrics: latencies unchanged).
pub fn aligned(rec: &OpRecord, k: u32, shift: u64, id: u64) -> OpRecord {
    let mut r = rec.clone();
    r.id = id;
    r.worker = worker_of(k, rec.worker);
    r.intended_us += shift;
    r.sent_us += shift;
    r.done_us += shift;
    r
}

/// The aligned record as judged: sent up to `bound` earlier, done up to `bound` later.
pub fn widened(mut r: OpRecord, bound: u64) -> OpRecord {
    r.intended_us = r.intended_us.saturating_sub(bound);
    r.sent_us = r.sent_us.saturating_sub(bound);
    r.done_us = r.done_us.saturating_add(bound);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, worker: u32, sent: u64, done: u64) -> OpRecord {
        OpRecord {
            worker,
            ..OpRecord::sample(id, "consume", sent, done)
        }
    }

    #[test]
    fn shards_start_where_their_clocks_and_offsets_put_them() {
        // Shard 2's machine is 3 s ahead of the target (offset −3 s) and started its
        // clock 2.5 s "later": on the target's clock it started 0.5 s before shard 1.
        let (zero, s) = shifts(&[(10_000_000, 0), (12_500_000, -3_000_000)]);
        assert_eq!(zero, 9_500_000);
        assert_eq!(s, [500_000, 0]);
    }

    #[test]
    fn ids_and_workers_stay_apart_and_only_shard_one_coordinates() {
        assert_eq!(id_of(3, 812), Some(3_000_000_812));
        assert_eq!(id_of(1, ID_STRIDE), None);
        assert_eq!(worker_of(1, COORDINATOR), COORDINATOR);
        assert_ne!(worker_of(2, COORDINATOR), COORDINATOR);
        assert_ne!(worker_of(2, COORDINATOR), worker_of(2, 0));
        assert_ne!(worker_of(1, 5), worker_of(2, 5));
        assert_eq!(worker_of(1000, COORDINATOR), 1000 * WORKER_STRIDE - 1);
        assert!(worker_of(1000, COORDINATOR) < COORDINATOR);
    }

    #[test]
    fn widening_moves_the_ends_apart_never_before_zero() {
        let r = widened(
            aligned(&rec(7, 0, 100, 900), 2, 1_000, 2_000_000_007),
            50_000,
        );
        assert_eq!((r.sent_us, r.done_us), (0, 51_900));
        assert_eq!(r.id, 2_000_000_007);
    }
}
