//! Probes: sequential procedures run by the coordinator that produce the evidence some
//! rules need (an exact fill, a request without credentials, a clock moved across a
//! boundary…). Every request is recorded in the history like any other operation, under
//! the probe's label (`probe.boundary`), with a quiescent snapshot between steps, so the
//! checker judges a probe offline from the history alone.
//!
//! A probe never assumes the target's numbers: it reads each quota's limit and
//! consumption first and sizes its orders from what remains.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::op::{self, execute, Slot};
use super::{PhaseStats, Plan, Shared};
use crate::api::template::Vars;
use crate::api::{CompiledOp, Target};
use crate::history::OpRecord;
use crate::scenario::{Phase, ProbeKind};
use crate::vocab::boundary;
use crate::vocab::COORDINATOR;
use crate::vocab::{OpKind, QuotaKind};
use crate::vocab::{Outcome, Reading};

/// The boundary probe leaves at most this much before its exact-fill step, so the
/// three orders (R+1, R, 1) stay small whatever the limit.
const LEAVE: u64 = 1000;
/// The release probe fills a concurrent quota only when this few slots remain.
const MAX_FILL: u64 = 200;
/// A bound on fill orders, so a target that never fills cannot hold a probe forever.
const MAX_STEPS: usize = 64;
/// The value credential headers are replaced with: no scheme, no plausible token.
const INVALID_CREDENTIAL: &str = "quotabench-invalid-credential";

type Snap = BTreeMap<String, Reading>;

/// Runs one probe phase to its end.
pub(crate) async fn run(
    sh: &Arc<Shared>,
    plan: &Plan,
    index: u32,
    phase: &Phase,
    kind: ProbeKind,
) -> PhaseStats {
    let start = Instant::now();
    let first = sh.seq.load(Ordering::Relaxed);
    let p = Probe {
        sh,
        plan,
        phase: index,
        label: kind.label(),
        label_index: sh.recorder.label_index(kind.label()).unwrap_or(0),
        wait: phase.wait.map(|w| w.0),
    };
    match kind {
        ProbeKind::Boundary => p.boundary().await,
        ProbeKind::Credentials => p.credentials().await,
        ProbeKind::Isolation => p.isolation().await,
        ProbeKind::Reset => p.reset().await,
        ProbeKind::Release => p.release().await,
    };
    PhaseStats {
        name: phase.name.clone(),
        seconds: start.elapsed().as_secs_f64(),
        operations: sh.seq.load(Ordering::Relaxed) - first,
        asked_rate: None,
        achieved_rate: None,
        late: 0,
        dropped: 0,
        amounts: BTreeMap::new(),
        started_s: None,
    }
}

struct Probe<'a> {
    sh: &'a Arc<Shared>,
    plan: &'a Plan,
    phase: u32,
    label: &'static str,
    label_index: usize,
    /// `probe: reset` with `wait:`: how long it may wait for a real boundary.
    wait: Option<Duration>,
}

