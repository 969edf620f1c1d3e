//! State and accounting: the organizations (sharded), their counters and periods, and
//! the one check-and-consume every order goes through. Knows nothing of HTTP, nor of
//! the records an accepted order leaves (work orders and expirations in [`super::adobe`],
//! configurations and destinations in [`super::didomi`]).
//!
//! Concurrency: organizations live in 16 shards, each a small map behind a mutex held
//! only to find (or create) the organization; each organization has its own mutex,
//! held for the whole check-and-consume so an order is admitted atomically. There is
//! no global write lock on the hot path.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use parking_lot::Mutex;

use crate::clock::{Clock, Periods};
use crate::config::{ClockMode, FakeConfig};
use crate::faults::FaultSet;
use crate::orgs::{OrgState, TtlStatus};
use crate::quota::{
    decide, Api, Decision, Limits, QuotaKind, DATASET_EXPIRATION, N_QUOTAS, QUOTAS,
};

const SHARDS: usize = 16;
/// The race window of the `non-atomic` fault.
pub const RACE_WINDOW: Duration = Duration::from_millis(20);

pub(super) type OrgRef = Arc<Mutex<OrgState>>;

/// Whether a request waits out the `non-atomic` race window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Await [`RACE_WINDOW`] between check and apply (the transports, through
    /// `Fake::respond`): concurrent requests race.
    Await,
    /// Release the lock between check and apply but do not wait (`Fake::handle`, which
    /// answers synchronously; a lone caller has nothing to race with anyway).
    Skip,
}

/// Why an order was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request is invalid (400).
    Invalid(String),
    /// The thing named does not exist (404).
    NotFound(String),
    /// A quota has no room for the order (the configured rejection status).
    Quota(QuotaRejection),
    /// A memory cap of the fake itself was reached (400).
    Cap(String),
}

/// Details of a quota rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaRejection {
    /// The quota that had no room.
    pub quota: &'static str,
    /// Its consumed value when checked.
    pub consumed: u64,
    /// Its limit.
    pub limit: u64,
    /// The amount asked for.
    pub amount: u64,
}

/// One line of a quota list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaLine {
    /// Index in [`QUOTAS`].
    pub index: usize,
    /// Consumed (as the list reports it; lagged under `list-lag`).
    pub consumed: u64,
    /// Limit.
    pub limit: u64,
}

/// The quota state machine shared by every route and transport.
#[derive(Debug)]
pub struct Model {
    pub(super) clock: Clock,
    clock_start: Option<Timestamp>,
    pub(super) periods: Periods,
    pub(super) faults: Arc<FaultSet>,
    pub(super) config: FakeConfig,
    pub(super) shards: Vec<Mutex<HashMap<Box<str>, OrgRef>>>,
    org_count: AtomicU64,
    next_id: AtomicU64,
}

/// Parses a wire id like `DI-42` into 42.
pub fn parse_id(prefix: &str, text: &str) -> Option<u64> {
    text.strip_prefix(prefix)?.parse().ok()
}

impl Model {
    /// A model for `config` with `faults` seeded.
    pub fn new(config: FakeConfig, faults: Arc<FaultSet>) -> Model {
        let (clock, clock_start) = match config.clock.mode {
            ClockMode::Real => (Clock::real(), None),
            ClockMode::Virtual => {
                let start = config.clock.start.unwrap_or_else(Timestamp::now);
                (Clock::virtual_at(start), Some(start))
            }
        };
        Model {
            clock,
            clock_start,
            periods: config.periods(),
            faults,
            config,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            org_count: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
        }
    }

    /// The fake's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The configuration the model was built from.
    pub fn config(&self) -> &FakeConfig {
        &self.config
    }

    /// The seeded faults.
    pub fn faults(&self) -> &FaultSet {
        &self.faults
    }

    /// The period arithmetic in force.
    pub fn periods(&self) -> Periods {
        self.periods
    }

    /// Forgets every organization (limits set through the admin API too) and puts a
    /// virtual clock back to its configured start.
    pub fn reset(&self) {
        for shard in &self.shards {
            let mut map = shard.lock();
            self.org_count
                .fetch_sub(map.len() as u64, Ordering::Relaxed);
            map.clear();
        }
        if let Some(start) = self.clock_start {
            self.clock.set(start);
        }
    }

