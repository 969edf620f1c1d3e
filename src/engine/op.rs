//! Executing one operation: find the object it acts on, have the api perform it, time
//! it, settle the objects it made or ended, and record it. Everything about the wire
//! (rendering, classification, ids, counting lists, reading) is `api::Target::perform`.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Shared, SNAPSHOT};
use crate::api::perform::RATE_RETRIES;
use crate::api::template::Vars;
use crate::api::{CompiledOp, Performed};
use crate::history::{OpRecord, Sym};
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

/// A worker's wait for the run's stop, made once and polled by each of its operations:
/// a fresh `stop.cancelled()` per operation would take the token's lock (shared by
/// every shard) twice per request, to register and to unregister.
pub(crate) type StopWait = std::pin::Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>;

/// Sends `op` (after whatever setup it needs) and records it.
pub(crate) async fn execute(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    body: &mut Vec<u8>,
) -> Done {
    execute_in(sh, slot, op, amount, intended, body, None, None).await
}

/// [`execute`], with a consume that acts inside a parent (`uses:`) sent inside `pinned`
/// when given, instead of the run's parents in turn (a race on one parent); `stop`: the
/// worker's own wait for the stop, when it has one.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute_in(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    body: &mut Vec<u8>,
    pinned: Option<&Obj>,
    mut stop: Option<&mut StopWait>,
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
            let found = match (moves, pinned) {
                (true, _) => pop(sh, from),
                (false, Some(p)) => Some(p.clone()),
                (false, None) => peek(sh, from, sh.seq.load(Ordering::Relaxed)),
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
                        send_record(
                            sh,
                            &setup_slot,
                            setup,
                            0,
                            Instant::now(),
                            None,
                            body,
                            stop.as_deref_mut(),
                        )
                        .await;
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
                // The setup failed (and was recorded): the consume was never sent.
                return Done {
                    outcome: Outcome::NotSent,
                    snapshot: None,
                };
            }
        }
    }
    send_record(sh, slot, op, amount, intended, object, body, stop).await
}

/// Sends one operation and records it. The coordinator (probes, snapshots) is patient:
/// a rate-limit answer is recorded, waited on (`Retry-After`, capped) and sent again, up
/// to [`RATE_RETRIES`] times. Workers are not: their rate-limited operation is recorded
/// `rejected_rate` and the schedule goes on (retrying would distort the load).
#[allow(clippy::too_many_arguments)]
async fn send_record(
    sh: &Shared,
    slot: &Slot<'_>,
    op: &CompiledOp,
    amount: u64,
    intended: Instant,
    object: Option<Obj>,
    body: &mut Vec<u8>,
    mut stop: Option<&mut StopWait>,
) -> Done {
    let patient = slot.worker == COORDINATOR;
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
    let mut intended = intended;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
        // Rendered on the stack: most operations never use it, all of them carry it.
        let mut id_buf = [0u8; 64];
        let id_len = {
            let mut w = &mut id_buf[..];
            let _ = write!(w, "{}-{seq}", sh.run_id);
            64 - w.len()
        };
        let request_id = std::str::from_utf8(&id_buf[..id_len]).unwrap_or_default();
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
        let in_flight = sh.live.in_flight();
        let sent = Instant::now();
        // Made, not polled (no lock), when the worker brings its own.
        let mut fresh = std::pin::pin!(sh.stop.cancelled());
        let stopped: std::pin::Pin<&mut (dyn std::future::Future<Output = ()> + Send)> =
            match stop.as_deref_mut() {
                Some(w) => w.as_mut(),
                None => fresh.as_mut(),
            };
        let p = tokio::select! {
            p = sh.target.perform(op, &vars, body) => p,
            _ = stopped => Performed {
                outcome: Outcome::Indeterminate,
                status: None,
                headers: Default::default(),
                created: None,
                readings: None,
                note: Some(crate::vocab::INTERRUPTED_NOTE.to_string()),
                follow_ups: Vec::new(),
                by_rule: false,
            },
        };
        let done = Instant::now();
        drop(in_flight);
        let again = patient
            && p.outcome == Outcome::RejectedRate
            && attempt < RATE_RETRIES
            && !sh.stop.is_cancelled();
        if !again {
            settle_objects(
                sh,
                op,
                p.outcome,
                object.as_ref(),
                p.created.as_deref(),
                parent.as_deref(),
            );
        }
        let object_id = match (&p.created, &object, op.uses.is_some()) {
            (Some(c), _, _) => Some(c.clone()),
            (None, Some(o), false) => Some(o.id.clone()),
            _ => None,
        };
        let wait = again.then(|| p.retry_wait());
        let outcome = p.outcome;
        let snapshot = p.readings;
        let rec = OpRecord {
            id: seq,
            phase: slot.phase,
            worker: slot.worker,
            op: interned(slot.label),
            name: interned(&op.name),
            tenant: interned(&sh.target.tenant),
            amount,
            intended_us: sh.us(intended),
            sent_us: sh.us(sent),
            done_us: sh.us(done),
            outcome,
            status: p.status,
            object: object_id.map(Into::into),
            parent: parent.clone().map(Into::into),
            snapshot: snapshot.clone(),
            note: p.note.map(Into::into),
        };
        record(sh, slot, rec);
        match wait {
            Some(w) => {
                tokio::select! {
                    _ = tokio::time::sleep(w) => {}
                    _ = sh.stop.cancelled() => {}
                }
                intended = Instant::now();
            }
            None => return Done { outcome, snapshot },
        }
    }
}

