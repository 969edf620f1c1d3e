//! Executing one operation: render, send, classify, record.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Shared, SNAPSHOT};
use crate::check::facts::COORDINATOR;
use crate::history::{OpRecord, Outcome, Reading};
use crate::target::profile::OpKind;
use crate::target::template::Vars;
use crate::target::{classify, extract_id, read_list, CompiledOp, SendFailure};

/// Who sends, under which label, in which phase.
pub(crate) struct Slot<'a> {
    pub phase: u32,
    pub worker: u32,
    pub label: &'a str,
    pub label_index: usize,
}

/// Sends `op` and records it. Returns the snapshot read, for list operations.
pub(crate) async fn execute(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    body: &mut Vec<u8>,
) -> Option<Vec<Reading>> {
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    // A release needs an object to end; with none yet, create one instead.
    let (op, object) = match op.kind {
        OpKind::Release => {
            let from = op.releases.as_deref().unwrap_or_default();
            match sh.pools.get(from).and_then(|p| p.lock().pop()) {
                Some(id) => (op, Some(id)),
                None => match sh.target.profile.ops.get(from) {
                    Some(c) => (c, None),
                    None => (op, None),
                },
            }
        }
        _ => (op, None),
    };
    let request_id = format!("{}-{seq}", sh.run_id);
    let amount = match op.kind {
        OpKind::Consume | OpKind::ConsumeInvalid => op.max_amount.map_or(amount, |m| amount.min(m)),
        _ => 0,
    };
    let vars = Vars {
        tenant: &sh.target.tenant,
        amount,
        request_id: &request_id,
        seq,
        id: object.as_deref().unwrap_or(""),
        seconds: 0,
        now_unix: jiff::Timestamp::now().as_second() + sh.clock_offset.load(Ordering::Relaxed),
    };
    let sent = Instant::now();
    let result = tokio::select! {
        r = sh.target.send(op, &vars, body) => Some(r),
        _ = sh.stop.cancelled() => None,
    };
    let done = Instant::now();
    let mut note = None;
    let mut status = None;
    let mut snapshot = None;
    let mut created = None;
    let outcome = match result {
        None => {
            note = Some("interrupted while in flight".to_string());
            Outcome::Indeterminate
        }
        Some(Err(SendFailure::NotSent(e))) => {
            note = Some(e);
            Outcome::Error
        }
        Some(Err(SendFailure::Indeterminate(e))) => {
            note = Some(e);
            Outcome::Indeterminate
        }
        Some(Ok(ans)) => {
            status = Some(ans.status);
            match classify(op, ans.status, &ans.body) {
                Some(Outcome::Accepted) if op.kind == OpKind::List => {
                    match read_list(op, &ans.body) {
                        Ok(r) => {
                            snapshot = Some(r);
                            Outcome::Accepted
                        }
                        Err(e) => {
                            note = Some(format!("list answer unreadable: {e}"));
                            Outcome::Error
                        }
                    }
                }
                Some(Outcome::Accepted) => {
                    if op.kind == OpKind::Consume {
                        created = extract_id(op, &ans);
                    }
                    Outcome::Accepted
                }
                Some(o) => {
                    if o != Outcome::RejectedQuota && o != Outcome::RejectedInvalid {
                        note = Some(excerpt(&ans.body));
                    }
                    o
                }
                None => {
                    note = Some(format!(
                        "unclassified answer {}: {}",
                        ans.status,
                        excerpt(&ans.body)
                    ));
                    Outcome::Error
                }
            }
        }
    };
    if let (Some(id), Some(pool)) = (&created, sh.pools.get(&op.name)) {
        pool.lock().push(id.clone());
    }
    // A release that did not take effect leaves its object releasable.
    if let (Some(id), OpKind::Release, false) = (&object, op.kind, outcome == Outcome::Accepted) {
        if outcome != Outcome::Indeterminate {
            if let Some(pool) = op.releases.as_deref().and_then(|r| sh.pools.get(r)) {
                pool.lock().push(id.clone());
            }
        }
    }
    let (iu, su, du) = (sh.us(intended), sh.us(sent), sh.us(done));
    sh.recorder.record(
        slot.label_index,
        outcome,
        du.saturating_sub(iu),
        du.saturating_sub(su),
        (du / 1_000_000) as usize,
    );
    sh.counters.done.fetch_add(1, Ordering::Relaxed);
    if matches!(outcome, Outcome::Error | Outcome::Indeterminate) {
        sh.counters.failed.fetch_add(1, Ordering::Relaxed);
    }
    let rec = OpRecord {
        id: seq,
        phase: slot.phase,
        worker: slot.worker,
        op: slot.label.to_string(),
        name: op.name.clone(),
        tenant: sh.target.tenant.clone(),
        amount,
        intended_us: iu,
        sent_us: su,
        done_us: du,
        outcome,
        status,
        object: created.or(object),
        snapshot: snapshot.clone(),
        note,
    };
    // The collector outlives every sender; a send error only means shutdown.
    let _ = sh.sink.send(rec);
    snapshot
}

/// A quiescent list by the coordinator.
pub(crate) async fn snapshot(sh: &Shared, phase: u32) -> Option<Vec<Reading>> {
    let op = sh.target.profile.first_of(OpKind::List)?.clone();
    let slot = Slot {
        phase,
        worker: COORDINATOR,
        label: SNAPSHOT,
        label_index: sh.recorder.label_index(SNAPSHOT)?,
    };
    let mut body = Vec::new();
    execute(sh, &slot, &op, 0, Instant::now(), &mut body).await
}

fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]);
    crate::redact::redact(&s).into_owned()
}
