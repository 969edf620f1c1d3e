//! Executing one operation: find the object it acts on, render, send, classify, record.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Shared, SNAPSHOT};
use crate::api::template::Vars;
use crate::api::{classify, count_sources, extract_id, read_list, CompiledOp, SendFailure};
use crate::history::OpRecord;
use crate::vocab::OpKind;
use crate::vocab::COORDINATOR;
use crate::vocab::{Outcome, Reading, Readings};

/// A live object: what a later consume or release acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obj {
    /// Its id.
    pub id: String,
    /// The parent it lives in, for scoped quotas.
    pub parent: Option<String>,
}

/// Who sends, under which label, in which phase.
pub(crate) struct Slot<'a> {
    pub phase: u32,
    pub worker: u32,
    pub label: &'a str,
    pub label_index: usize,
}

/// What one send produced.
pub(crate) struct Done {
    /// The outcome class (probes judge by it).
    #[allow(dead_code)]
    pub outcome: Outcome,
    /// For list operations: what was read.
    pub snapshot: Option<Readings>,
}

fn pop(sh: &Shared, pool: &str) -> Option<Obj> {
    sh.pools.get(pool).and_then(|p| p.lock().pop())
}

fn peek(sh: &Shared, pool: &str, turn: u64) -> Option<Obj> {
    let p = sh.pools.get(pool)?.lock();
    (!p.is_empty()).then(|| p[(turn as usize) % p.len()].clone())
}

fn push(sh: &Shared, pool: &str, obj: Obj) {
    if let Some(p) = sh.pools.get(pool) {
        p.lock().push(obj);
    }
}

/// Sends `op` (after whatever setup it needs) and records it.
pub(crate) async fn execute(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    body: &mut Vec<u8>,
) -> Done {
    let profile = &sh.target.profile;
    // A release needs an object to end; with none yet, consume instead (reported
    // under the consume's own name).
    let fallback;
    let (op, object, slot) = match (op.kind, op.releases.as_deref()) {
        (OpKind::Release, Some(from)) => match pop(sh, from) {
            Some(o) => (op, Some(o), slot),
            None => match profile.ops.get(from) {
                Some(c) => {
                    fallback = Slot {
                        label: &c.name,
                        label_index: sh.recorder.label_index(&c.name).unwrap_or(slot.label_index),
                        ..*slot
                    };
                    (c, None, &fallback)
                }
                None => (op, None, slot),
            },
        },
        // A delete acts on an object the run created; with none, it is not sent.
        (OpKind::Delete, _) => match op.deletes.as_deref().and_then(|from| pop(sh, from)) {
            Some(o) => (op, Some(o), slot),
            None => {
                return Done {
                    outcome: Outcome::NotSent,
                    snapshot: None,
                }
            }
        },
        _ => (op, None, slot),
    };
    // A consume that moves or acts inside a setup object needs one: create it first.
    let mut object = object;
    if op.kind == OpKind::Consume {
        let (from, moves) = match (&op.takes, &op.uses) {
            (Some(t), _) => (Some(t.as_str()), true),
            (None, Some(u)) => (Some(u.as_str()), false),
            _ => (None, false),
        };
        if let Some(from) = from {
            let found = if moves {
                pop(sh, from)
            } else {
                peek(sh, from, sh.seq.load(Ordering::Relaxed))
            };
            object = match found {
                Some(o) => Some(o),
                None => match profile.ops.get(from) {
                    Some(setup) => {
                        let setup_slot = Slot {
                            label: &setup.name,
                            label_index: sh
                                .recorder
                                .label_index(&setup.name)
                                .unwrap_or(slot.label_index),
                            ..*slot
                        };
                        send_record(sh, &setup_slot, setup, 0, Instant::now(), None, body).await;
                        if moves {
                            pop(sh, from)
                        } else {
                            peek(sh, from, 0)
                        }
                    }
                    None => None,
                },
            };
            if object.is_none() {
                // The setup failed: record the consume as not sent, with the reason.
                return Done {
                    outcome: Outcome::Error,
                    snapshot: None,
                };
            }
        }
    }
    send_record(sh, slot, op, amount, intended, object, body).await
}

