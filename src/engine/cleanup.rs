//! Cleanup: at the end of a run (also after a failure, Ctrl-C or SIGTERM) everything the
//! run created and still holds is released, then deleted where the profile declares a
//! `delete` operation, so a long-lived tenant is left as the run found it. What could not
//! be cleaned is returned, for the report.
//!
//! Cleanup sends through a copy of the run's state with a fresh stop token: the run's
//! own token is cancelled after an interrupt, and every send would be cut at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use super::op::{execute, Slot};
use super::Shared;
use crate::vocab::{OpKind, Outcome, COORDINATOR};

/// The label cleanup requests are recorded under.
pub use crate::vocab::CLEANUP;

/// A copy of `sh` that owns its objects (taken out of `sh`) and stops only on its own.
pub(crate) fn detached(sh: &Shared) -> Shared {
    Shared {
        target: sh.target.clone(),
        recorder: sh.recorder.clone(),
        start: sh.start,
        seq: AtomicU64::new(sh.seq.load(Ordering::Relaxed)),
        stop: CancellationToken::new(),
        pools: sh
            .pools
            .iter()
            .map(|(k, p)| (k.clone(), Mutex::new(std::mem::take(&mut *p.lock()))))
            .collect::<HashMap<_, _>>(),
        clock_offset: AtomicI64::new(sh.clock_offset.load(Ordering::Relaxed)),
        clock_refused: sh.clock_refused.load(Ordering::Relaxed).into(),
        run_id: sh.run_id.clone(),
        sink: sh.sink.clone(),
        counters: sh.counters.clone(),
        left: Mutex::new(Vec::new()),
        live: sh.live.clone(),
    }
}

fn held(sh: &Shared, pool: &str) -> usize {
    sh.pools.get(pool).map_or(0, |p| p.lock().len())
}

/// Releases, then deletes, everything `sh` holds; returns what is left, in words.
/// Hands the request ids back to `sh_ids` when done.
pub(crate) async fn clean(sh: &Shared, phase: u32) -> Vec<String> {
    let profile = &sh.target.profile;
    let slot = Slot {
        phase,
        worker: COORDINATOR,
        label: CLEANUP,
        label_index: sh.recorder.label_index(CLEANUP).unwrap_or(0),
    };
    let mut body = Vec::new();
    // Objects inside a parent (destinations) first, so deleting the parent frees nothing
    // the run did not release itself.
    let mut releases: Vec<_> = profile
        .ops
        .values()
        .filter(|o| o.kind == OpKind::Release)
        .filter(|o| {
            o.releases
                .as_ref()
                .is_some_and(|c| profile.ops.contains_key(c))
        })
        .collect();
    releases.sort_by_key(|r| {
        let c = r.releases.as_deref().and_then(|c| profile.ops.get(c));
        c.is_none_or(|c| c.uses.is_none())
    });
    for rel in releases {
        let from = rel.releases.as_deref().unwrap_or_default();
        // Each object once: a refused release puts its object back.
        for _ in 0..held(sh, from) {
            if held(sh, from) == 0 {
                break;
            }
            execute(sh, &slot, rel, 0, Instant::now(), &mut body).await;
        }
    }
    for del in profile.ops.values().filter(|o| o.kind == OpKind::Delete) {
        let from = del.deletes.as_deref().unwrap_or_default();
        for _ in 0..held(sh, from) {
            let d = execute(sh, &slot, del, 0, Instant::now(), &mut body).await;
            if d.outcome == Outcome::NotSent {
                break;
            }
        }
    }
    let mut left = Vec::new();
    let releasable: Vec<&str> = profile
        .ops
        .values()
        .filter_map(|o| o.releases.as_deref())
        .collect();
    let deletable: Vec<&str> = profile
        .ops
        .values()
        .filter_map(|o| o.deletes.as_deref())
        .collect();
    for (name, pool) in &sh.pools {
        let n = pool.lock().len();
        if n == 0 {
            continue;
        }
        let setup = profile
            .ops
            .get(name)
            .is_some_and(|o| o.kind == OpKind::Setup);
        let why = if releasable.contains(&name.as_str()) || deletable.contains(&name.as_str()) {
            "its release or delete was refused or not answered"
        } else if setup {
            "the profile declares no delete operation for them"
        } else {
            continue;
        };
        let ids: Vec<String> = pool.lock().iter().take(5).map(|o| o.id.clone()).collect();
        left.push(format!(
            "{n} {name} object(s) of tenant {} ({}{}): {why}",
            sh.target.tenant,
            ids.join(", "),
            if n > 5 { ", …" } else { "" }
        ));
    }
    left.sort();
    left
}