    pub(super) fn shard(&self, org: &str) -> &Mutex<HashMap<Box<str>, OrgRef>> {
        let mut h = DefaultHasher::new();
        org.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    pub(super) fn lookup(&self, org: &str) -> Option<OrgRef> {
        self.shard(org).lock().get(org).cloned()
    }

    /// The organization's state, created (with its configured limits) if new.
    pub(super) fn get_or_create(&self, org: &str) -> Result<OrgRef, Refusal> {
        let mut map = self.shard(org).lock();
        if let Some(o) = map.get(org) {
            return Ok(o.clone());
        }
        if self.org_count.load(Ordering::Relaxed) >= self.config.caps.max_orgs as u64 {
            return Err(Refusal::Cap(format!(
                "the fake holds state for at most {} organizations (caps.max_orgs)",
                self.config.caps.max_orgs
            )));
        }
        let now = self.clock.now_us();
        let mut keys = [0; N_QUOTAS];
        for (i, k) in keys.iter_mut().enumerate() {
            *k = self.period_key(i, now);
        }
        let state = Arc::new(Mutex::new(OrgState::new(
            self.config.limits_for(org),
            keys,
            now,
        )));
        map.insert(org.into(), state.clone());
        self.org_count.fetch_add(1, Ordering::Relaxed);
        Ok(state)
    }

    /// The key of the period quota `q` is in at `now` under the seeded faults
    /// (`i64::MIN` = no rolling window open; 0 for non-period quotas).
    pub(super) fn period_key(&self, q: usize, now: i64) -> i64 {
        let f = &self.faults;
        match QUOTAS[q].kind {
            QuotaKind::Daily => {
                if f.daily_never_resets {
                    0
                } else if f.reset_rolling {
                    i64::MIN
                } else if let Some(h) = f.reset_local_time {
                    let offset = h * self.periods.day_us() / 24;
                    self.periods.day_index(now, offset)
                } else {
                    self.periods.day_index(now, 0)
                }
            }
            QuotaKind::Monthly => {
                if f.monthly_resets_daily {
                    self.periods.day_index(now, 0)
                } else {
                    self.periods.month_index(now)
                }
            }
            QuotaKind::Concurrent | QuotaKind::Scoped => 0,
        }
    }

    /// The correct period index of quota `q` at `now` (what a fault-free fake uses).
    pub(super) fn true_period(&self, q: usize, now: i64) -> Option<i64> {
        match QUOTAS[q].kind {
            QuotaKind::Daily => Some(self.periods.day_index(now, 0)),
            QuotaKind::Monthly => Some(self.periods.month_index(now)),
            _ => None,
        }
    }

    /// Brings `o` up to `now`: lazy period resets, and due expirations executed.
    pub(super) fn refresh(&self, o: &mut OrgState, now: i64) {
        for (q, def) in QUOTAS.iter().enumerate() {
            match def.kind {
                QuotaKind::Daily if self.faults.reset_rolling => {
                    let c = &mut o.counters[q];
                    if c.period != i64::MIN && now >= c.period.saturating_add(self.periods.day_us())
                    {
                        c.consumed = 0;
                        c.period = i64::MIN;
                    }
                }
                QuotaKind::Daily | QuotaKind::Monthly => {
                    let key = self.period_key(q, now);
                    let c = &mut o.counters[q];
                    if c.period != key {
                        c.consumed = 0;
                        c.period = key;
                    }
                }
                _ => {}
            }
        }
        while let Some(&(expiry, id)) = o.pending_by_expiry.first() {
            if expiry > now {
                break;
            }
            if o.finish_ttl(
                id,
                TtlStatus::Completed,
                now,
                self.config.caps.max_finished_ttls_per_org,
            ) {
                let c = &mut o.counters[DATASET_EXPIRATION];
                c.consumed = c.consumed.saturating_sub(1);
            }
        }
    }

    /// Adds `amount` to the counters `quotas` of `o` (opening a rolling window if needed).
    pub(super) fn add(&self, o: &mut OrgState, quotas: &[usize], amount: u64, now: i64) {
        if amount == 0 {
            return;
        }
        for &q in quotas {
            let c = &mut o.counters[q];
            c.consumed = c.consumed.saturating_add(amount);
            if c.period == i64::MIN && QUOTAS[q].kind == QuotaKind::Daily {
                c.period = now;
            }
        }
    }

    pub(super) fn after_change(&self, o: &mut OrgState, now: i64) {
        if let Some(lag) = self.faults.list_lag {
            o.snapshot(now, lag.as_micros() as i64);
        }
    }

    /// Under `tenant-leak`: adds `amount` on `quotas` to the other organization(s).
    /// Called with no organization lock held (never two locks at once).
    pub(super) fn leak(&self, from: &str, quotas: &[usize], amount: u64) {
        let Some(target) = &self.faults.tenant_leak else {
            return;
        };
        if amount == 0 {
            return;
        }
        let victims: Vec<OrgRef> = match target {
            Some(org) if org != from => self.get_or_create(org).into_iter().collect(),
            Some(_) => Vec::new(),
            None => self
                .shards
                .iter()
                .flat_map(|s| {
                    s.lock()
                        .iter()
                        .filter(|(k, _)| &***k != from)
                        .map(|(_, v)| v.clone())
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        let now = self.clock.now_us();
        for v in victims {
            let mut o = v.lock();
            self.refresh(&mut o, now);
            self.add(&mut o, quotas, amount, now);
            self.after_change(&mut o, now);
        }
    }

    pub(super) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Under `non-atomic`, the check half of a check-then-apply: runs `check` on `state`
    /// under its lock, releases the lock and waits out the race window, so concurrent
    /// orders all see the same room; the caller then applies the stale decision under a
    /// second lock without re-checking. `None` on a correct fake (check and apply under
    /// one lock); a refusal found by the check is returned at once, without waiting.
    /// The one race window of the fake: awaited, never a blocking sleep.
    pub(super) async fn race_window<R>(
        &self,
        state: &OrgRef,
        window: Window,
        check: impl FnOnce(&mut OrgState, i64) -> Result<R, Refusal>,
    ) -> Result<Option<R>, Refusal> {
        if !self.faults.non_atomic {
            return Ok(None);
        }
        let early = {
            let mut o = state.lock();
            let now = self.clock.now_us();
            self.refresh(&mut o, now);
            check(&mut o, now)?
        };
        if window == Window::Await {
            tokio::time::sleep(RACE_WINDOW).await;
        }
        Ok(Some(early))
    }

    /// Decides `amount` on the organization-wide counters `quotas` and applies the
    /// decision, then runs `on_admit` with the counted amount, all under the lock —
    /// or, under `non-atomic`, with the lock released between check and apply.
    pub(super) async fn consume<T>(
        &self,
        org: &str,
        quotas: &[usize],
        amount: u64,
        window: Window,
        mut precheck: impl FnMut(&mut OrgState, i64) -> Result<(), Refusal>,
        on_admit: impl FnOnce(&mut OrgState, u64, i64) -> T,
    ) -> Result<T, Refusal> {
        let state = self.get_or_create(org)?;
        // No allocation on the hot path: at most N_QUOTAS touched quotas.
        let check = |o: &OrgState| -> (Decision, [(u64, u64); N_QUOTAS]) {
            let mut touched = [(0, 0); N_QUOTAS];
            for (t, &q) in touched.iter_mut().zip(quotas) {
                *t = (o.counters[q].consumed, o.limits[q]);
            }
            let n = quotas.len().min(N_QUOTAS);
            (decide(&self.faults, &touched[..n], amount), touched)
        };
        let early = self
            .race_window(&state, window, |o, now| {
                precheck(o, now)?;
                Ok(check(o))
            })
            .await?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        self.refresh(&mut o, now);
        let (decision, touched) = match early {
            Some(d) => d,
            None => {
                precheck(&mut o, now)?;
                check(&o)
            }
        };
        match decision {
            Decision::Admit { count } => {
                self.add(&mut o, quotas, count, now);
                let out = on_admit(&mut o, count, now);
                self.after_change(&mut o, now);
                drop(o);
                self.leak(org, quotas, count);
                Ok(out)
            }
            Decision::Reject { which, count } => {
                self.add(&mut o, quotas, count, now);
                self.after_change(&mut o, now);
                drop(o);
                self.leak(org, quotas, count);
                let (consumed, limit) = touched[which];
                Err(Refusal::Quota(QuotaRejection {
                    quota: QUOTAS[quotas[which]].name,
                    consumed,
                    limit,
                    amount,
                }))
            }
        }
    }

    /// Under `count-invalid`: a validation-rejected order still adds `amount` to
    /// `quotas` of `org`. Does nothing on a correct fake.
    pub fn count_invalid(&self, org: &str, quotas: &[usize], amount: u64) {
        if !self.faults.count_invalid || amount == 0 {
            return;
        }
        let Ok(state) = self.get_or_create(org) else {
            return;
        };
        {
            let mut o = state.lock();
            let now = self.clock.now_us();
            self.refresh(&mut o, now);
            self.add(&mut o, quotas, amount, now);
            self.after_change(&mut o, now);
        }
        self.leak(org, quotas, amount);
    }

    /// Lists `org`'s quotas of `api` (lagged under `list-lag`). Unknown organizations
    /// are not created: they show their configured limits and nothing consumed.
    pub fn quota_lines(&self, org: &str, api: Api) -> Vec<QuotaLine> {
        let (consumed, limits) = match self.lookup(org) {
            Some(state) => {
                let mut o = state.lock();
                let now = self.clock.now_us();
                self.refresh(&mut o, now);
                let consumed = match self.faults.list_lag {
                    Some(lag) => o.lagged(now, lag.as_micros() as i64),
                    None => o.consumed(),
                };
                (consumed, o.limits)
            }
            None => ([0; N_QUOTAS], self.config.limits_for(org)),
        };
        QUOTAS
            .iter()
            .enumerate()
            .filter(|(_, q)| q.api == api)
            .map(|(index, _)| QuotaLine {
                index,
                consumed: consumed[index],
                limit: limits[index],
            })
            .collect()
    }

    /// The current limits of `org`.
    pub fn limits(&self, org: &str) -> Limits {
        match self.lookup(org) {
            Some(s) => s.lock().limits,
            None => self.config.limits_for(org),
        }
    }

    /// Sets some limits of `org` (creating its state if needed).
    pub fn set_limits(&self, org: &str, limits: &[(usize, u64)]) -> Result<(), Refusal> {
        let state = self.get_or_create(org)?;
        let mut o = state.lock();
        for &(q, l) in limits {
            o.limits[q] = l;
        }
        Ok(())
    }
}