thread_local! {
    /// The names this thread's records carried (labels, operations, tenants: a few).
    static NAMES: std::cell::RefCell<Vec<(String, Sym)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `Sym::new(s)` through this thread's few names: the process-wide table takes a lock
/// (shared by every shard's thread and the history writer) and hashes the name, three
/// times per operation otherwise.
fn interned(s: &str) -> Sym {
    NAMES.with(|n| {
        if let Some((_, sym)) = n.borrow().iter().find(|(k, _)| k == s) {
            return *sym;
        }
        let sym = Sym::new(s);
        let mut n = n.borrow_mut();
        if n.len() < 64 {
            n.push((s.to_string(), sym));
        }
        sym
    })
}

/// Counts an operation in the metrics and sends it to the history: on a shard, the
/// shard's one recording point (shard.rs); on the coordinator, the run's recorder and
/// one record sent alone.
fn record(sh: &Shared, slot: &Slot<'_>, rec: OpRecord) {
    // Live metrics see every operation, a shard's or the coordinator's.
    sh.live.record(slot.label_index, &rec);
    let Some(rec) = super::shard::complete(slot.label_index, rec) else {
        return;
    };
    sh.recorder.record_op(slot.label_index, &rec);
    sh.counters.done.fetch_add(1, Ordering::Relaxed);
    if matches!(
        rec.outcome,
        Outcome::Error | Outcome::Indeterminate | Outcome::NotSent
    ) {
        sh.counters.failed.fetch_add(1, Ordering::Relaxed);
    }
    sh.sink.send(rec);
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

/// Creates one new parent object with the setup operation `setup` (by the coordinator,
/// under the setup's own label) and returns it; `None` when the target refused it or
/// gave it no id (the attempt is in the history).
pub(crate) async fn new_parent(sh: &Shared, phase: u32, setup: &CompiledOp) -> Option<Obj> {
    let slot = Slot {
        phase,
        worker: COORDINATOR,
        label: &setup.name,
        label_index: sh.recorder.label_index(&setup.name).unwrap_or(0),
    };
    let before = sh.pools.get(&setup.name).map_or(0, |p| p.lock().len());
    let mut body = Vec::new();
    let done = send_record(sh, &slot, setup, 0, Instant::now(), None, &mut body, None).await;
    if done.outcome != Outcome::Accepted {
        return None;
    }
    // The coordinator runs alone here, so the one object added is the new one.
    let p = sh.pools.get(&setup.name)?.lock();
    (p.len() > before).then(|| p.last().cloned()).flatten()
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
    send_record(sh, &slot, &op, 0, Instant::now(), None, &mut body, None)
        .await
        .snapshot
        .map(|s| s.to_vec())
}