async fn send_record(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    object: Option<Obj>,
    body: &mut Vec<u8>,
) -> Done {
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    // Rendered on the stack: most operations never use it, all of them carry it.
    let mut id_buf = [0u8; 64];
    let id_len = {
        let mut w = &mut id_buf[..];
        let _ = write!(w, "{}-{seq}", sh.run_id);
        64 - w.len()
    };
    let request_id = std::str::from_utf8(&id_buf[..id_len]).unwrap_or_default();
    let amount = match op.kind {
        OpKind::Consume | OpKind::ConsumeInvalid => op.max_amount.map_or(amount, |m| amount.min(m)),
        _ => 0,
    };
    // A scoped consume acts inside its object; a moving consume or a release acts on it.
    let (id, parent) = match (&object, op.uses.is_some()) {
        (Some(o), true) => (String::new(), Some(o.id.clone())),
        (Some(o), false) => (o.id.clone(), o.parent.clone()),
        (None, _) => (String::new(), None),
    };
    let vars = Vars {
        tenant: &sh.target.tenant,
        amount,
        request_id,
        seq,
        id: &id,
        parent: parent.as_deref().unwrap_or(""),
        seconds: 0,
        now_unix: jiff::Timestamp::now().as_second() + sh.clock_offset.load(Ordering::Relaxed),
    };
    let sent = Instant::now();
    let result = tokio::select! {
        r = sh.target.send(op, &vars, body) => Some(r),
        _ = sh.stop.cancelled() => None,
    };
    let mut note = None;
    let mut status = None;
    let mut snapshot = None;
    let mut created = None;
    let mut outcome = match &result {
        None => {
            note = Some(crate::vocab::INTERRUPTED_NOTE.to_string());
            Outcome::Indeterminate
        }
        Some(Err(SendFailure::NotSent(e))) => {
            note = Some(e.clone());
            Outcome::Error
        }
        Some(Err(SendFailure::Indeterminate(e))) => {
            note = Some(e.clone());
            Outcome::Indeterminate
        }
        Some(Ok(ans)) => {
            status = Some(ans.status);
            match classify(op, ans.status, &ans.body) {
                Some(Outcome::Accepted) => {
                    if matches!(op.kind, OpKind::Consume | OpKind::Setup) {
                        created = extract_id(op, ans);
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
    if let (OpKind::List, Outcome::Accepted, Some(Ok(ans))) = (op.kind, outcome, &result) {
        // APIs that list limits only: count consumption from resource listings.
        let mut resources = Vec::new();
        for from in count_sources(op) {
            let Some(rop) = sh.target.profile.ops.get(&from) else {
                continue;
            };
            match sh.target.send(rop, &vars, body).await {
                Ok(a) if classify(rop, a.status, &a.body) == Some(Outcome::Accepted) => {
                    resources.push((from, a.body.to_vec()))
                }
                Ok(a) => note = Some(format!("{from} answered {}", a.status)),
                Err(SendFailure::NotSent(e) | SendFailure::Indeterminate(e)) => {
                    note = Some(format!("{from}: {e}"))
                }
            }
        }
        // While nothing changes, a list answers the same bytes: reuse what they said.
        let cached = if resources.is_empty() {
            let c = sh.list_cache.lock();
            c.as_ref()
                .filter(|(n, b, _)| *n == op.name && b[..] == ans.body[..])
                .map(|(_, _, r)| r.clone())
        } else {
            None
        };
        let read = match cached {
            Some(r) => Ok(r),
            None => read_list(op, &ans.body, &resources)
                .map(Readings::from)
                .inspect(|r| {
                    if resources.is_empty() {
                        *sh.list_cache.lock() =
                            Some((op.name.clone(), ans.body.to_vec(), r.clone()));
                    }
                }),
        };
        match read {
            Ok(r) => snapshot = Some(r),
            Err(e) => {
                note = Some(format!("list answer unreadable: {e}"));
                outcome = Outcome::Error;
            }
        }
    }
    let done = Instant::now();
    settle_objects(
        sh,
        op,
        outcome,
        object.as_ref(),
        created.as_deref(),
        parent.as_deref(),
    );
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
    let object_id = match (&created, &object, op.uses.is_some()) {
        (Some(c), _, _) => Some(c.clone()),
        (None, Some(o), false) => Some(o.id.clone()),
        _ => None,
    };
    let rec = OpRecord {
        id: seq,
        phase: slot.phase,
        worker: slot.worker,
        op: slot.label.into(),
        name: op.name.as_str().into(),
        tenant: sh.target.tenant.as_str().into(),
        amount,
        intended_us: iu,
        sent_us: su,
        done_us: du,
        outcome,
        status,
        object: object_id.map(Into::into),
        parent: parent.map(Into::into),
        snapshot: snapshot.clone(),
        note: note.map(Into::into),
    };
    // The collector outlives every sender; a send error only means shutdown.
    let _ = sh.sink.send(rec);
    Done { outcome, snapshot }
}

/// Moves objects between pools according to what the target answered.
fn settle_objects(
    sh: &Shared,
    op: &CompiledOp,
    outcome: Outcome,
    object: Option<&Obj>,
    created: Option<&str>,
    parent: Option<&str>,
) {
    let accepted = outcome == Outcome::Accepted;
    match op.kind {
        OpKind::Setup if accepted => {
            if let Some(id) = created {
                push(
                    sh,
                    &op.name,
                    Obj {
                        id: id.into(),
                        parent: None,
                    },
                );
            }
        }
        OpKind::Consume => {
            let obj = match (created, object, op.uses.is_some()) {
                (Some(id), _, _) => Some(Obj {
                    id: id.into(),
                    parent: parent.map(str::to_string),
                }),
                (None, Some(o), false) => Some(o.clone()),
                _ => None,
            };
            match (accepted, obj) {
                (true, Some(o)) => push(sh, &op.name, o),
                // A moved setup object that was not consumed stays available.
                (false, Some(o)) if op.takes.is_some() && outcome != Outcome::Indeterminate => {
                    push(sh, op.takes.as_deref().unwrap_or_default(), o)
                }
                _ => {}
            }
        }
        OpKind::Release => {
            let Some(o) = object else { return };
            let from = op.releases.as_deref().unwrap_or_default();
            if accepted {
                // Released objects a consume had moved out of a setup pool go back there.
                if let Some(setup) = sh
                    .target
                    .profile
                    .ops
                    .get(from)
                    .and_then(|c| c.takes.clone())
                {
                    push(sh, &setup, o.clone());
                }
            } else if outcome != Outcome::Indeterminate {
                push(sh, from, o.clone());
            }
        }
        // An object whose delete was refused stays the run's.
        OpKind::Delete if !accepted && outcome != Outcome::Indeterminate => {
            if let (Some(o), Some(from)) = (object, op.deletes.as_deref()) {
                push(sh, from, o.clone());
            }
        }
        _ => {}
    }
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
    send_record(sh, &slot, &op, 0, Instant::now(), None, &mut body)
        .await
        .snapshot
        .map(|s| s.to_vec())
}

fn excerpt(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(300)]);
    crate::redact::redact(&s).into_owned()
}
