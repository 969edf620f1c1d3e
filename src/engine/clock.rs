//! Reads of the target's clock (a profile operation of kind `clock`), sent by the
//! coordinator: before the budget plan, at each phase's opening and around the reset
//! probe's steps. Each read is recorded with the target's instant (Unix µs in `amount`)
//! so the checker places operations in the target's periods from the history alone; the
//! run's own notion of the target's time (`clock_offset`) follows the latest read.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Shared;
use crate::api::template::Vars;
use crate::history::OpRecord;
use crate::vocab::{OpKind, Outcome, COORDINATOR};

/// Reads the target's clock once, when the profile declares a clock read. Returns the
/// target's instant; `None` when there is no clock read or it gave no instant.
pub(crate) async fn read(sh: &Shared, phase: u32) -> Option<jiff::Timestamp> {
    if sh.clock_refused.load(Ordering::Relaxed) {
        return None;
    }
    let op = sh.target.profile.first_of(OpKind::Clock)?.clone();
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("{}-{seq}", sh.run_id);
    let vars = Vars {
        tenant: &sh.target.tenant,
        amount: 0,
        request_id: &request_id,
        seq,
        id: "",
        parent: "",
        seconds: 0,
        now_unix: jiff::Timestamp::now().as_second() + sh.clock_offset.load(Ordering::Relaxed),
    };
    let mut body = Vec::new();
    let sent = Instant::now();
    let wall_sent = jiff::Timestamp::now();
    let r = sh.target.read_clock(&op, &vars, &mut body).await;
    let done = Instant::now();
    let p = r.performed;
    if p.outcome.definite() && !matches!(p.outcome, Outcome::Accepted | Outcome::RejectedRate) {
        // A target without the route (404): the run goes on in the wall clock's time,
        // which the checker says it assumed.
        sh.clock_refused.store(true, Ordering::Relaxed);
    }
    // A read before 1970 cannot be recorded in `amount`: it is kept as unread.
    let now = r.now.filter(|t| t.as_microsecond() > 0);
    if let Some(t) = now {
        // The target's time minus ours, at the middle of the exchange.
        let mid = wall_sent.as_microsecond() + (done - sent).as_micros() as i64 / 2;
        let offset = (t.as_microsecond() - mid).div_euclid(1_000_000);
        sh.clock_offset.store(offset, Ordering::Relaxed);
    }
    let note = match (now, p.outcome) {
        (Some(_), _) => None,
        (None, Outcome::Accepted) => p
            .note
            .or_else(|| Some("the clock answer held no instant after 1970".into())),
        (None, _) => p.note,
    };
    let (su, du) = (sh.us(sent), sh.us(done));
    let label_index = sh.recorder.label_index(&op.name).unwrap_or(0);
    sh.recorder.record(
        label_index,
        p.outcome,
        du.saturating_sub(su),
        du.saturating_sub(su),
        (du / 1_000_000) as usize,
    );
    sh.sink.send(OpRecord {
        id: seq,
        phase,
        worker: COORDINATOR,
        op: op.name.as_str().into(),
        name: op.name.as_str().into(),
        tenant: sh.target.tenant.as_str().into(),
        amount: now.map_or(0, |t| t.as_microsecond() as u64),
        intended_us: su,
        sent_us: su,
        done_us: du,
        outcome: p.outcome,
        status: p.status,
        object: None,
        parent: None,
        snapshot: None,
        note: note.map(|n| crate::redact::redact(&n).into_owned().into()),
    });
    now
}