impl Probe<'_> {
    fn slot(&self) -> Slot<'_> {
        Slot {
            phase: self.phase,
            worker: COORDINATOR,
            label: self.label,
            label_index: self.label_index,
        }
    }

    /// A quiescent snapshot, after the declared consistency window has passed.
    async fn snap(&self) -> Option<Snap> {
        let window = self
            .sh
            .target
            .profile
            .profile
            .capabilities
            .consistency_window
            .0;
        tokio::time::sleep(window).await;
        let r = op::snapshot(self.sh, self.phase).await?;
        Some(r.into_iter().map(|r| (r.name.to_string(), r)).collect())
    }

    async fn send(&self, op: &CompiledOp, amount: u64) -> Outcome {
        self.send_via(self.sh, op, amount).await
    }

    async fn send_via(&self, sh: &Shared, op: &CompiledOp, amount: u64) -> Outcome {
        let mut body = Vec::new();
        execute(sh, &self.slot(), op, amount, Instant::now(), &mut body)
            .await
            .outcome
    }

    fn stopped(&self) -> bool {
        self.sh.stop.is_cancelled()
    }

    fn quota_kind(&self, name: &str) -> Option<QuotaKind> {
        let quotas = &self.sh.target.profile.profile.quotas;
        quotas.iter().find(|q| q.name == name).map(|q| q.kind)
    }

    /// The consume the boundary, credentials, isolation and reset probes send: the first
    /// one drawing on a period quota, else the first consume.
    fn main_consume(&self) -> Option<CompiledOp> {
        let ops = &self.sh.target.profile.ops;
        ops.values()
            .filter(|o| o.kind == OpKind::Consume)
            .find(|o| {
                o.touches
                    .iter()
                    .any(|t| self.quota_kind(t) == Some(QuotaKind::Period))
            })
            .or_else(|| self.sh.target.profile.first_of(OpKind::Consume))
            .cloned()
    }

    /// What remains of the tightest (period or concurrent) quota `op` draws on.
    fn remaining(&self, snap: &Snap, op: &CompiledOp) -> Option<u64> {
        op.touches
            .iter()
            .filter(|t| self.quota_kind(t) != Some(QuotaKind::Scoped))
            .filter_map(|t| snap.get(t))
            .map(|r| r.limit.saturating_sub(r.consumed))
            .min()
    }

    /// Fill down to a small remainder R with the largest orders allowed, then R+1 (must
    /// be rejected whole), R (must be accepted: an exact fill) and 1 (must be rejected).
    async fn boundary(&self) {
        let Some(op) = self.main_consume() else {
            return;
        };
        let max = op.max_amount.unwrap_or(u64::MAX).max(1);
        let Some(mut snap) = self.snap().await else {
            return;
        };
        let Some(mut r) = self.remaining(&snap, &op) else {
            return;
        };
        // R+1 must fit in one order, so R stays below the largest order.
        let keep = r.min(LEAVE).min(max - 1);
        for _ in 0..MAX_STEPS {
            if r <= keep || self.stopped() {
                break;
            }
            if self.send(&op, (r - keep).min(max)).await != Outcome::Accepted {
                return;
            }
            match self.snap().await {
                Some(s) => snap = s,
                None => return,
            }
            match self.remaining(&snap, &op) {
                Some(x) => r = x,
                None => return,
            }
        }
        if r > keep {
            return;
        }
        for amount in [r + 1, r, 1] {
            if amount == 0 || self.stopped() {
                continue;
            }
            self.send(&op, amount).await;
            self.snap().await;
        }
    }

    /// A target like the main one but with other headers or another tenant. Its requests
    /// share the run's ids, clock, metrics and history.
    fn variant(&self, tenant: &str, headers: &[(String, String)]) -> Option<Shared> {
        let sh = self.sh;
        let t = &self.plan.loaded.scenario.target;
        let timeout = t.timeout.map_or(Duration::from_secs(10), |d| d.0);
        let target = Target::new(
            &sh.target.base_url,
            tenant,
            sh.target.profile.clone(),
            headers,
            timeout,
            1,
        )
        .ok()?;
        Some(sh.with_target(Arc::new(target)))
    }

    fn done_with(&self, v: Shared) {
        self.sh
            .seq
            .fetch_max(v.seq.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn scenario_headers(&self) -> Vec<(String, String)> {
        let t = &self.plan.loaded.scenario.target;
        t.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// A consume with the credential headers removed, then one with them replaced by an
    /// invalid value; a snapshot after each shows whether anything was counted.
    async fn credentials(&self) {
        let Some(mut op) = self.main_consume() else {
            return;
        };
        // A consume that needs a setup object would send the setup first, under the
        // setup's own label: send the setup itself, which needs credentials as much.
        let setup = op.takes.as_ref().or(op.uses.as_ref());
        if let Some(s) = setup.and_then(|s| self.sh.target.profile.ops.get(s)) {
            op = s.clone();
        }
        let all = self.scenario_headers();
        let (creds, others): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|(k, _)| crate::redact::is_sensitive_header(k));
        if creds.is_empty() {
            return;
        }
        let mut invalid = others.clone();
        invalid.extend(
            creds
                .iter()
                .map(|(k, _)| (k.clone(), INVALID_CREDENTIAL.to_string())),
        );
        let tenant = self.sh.target.tenant.clone();
        for headers in [others, invalid] {
            let Some(v) = self.variant(&tenant, &headers) else {
                return;
            };
            self.send_via(&v, &op, 1).await;
            self.done_with(v);
            self.snap().await;
        }
    }

    /// Both directions, each judged by admission and by counters. First, while the main
    /// tenant has room, a one-unit order there with the other tenant's counters read
    /// around it (they must not move). Then, with a consume that can be released (an
    /// enable, an expiration; else the probes' usual consume): the main tenant is filled
    /// to its cap and the other tenant consumes one unit, which its own counters say
    /// fits, so it must be admitted (an admission count shared between tenants refuses
    /// it), with the main tenant's counters read around it; then the other way round:
    /// the other tenant is filled to its cap, the main tenant releases one object, and
    /// consumes one unit, which must be admitted while its own snapshot shows room.
    /// Fills are bounded (see [`Probe::fill`]). What it created on the other tenant is
    /// cleaned up; the main tenant's fill is released.
    async fn isolation(&self) {
        let other = self.plan.loaded.scenario.target.other_tenant.as_ref();
        let Some(other) = other.map(|o| o.value.clone()).filter(|o| !o.is_empty()) else {
            return;
        };
        let (Some(op), Some(list)) = (
            self.main_consume(),
            self.sh.target.profile.first_of(OpKind::List).cloned(),
        ) else {
            return;
        };
        let Some(v) = self.variant(&other, &self.scenario_headers()) else {
            return;
        };
        self.read_via(&v, &list).await;
        let room = self
            .snap()
            .await
            .and_then(|s| self.remaining(&s, &op))
            .unwrap_or(0);
        if room > 0 && !self.stopped() {
            self.send(&op, 1).await;
            self.snap().await;
            self.read_via(&v, &list).await;
        }
        let (x, rel) = self.releasable().unwrap_or((op, None));
        // Main full, the other consumes.
        if !self.stopped() {
            self.fill(self.sh, &x, None).await;
            self.sync_into(&v);
            self.send_via(&v, &x, 1).await;
            self.done_with_ids(&v);
            self.snap().await;
            self.read_via(&v, &list).await;
        }
        // The other full, the main tenant consumes.
        if !self.stopped() {
            self.fill(&v, &x, Some(&list)).await;
            if let Some(rel) = &rel {
                self.send(rel, 1).await;
            }
            let room = self
                .snap()
                .await
                .and_then(|s| self.remaining(&s, &x))
                .unwrap_or(0);
            if room > 0 && !self.stopped() {
                self.send(&x, 1).await;
                self.snap().await;
                self.read_via(&v, &list).await;
            }
        }
        if let Some(rel) = &rel {
            self.release_all(rel, &x).await;
        }
        let cleaner = super::cleanup::detached(&v);
        self.sync_into(&cleaner);
        let left = super::cleanup::clean(&cleaner, self.phase).await;
        self.sh.left.lock().extend(left);
        self.done_with(cleaner);
    }

    /// The first consume drawing only on concurrent quotas (besides scoped ones) that a
    /// release ends, with that release: filling it costs nothing that stays consumed.
    fn releasable(&self) -> Option<(CompiledOp, Option<CompiledOp>)> {
        let profile = &self.sh.target.profile;
        profile
            .ops
            .values()
            .filter(|r| r.kind == OpKind::Release)
            .find_map(|r| {
                let c = profile.ops.get(r.releases.as_deref()?)?;
                let kinds: Vec<_> = c
                    .touches
                    .iter()
                    .filter_map(|t| self.quota_kind(t))
                    .collect();
                let only = kinds.contains(&QuotaKind::Concurrent)
                    && kinds.iter().all(|k| *k != QuotaKind::Period);
                (c.kind == OpKind::Consume && c.uses.is_none() && only)
                    .then(|| (c.clone(), Some(r.clone())))
            })
    }

    /// Fills what `op` draws on, on the tenant of `via`, to its cap: orders of what
    /// remains (capped at the largest order) with a read after each — the main tenant's
    /// snapshot, or `list` sent through `via` for another tenant. Bounded: at most
    /// [`MAX_STEPS`] orders, and only when no more than [`MAX_FILL`] orders' worth
    /// remains of a quota limited to one unit per order; it stops at the first refusal.
    async fn fill(&self, via: &Shared, op: &CompiledOp, list: Option<&CompiledOp>) {
        let max = op.max_amount.unwrap_or(u64::MAX).max(1);
        for step in 0..MAX_STEPS {
            if self.stopped() {
                return;
            }
            let snap = match list {
                Some(l) => self.read_via(via, l).await,
                None => self.snap().await,
            };
            let Some(r) = snap.and_then(|s| self.remaining(&s, op)) else {
                return;
            };
            if r == 0 || (step == 0 && r.div_ceil(max) > MAX_FILL) {
                return;
            }
            self.sync_into(via);
            let out = self.send_via(via, op, r.min(max)).await;
            self.done_with_ids(via);
            if out != Outcome::Accepted {
                return;
            }
        }
    }

    /// Sends `list` through `via` (another tenant) and returns what it read.
    async fn read_via(&self, via: &Shared, list: &CompiledOp) -> Option<Snap> {
        self.sync_into(via);
        let mut body = Vec::new();
        let done = execute(via, &self.slot(), list, 0, Instant::now(), &mut body).await;
        self.done_with_ids(via);
        let r = done.snapshot?;
        Some(r.iter().map(|r| (r.name.to_string(), r.clone())).collect())
    }

    /// Hands the run's request ids on to a variant before it sends.
    fn sync_into(&self, v: &Shared) {
        v.seq
            .fetch_max(self.sh.seq.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn done_with_ids(&self, v: &Shared) {
        self.sh
            .seq
            .fetch_max(v.seq.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Moves the target's clock by `seconds` through the profile's clock hook. Recorded
    /// with the seconds in `amount`; the run's notion of the target's time follows.
    async fn advance(&self, op: &CompiledOp, seconds: u64) -> Outcome {
        let sh = self.sh;
        let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{}-{seq}", sh.run_id);
        let vars = Vars {
            tenant: &sh.target.tenant,
            amount: 0,
            request_id: &request_id,
            seq,
            id: "",
            parent: "",
            seconds,
            now_unix: jiff::Timestamp::now().as_second() + sh.clock_offset.load(Ordering::Relaxed),
        };
        let mut body = Vec::new();
        let sent = Instant::now();
        let p = sh.target.perform(op, &vars, &mut body).await;
        let done = Instant::now();
        let (outcome, status) = (p.outcome, p.status);
        let note = (outcome != Outcome::Accepted).then_some(p.note).flatten();
        if outcome == Outcome::Accepted {
            sh.clock_offset.fetch_add(seconds as i64, Ordering::Relaxed);
        }
        let (su, du) = (sh.us(sent), sh.us(done));
        sh.recorder.record(
            self.label_index,
            outcome,
            du.saturating_sub(su),
            du.saturating_sub(su),
            (du / 1_000_000) as usize,
        );
        sh.sink.send(OpRecord {
            id: seq,
            phase: self.phase,
            worker: COORDINATOR,
            op: self.label.into(),
            name: op.name.as_str().into(),
            tenant: sh.target.tenant.as_str().into(),
            amount: seconds,
            intended_us: su,
            sent_us: su,
            done_us: du,
            outcome,
            status,
            object: None,
            parent: None,
            snapshot: None,
            note: note.map(|n| crate::redact::redact(&n).into_owned().into()),
        });
        outcome
    }

    /// The target's time as the run knows it: the wall clock plus every move so far.
    fn target_now(&self) -> jiff::Timestamp {
        let s = jiff::Timestamp::now().as_second() + self.sh.clock_offset.load(Ordering::Relaxed);
        jiff::Timestamp::from_second(s).unwrap_or_else(|_| jiff::Timestamp::now())
    }

    /// Lands just before `boundary`, consumes one unit, then crosses it; snapshots on
    /// each side. False when the clock hook refused.
    async fn cross(&self, clock: &CompiledOp, op: &CompiledOp, boundary: i64, margin: i64) -> bool {
        // Where the target's clock really is (when the profile can read it): a target
        // whose clock is not ours is moved to its own boundary, not to ours.
        super::clock::read(self.sh, self.phase).await;
        let to = boundary - margin - self.target_now().as_second();
        if to > 0 && self.advance(clock, to as u64).await != Outcome::Accepted {
            return false;
        }
        self.snap().await;
        self.send(op, 1).await;
        self.snap().await;
        if self.advance(clock, 2 * margin as u64).await != Outcome::Accepted {
            return false;
        }
        super::clock::read(self.sh, self.phase).await;
        self.snap().await;
        // Admission resumes after the reset: a one-unit order.
        self.send(op, 1).await;
        self.snap().await;
        true
    }

    /// Crosses a daily boundary that does not start a month (monthly counters must
    /// stay), then a month boundary (they must reset). Without clock control and with
    /// `wait:`, waits for the next real boundary instead.
    async fn reset(&self) {
        if let (Some(wait), false) = (self.wait, self.plan.clock_control) {
            if let Some(op) = self.main_consume() {
                self.wait_for_boundary(&op, wait).await;
            }
            return;
        }
        let Some(clock) = self
            .sh
            .target
            .profile
            .first_of(OpKind::AdvanceClock)
            .cloned()
        else {
            return;
        };
        let Some(op) = self.main_consume() else {
            return;
        };
        let tolerance = self
            .sh
            .target
            .profile
            .profile
            .capabilities
            .reset_tolerance
            .0;
        // Far enough from the boundary that the run's uncertainty about the target's time
        // (its own duration) cannot put a step on the wrong side.
        let margin = 600 + tolerance.as_secs() as i64;
        let day = next_day_not_first(self.target_now(), margin + 60);
        if !self.cross(&clock, &op, day, margin).await || self.stopped() {
            return;
        }
        let month = next_month(self.target_now(), margin + 60);
        self.cross(&clock, &op, month, margin).await;
    }

    /// The real-clock form: when the next period boundary (in the target's time) falls
    /// within `wait`, one unit is consumed before it, the probe waits until the boundary
    /// plus the reset tolerance has passed, and one unit is consumed after it, with
    /// snapshots around each step (the reset rules compare them). A boundary beyond the
    /// wait sends nothing: the rules name it from the history (`reset_wait`).
    async fn wait_for_boundary(&self, op: &CompiledOp, wait: Duration) {
        super::clock::read(self.sh, self.phase).await;
        let quotas = &self.sh.target.profile.profile.quotas;
        let now = self.target_now().as_second();
        let Some((b, _)) = boundary::next_of(quotas, now) else {
            return;
        };
        if b - now > wait.as_secs() as i64 {
            return;
        }
        self.snap().await;
        self.send(op, 1).await;
        self.snap().await;
        let tolerance = self
            .sh
            .target
            .profile
            .profile
            .capabilities
            .reset_tolerance
            .0;
        // A second past the tolerance: the target's time is known to the second.
        let until_ms = (b + 1) * 1000 + tolerance.as_millis() as i64;
        let now_ms = jiff::Timestamp::now().as_millisecond()
            + self.sh.clock_offset.load(Ordering::Relaxed) * 1000;
        let sleep = Duration::from_millis(until_ms.saturating_sub(now_ms).max(0) as u64);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = self.sh.stop.cancelled() => return,
        }
        super::clock::read(self.sh, self.phase).await;
        self.snap().await;
        // Admission resumes after the reset: a one-unit order.
        self.send(op, 1).await;
        self.snap().await;
    }

    /// For every kind of release the profile declares: fills the quota it frees to its
    /// cap and one past it, releases one object, and consumes one again, with a
    /// snapshot after each step; then releases what the run left active. A concurrent
    /// quota is filled on the tenant; a scoped one inside one parent the probe creates.
    async fn release(&self) {
        let profile = &self.sh.target.profile;
        let kinds: Vec<(CompiledOp, CompiledOp, QuotaKind)> = profile
            .ops
            .values()
            .filter(|o| o.kind == OpKind::Release)
            .filter_map(|r| {
                let c = profile.ops.get(r.releases.as_deref()?)?;
                let kind = [QuotaKind::Concurrent, QuotaKind::Scoped]
                    .into_iter()
                    .find(|k| c.touches.iter().any(|t| self.quota_kind(t) == Some(*k)))?;
                Some((r.clone(), c.clone(), kind))
            })
            .collect();
        for (rel, cons, kind) in kinds {
            if self.stopped() {
                return;
            }
            match kind {
                QuotaKind::Scoped => self.release_in_parent(&rel, &cons).await,
                _ => self.release_concurrent(&rel, &cons).await,
            }
        }
    }

    async fn release_concurrent(&self, rel: &CompiledOp, cons: &CompiledOp) {
        let Some(snap) = self.snap().await else {
            return;
        };
        let Some(r) = self.remaining(&snap, cons) else {
            return;
        };
        let creates = if r <= MAX_FILL { r + 1 } else { 1 };
        for _ in 0..creates {
            if self.stopped() {
                return;
            }
            self.send(cons, 1).await;
            self.snap().await;
        }
        for o in [rel, cons] {
            self.send(o, 1).await;
            self.snap().await;
        }
        self.release_all(rel, cons).await;
    }

    /// A scoped quota (destinations per configuration): in a parent of its own, consumes
    /// up to the limit and one past it, releases one, consumes one again.
    async fn release_in_parent(&self, rel: &CompiledOp, cons: &CompiledOp) {
        let Some(setup) = cons
            .uses
            .as_deref()
            .and_then(|u| self.sh.target.profile.ops.get(u))
        else {
            return;
        };
        let Some(parent) = op::new_parent(self.sh, self.phase, setup).await else {
            return;
        };
        let Some(snap) = self.snap().await else {
            return;
        };
        let limit = cons
            .touches
            .iter()
            .filter(|t| self.quota_kind(t) == Some(QuotaKind::Scoped))
            .filter_map(|t| snap.get(t))
            .map(|r| r.limit)
            .min();
        let Some(limit) = limit.filter(|l| *l <= MAX_FILL) else {
            return;
        };
        let send_in = |o: &CompiledOp| {
            let o = o.clone();
            let parent = parent.clone();
            async move {
                let mut body = Vec::new();
                op::execute_in(
                    self.sh,
                    &self.slot(),
                    &o,
                    1,
                    Instant::now(),
                    &mut body,
                    Some(&parent),
                    None,
                )
                .await;
            }
        };
        for _ in 0..=limit {
            if self.stopped() {
                return;
            }
            send_in(cons).await;
            self.snap().await;
        }
        // The coordinator runs alone: the pool's newest object is one made just now,
        // inside this parent.
        self.send(rel, 1).await;
        self.snap().await;
        send_in(cons).await;
        self.snap().await;
        self.release_all(rel, cons).await;
    }

    /// Releases every object of `cons` the run holds, stopping at a release that did not
    /// take effect; then a snapshot.
    async fn release_all(&self, rel: &CompiledOp, cons: &CompiledOp) {
        let left = |sh: &Shared| sh.pools.get(&cons.name).map_or(0, |p| p.lock().len());
        let mut n = left(self.sh);
        while n > 0 && !self.stopped() {
            self.send(rel, 1).await;
            let now = left(self.sh);
            // A release that did not take effect puts its object back: stop there.
            if now >= n {
                break;
            }
            n = now;
        }
        self.snap().await;
    }
}

/// The next 00:00 UTC at least `ahead` seconds after `now` that is not the 1st of a month.
fn next_day_not_first(now: jiff::Timestamp, ahead: i64) -> i64 {
    let mut t = now.as_second() + ahead;
    loop {
        let b = (t.div_euclid(86_400) + 1) * 86_400;
        let date = jiff::Timestamp::from_second(b)
            .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).date())
            .ok();
        if date.is_some_and(|d| d.day() != 1) {
            return b;
        }
        t = b;
    }
}

/// The next 1st of a month, 00:00 UTC, at least `ahead` seconds after `now`.
fn next_month(now: jiff::Timestamp, ahead: i64) -> i64 {
    let t = now.as_second() + ahead;
    let Ok(ts) = jiff::Timestamp::from_second(t) else {
        return t;
    };
    let d = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
    let first = d.first_of_month();
    first
        .checked_add(jiff::Span::new().months(1))
        .ok()
        .and_then(|n| n.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map_or(t, |z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_daily_boundary_skips_the_first_of_a_month() {
        let b = next_day_not_first(ts("2026-11-21T05:00:00Z"), 660);
        assert_eq!(b, ts("2026-11-22T00:00:00Z").as_second());
        let b = next_day_not_first(ts("2026-11-30T05:00:00Z"), 660);
        assert_eq!(b, ts("2026-12-02T00:00:00Z").as_second());
        // Too close to midnight: the next one.
        let b = next_day_not_first(ts("2026-11-21T23:55:00Z"), 660);
        assert_eq!(b, ts("2026-11-23T00:00:00Z").as_second());
    }

    #[test]
    fn the_month_boundary_is_the_next_first() {
        let b = next_month(ts("2026-11-21T05:00:00Z"), 660);
        assert_eq!(b, ts("2026-12-01T00:00:00Z").as_second());
        let b = next_month(ts("2026-12-31T23:55:00Z"), 660);
        assert_eq!(b, ts("2027-02-01T00:00:00Z").as_second());
    }
}
