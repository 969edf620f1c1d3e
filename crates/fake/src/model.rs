//! The quota model: a pure state machine over organizations, driven by the clock.
//! It knows nothing of HTTP; routes translate requests into these calls.
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
use serde::Serialize;

use super::clock::{rfc3339_us, Clock, Periods};
use super::config::{ClockMode, FakeConfig};
use super::faults::FaultSet;
use super::orgs::{keep, Destination, ExportConfig, OrgState, Ttl, TtlStatus, WorkOrder};
use super::quota::{
    decide, Api, Decision, Limits, QuotaKind, DAILY_DELETE, DATASET_EXPIRATION, EXPORTS_CONFIGS,
    EXPORTS_DESTINATIONS, MONTHLY_DELETE, N_QUOTAS, QUOTAS,
};

const SHARDS: usize = 16;
/// The race window of the `non-atomic` fault.
const RACE_WINDOW: Duration = Duration::from_millis(20);
/// A work order reports `received` for this long (fake clock), then `completed`.
const WORKORDER_PROCESSING_US: i64 = 60_000_000;

type OrgRef = Arc<Mutex<OrgState>>;

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

/// Input of a record-delete work order (already validated by the route).
#[derive(Debug, Clone)]
pub struct WorkOrderInput<'a> {
    /// `ALL` or a dataset id.
    pub dataset_id: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Description.
    pub description: &'a str,
    /// Number of identities (≥ 1).
    pub identities: u64,
}

/// Input of a dataset expiration.
#[derive(Debug, Clone)]
pub struct TtlInput<'a> {
    /// Dataset id.
    pub dataset_id: &'a str,
    /// When it should execute.
    pub expiry: Timestamp,
    /// Display name.
    pub display_name: &'a str,
    /// Description.
    pub description: &'a str,
}

/// A work order as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WorkOrderView {
    /// `DI-<n>`.
    pub workorder_id: String,
    /// Always `delete_identity`.
    pub action: &'static str,
    /// `received`, then `completed` a minute (fake clock) later.
    pub status: &'static str,
    /// Identities in the order.
    pub operation_count: u64,
    /// Target dataset.
    pub dataset_id: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
    /// The organization (set by the creating route, absent on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

/// A dataset expiration as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TtlView {
    /// `SD-<n>`.
    pub ttl_id: String,
    /// Dataset id.
    pub dataset_id: String,
    /// The organization.
    pub ims_org: String,
    /// Status.
    pub status: TtlStatus,
    /// RFC 3339 expiry.
    pub expiry: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
}

/// An export configuration as the fake's Didomi endpoints show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigView {
    /// `cfg-<n>`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// Name.
    pub name: String,
    /// Whether enabled.
    pub enabled: bool,
    /// Attached destinations.
    pub destinations: Vec<DestinationView>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
}

/// A destination as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DestinationView {
    /// `dst-<n>`.
    pub id: String,
    /// Name or type.
    pub name: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// Ground truth about one organization (`GET /__admin/orgs/{org}/state`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgStateView {
    /// The organization.
    pub org: String,
    /// Whether it holds state (false: never consumed; limits are the configured ones).
    pub exists: bool,
    /// The fake clock's time.
    pub now: String,
    /// One entry per quota.
    pub quotas: Vec<QuotaStateView>,
    /// Export configurations with their scoped counters.
    pub configs: Vec<ConfigStateView>,
    /// Pending dataset expirations (the true concurrent count).
    pub pending_expirations: u64,
    /// Work orders still retained for `GET /workorder/{id}`.
    pub workorders_retained: u64,
}

/// Ground truth about one quota of one organization.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuotaStateView {
    /// Quota name.
    pub name: &'static str,
    /// API listing it.
    pub api: Api,
    /// Kind.
    pub kind: QuotaKind,
    /// Limit.
    pub limit: u64,
    /// The accounting counter (for the scoped quota: the largest per-configuration one).
    pub consumed: u64,
    /// Concurrent / scoped: resources really active (largest per configuration for the
    /// scoped quota). Equal to `consumed` unless a fault broke the accounting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<u64>,
    /// Period quotas: the period key the counter belongs to (day or month index; the
    /// window start in µs under `reset-rolling`, `null` before first use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    /// Period quotas: the correct (UTC calendar or test) period index for now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_period: Option<i64>,
}

/// Ground truth about one export configuration.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigStateView {
    /// `cfg-<n>`.
    pub id: String,
    /// Whether enabled.
    pub enabled: bool,
    /// Destinations really attached.
    pub destinations: u64,
    /// The scoped `exports_destinations` counter.
    pub destination_slots: u64,
}

/// The quota state machine shared by every route and transport.
#[derive(Debug)]
pub struct Model {
    clock: Clock,
    clock_start: Option<Timestamp>,
    periods: Periods,
    faults: Arc<FaultSet>,
    config: FakeConfig,
    shards: Vec<Mutex<HashMap<Box<str>, OrgRef>>>,
    org_count: AtomicU64,
    next_id: AtomicU64,
}

/// Formats µs since the epoch as RFC 3339.
fn rfc3339(us: i64) -> String {
    rfc3339_us(us)
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

    fn shard(&self, org: &str) -> &Mutex<HashMap<Box<str>, OrgRef>> {
        let mut h = DefaultHasher::new();
        org.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    fn lookup(&self, org: &str) -> Option<OrgRef> {
        self.shard(org).lock().get(org).cloned()
    }

    /// The organization's state, created (with its configured limits) if new.
    fn get_or_create(&self, org: &str) -> Result<OrgRef, Refusal> {
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
    fn period_key(&self, q: usize, now: i64) -> i64 {
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
    fn true_period(&self, q: usize, now: i64) -> Option<i64> {
        match QUOTAS[q].kind {
            QuotaKind::Daily => Some(self.periods.day_index(now, 0)),
            QuotaKind::Monthly => Some(self.periods.month_index(now)),
            _ => None,
        }
    }

    /// Brings `o` up to `now`: lazy period resets, and due expirations executed.
    fn refresh(&self, o: &mut OrgState, now: i64) {
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
    fn add(&self, o: &mut OrgState, quotas: &[usize], amount: u64, now: i64) {
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

    fn after_change(&self, o: &mut OrgState, now: i64) {
        if let Some(lag) = self.faults.list_lag {
            o.snapshot(now, lag.as_micros() as i64);
        }
    }

    /// Under `tenant-leak`: adds `amount` on `quotas` to the other organization(s).
    /// Called with no organization lock held (never two locks at once).
    fn leak(&self, from: &str, quotas: &[usize], amount: u64) {
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

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Decides `amount` on the organization-wide counters `quotas` and applies the
    /// decision, then runs `on_admit` with the counted amount, all under the lock —
    /// or, under `non-atomic`, with the lock released between check and apply.
    fn consume<T>(
        &self,
        org: &str,
        quotas: &[usize],
        amount: u64,
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
        // Under `non-atomic` the decision is taken under one lock and applied under
        // another, with a sleep between: concurrent orders all see the same room.
        let early = if self.faults.non_atomic {
            let mut o = state.lock();
            let now = self.clock.now_us();
            self.refresh(&mut o, now);
            precheck(&mut o, now)?;
            let d = check(&o);
            drop(o);
            std::thread::sleep(RACE_WINDOW);
            Some(d)
        } else {
            None
        };
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

    fn workorder_view(&self, w: &WorkOrder) -> WorkOrderView {
        let now = self.clock.now_us();
        let done = now >= w.created_us.saturating_add(WORKORDER_PROCESSING_US);
        WorkOrderView {
            workorder_id: format!("DI-{}", w.id),
            action: "delete_identity",
            status: if done { "completed" } else { "received" },
            operation_count: w.identities,
            dataset_id: w.dataset_id.to_string(),
            display_name: w.display_name.to_string(),
            description: w.description.to_string(),
            created_at: rfc3339(w.created_us),
            updated_at: rfc3339(if done {
                w.created_us.saturating_add(WORKORDER_PROCESSING_US)
            } else {
                w.created_us
            }),
            org_id: None,
        }
    }

    /// Creates a record-delete work order: consumes `identities` on the daily and the
    /// monthly delete quotas together, all or nothing.
    pub fn create_workorder(
        &self,
        org: &str,
        input: &WorkOrderInput<'_>,
    ) -> Result<WorkOrderView, Refusal> {
        let cap = self.config.caps.max_workorders_per_org;
        let w = self.consume(
            org,
            &[DAILY_DELETE, MONTHLY_DELETE],
            input.identities,
            |_, _| Ok(()),
            |o, counted, now| {
                let w = WorkOrder {
                    id: self.next_id(),
                    created_us: now,
                    identities: input.identities,
                    counted,
                    dataset_id: keep(input.dataset_id),
                    display_name: keep(input.display_name),
                    description: keep(input.description),
                };
                o.workorders.push_back(w.clone());
                while o.workorders.len() > cap {
                    o.workorders.pop_front();
                }
                w
            },
        )?;
        Ok(self.workorder_view(&w))
    }

    /// A retained work order of `org`.
    pub fn get_workorder(&self, org: &str, id: u64) -> Option<WorkOrderView> {
        let state = self.lookup(org)?;
        let o = state.lock();
        let i = o.workorders.binary_search_by_key(&id, |w| w.id).ok()?;
        Some(self.workorder_view(&o.workorders[i]))
    }

    fn ttl_view(org: &str, t: &Ttl) -> TtlView {
        TtlView {
            ttl_id: format!("SD-{}", t.id),
            dataset_id: t.dataset_id.to_string(),
            ims_org: org.to_string(),
            status: t.status,
            expiry: rfc3339(t.expiry_us),
            created_at: rfc3339(t.created_us),
            updated_at: rfc3339(t.updated_us),
            display_name: t.display_name.to_string(),
            description: t.description.to_string(),
        }
    }

    /// Schedules a dataset expiration: at least one day ahead of the fake clock, one
    /// pending per dataset, +1 on `datasetExpirationQuota` while pending.
    pub fn create_ttl(&self, org: &str, input: &TtlInput<'_>) -> Result<TtlView, Refusal> {
        let expiry_us = input.expiry.as_microsecond();
        let day = self.periods.day_us();
        let dataset = input.dataset_id;
        // Checked before any state is touched: an invalid expiry creates nothing, not
        // even the organization's record.
        let now = self.clock.now_us();
        if expiry_us < now.saturating_add(day) {
            self.count_invalid(org, &[DATASET_EXPIRATION], 1);
            return Err(Refusal::Invalid(format!(
                "expiry {} must be at least {} after the current time {}",
                input.expiry,
                if day == 86_400_000_000 {
                    "24 hours".to_string()
                } else {
                    format!("one day ({} ms)", day / 1000)
                },
                rfc3339(now)
            )));
        }
        // The one-pending-per-dataset check runs under the lock, atomic with the insert;
        // it can only fail for an organization that already exists.
        let invalid = std::cell::Cell::new(false);
        let result = self.consume(
            org,
            &[DATASET_EXPIRATION],
            1,
            |o, _now| {
                if let Some(id) = o.pending_by_dataset.get(dataset) {
                    invalid.set(true);
                    return Err(Refusal::Invalid(format!(
                        "dataset {dataset} already has a pending expiration SD-{id}"
                    )));
                }
                Ok(())
            },
            |o, _counted, now| {
                let t = Ttl {
                    id: self.next_id(),
                    dataset_id: keep(dataset),
                    expiry_us,
                    created_us: now,
                    updated_us: now,
                    status: TtlStatus::Pending,
                    display_name: keep(input.display_name),
                    description: keep(input.description),
                };
                o.pending_by_dataset.insert(t.dataset_id.clone(), t.id);
                o.pending_by_expiry.insert((expiry_us, t.id));
                let view = Self::ttl_view(org, &t);
                o.ttls.insert(t.id, t);
                view
            },
        );
        if invalid.get() {
            self.count_invalid(org, &[DATASET_EXPIRATION], 1);
        }
        result
    }

    /// Lists `org`'s expirations (pending and retained finished ones), optionally
    /// filtered by dataset and by any of `statuses`, newest first; returns the page and
    /// the total count.
    pub fn list_ttls(
        &self,
        org: &str,
        dataset: Option<&str>,
        statuses: Option<&[TtlStatus]>,
        skip: usize,
        limit: usize,
    ) -> (Vec<TtlView>, usize) {
        let Some(state) = self.lookup(org) else {
            return (Vec::new(), 0);
        };
        let mut o = state.lock();
        self.refresh(&mut o, self.clock.now_us());
        let matching = o.ttls.values().rev().filter(|t| {
            dataset.is_none_or(|d| &*t.dataset_id == d)
                && statuses.is_none_or(|s| s.contains(&t.status))
        });
        let total = matching.clone().count();
        let page = matching
            .skip(skip)
            .take(limit)
            .map(|t| Self::ttl_view(org, t))
            .collect();
        (page, total)
    }

    /// One expiration of `org`.
    pub fn get_ttl(&self, org: &str, id: u64) -> Option<TtlView> {
        let state = self.lookup(org)?;
        let mut o = state.lock();
        self.refresh(&mut o, self.clock.now_us());
        o.ttls.get(&id).map(|t| Self::ttl_view(org, t))
    }

    /// Cancels a pending expiration and frees its slot (not under `cancel-keeps-slot`).
    pub fn cancel_ttl(&self, org: &str, id: u64) -> Result<TtlView, Refusal> {
        let not_pending = || Refusal::NotFound(format!("no pending expiration SD-{id}"));
        let state = self.lookup(org).ok_or_else(not_pending)?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        self.refresh(&mut o, now);
        if !o.finish_ttl(
            id,
            TtlStatus::Cancelled,
            now,
            self.config.caps.max_finished_ttls_per_org,
        ) {
            return Err(not_pending());
        }
        if !self.faults.cancel_keeps_slot {
            let c = &mut o.counters[DATASET_EXPIRATION];
            c.consumed = c.consumed.saturating_sub(1);
        }
        self.after_change(&mut o, now);
        let view = o
            .ttls
            .get(&id)
            .map(|t| Self::ttl_view(org, t))
            .ok_or_else(not_pending)?;
        Ok(view)
    }

    fn config_view(org: &str, c: &ExportConfig) -> ConfigView {
        ConfigView {
            id: format!("cfg-{}", c.id),
            organization_id: org.to_string(),
            name: c.name.to_string(),
            enabled: c.enabled,
            destinations: c
                .destinations
                .iter()
                .map(|d| DestinationView {
                    id: format!("dst-{}", d.id),
                    name: d.name.to_string(),
                    created_at: rfc3339(d.created_us),
                })
                .collect(),
            created_at: rfc3339(c.created_us),
            updated_at: rfc3339(c.updated_us),
        }
    }

    /// Creates a disabled export configuration (consumes nothing).
    pub fn create_config(&self, org: &str, name: &str) -> Result<ConfigView, Refusal> {
        let state = self.get_or_create(org)?;
        let mut o = state.lock();
        let cap = self.config.caps.max_configs_per_org;
        if o.configs.len() >= cap {
            // Forget the oldest idle configuration (disabled, no destination: it holds no
            // quota), so long runs that create one per order keep going in bounded memory.
            let idle = o
                .configs
                .values()
                .find(|c| !c.enabled && c.destinations.is_empty())
                .map(|c| c.id);
            match idle {
                Some(id) => {
                    o.configs.remove(&id);
                }
                None => {
                    return Err(Refusal::Cap(format!(
                        "the fake holds at most {cap} export configurations per organization (caps.max_configs_per_org) and none is idle; disable or delete some"
                    )))
                }
            }
        }
        let now = self.clock.now_us();
        let c = ExportConfig {
            id: self.next_id(),
            name: keep(name),
            enabled: false,
            destinations: Vec::new(),
            dest_slots: 0,
            created_us: now,
            updated_us: now,
        };
        let view = Self::config_view(org, &c);
        o.configs.insert(c.id, c);
        Ok(view)
    }

    fn no_config(id: u64) -> Refusal {
        Refusal::NotFound(format!("no export configuration cfg-{id}"))
    }

    /// Enables a configuration: +1 on `exports_configs` (already enabled: no change).
    pub fn enable_config(&self, org: &str, id: u64) -> Result<ConfigView, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(id))?;
        // Unknown or already enabled: answered here, without going through admission.
        {
            let o = state.lock();
            match o.configs.get(&id) {
                None => return Err(Self::no_config(id)),
                Some(c) if c.enabled => return Ok(Self::config_view(org, c)),
                Some(_) => {}
            }
        }
        // Enabled by a concurrent request since the look above: still the idempotent
        // no-op, signalled out of the precheck (which can only return a refusal).
        let mut already = None;
        let r = self.consume(
            org,
            &[EXPORTS_CONFIGS],
            1,
            |o, _| match o.configs.get(&id) {
                None => Err(Self::no_config(id)),
                Some(c) if c.enabled => {
                    already = Some(Self::config_view(org, c));
                    Err(Refusal::Invalid(String::new()))
                }
                Some(_) => Ok(()),
            },
            |o, _, now| {
                let c = o.configs.get_mut(&id)?;
                c.enabled = true;
                c.updated_us = now;
                Some(Self::config_view(org, c))
            },
        );
        if let Some(v) = already {
            return Ok(v);
        }
        // The configuration vanished between check and apply (only under `non-atomic`).
        r?.ok_or_else(|| Self::no_config(id))
    }

    /// Disables a configuration, freeing its slot (not under `cancel-keeps-slot`).
    pub fn disable_config(&self, org: &str, id: u64) -> Result<ConfigView, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(id))?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        let keeps = self.faults.cancel_keeps_slot;
        let c = o.configs.get_mut(&id).ok_or_else(|| Self::no_config(id))?;
        let was = c.enabled;
        c.enabled = false;
        if was {
            c.updated_us = now;
        }
        let view = Self::config_view(org, c);
        if was && !keeps {
            let k = &mut o.counters[EXPORTS_CONFIGS];
            k.consumed = k.consumed.saturating_sub(1);
        }
        self.after_change(&mut o, now);
        Ok(view)
    }

    /// Deletes a configuration (freeing its slot if enabled, like disable).
    pub fn delete_config(&self, org: &str, id: u64) -> Result<ConfigView, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(id))?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        let c = o.configs.remove(&id).ok_or_else(|| Self::no_config(id))?;
        if c.enabled && !self.faults.cancel_keeps_slot {
            let k = &mut o.counters[EXPORTS_CONFIGS];
            k.consumed = k.consumed.saturating_sub(1);
        }
        self.after_change(&mut o, now);
        Ok(Self::config_view(org, &c))
    }

    /// One configuration of `org`.
    pub fn get_config(&self, org: &str, id: u64) -> Option<ConfigView> {
        let state = self.lookup(org)?;
        let o = state.lock();
        o.configs.get(&id).map(|c| Self::config_view(org, c))
    }

    /// Lists `org`'s configurations in creation order (newest first with `newest_first`),
    /// only those whose `enabled` equals `enabled` when given; returns the page and the
    /// total of matching configurations.
    pub fn list_configs(
        &self,
        org: &str,
        enabled: Option<bool>,
        newest_first: bool,
        skip: usize,
        limit: usize,
    ) -> (Vec<ConfigView>, usize) {
        let Some(state) = self.lookup(org) else {
            return (Vec::new(), 0);
        };
        let o = state.lock();
        let keep = |c: &&ExportConfig| enabled.is_none_or(|e| c.enabled == e);
        let view = |c: &ExportConfig| Self::config_view(org, c);
        let total = o.configs.values().filter(keep).count();
        let page = if newest_first {
            o.configs
                .values()
                .rev()
                .filter(keep)
                .skip(skip)
                .take(limit)
                .map(view)
                .collect()
        } else {
            o.configs
                .values()
                .filter(keep)
                .skip(skip)
                .take(limit)
                .map(view)
                .collect()
        };
        (page, total)
    }

    /// Attaches a destination: +1 on the configuration's scoped `exports_destinations`.
    pub fn attach_destination(
        &self,
        org: &str,
        cfg: u64,
        name: &str,
    ) -> Result<DestinationView, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(cfg))?;
        let check = |o: &OrgState| -> Result<Decision, Refusal> {
            let c = o.configs.get(&cfg).ok_or_else(|| Self::no_config(cfg))?;
            Ok(decide(
                &self.faults,
                &[(c.dest_slots, o.limits[EXPORTS_DESTINATIONS])],
                1,
            ))
        };
        let early = if self.faults.non_atomic {
            let d = check(&state.lock())?;
            std::thread::sleep(RACE_WINDOW);
            Some(d)
        } else {
            None
        };
        let mut o = state.lock();
        let now = self.clock.now_us();
        let decision = match early {
            Some(d) => d,
            None => check(&o)?,
        };
        let limit = o.limits[EXPORTS_DESTINATIONS];
        let c = o
            .configs
            .get_mut(&cfg)
            .ok_or_else(|| Self::no_config(cfg))?;
        let consumed = c.dest_slots;
        match decision {
            Decision::Admit { count } => {
                c.dest_slots = c.dest_slots.saturating_add(count);
                let d = Destination {
                    id: self.next_id(),
                    name: keep(name),
                    created_us: now,
                };
                let view = DestinationView {
                    id: format!("dst-{}", d.id),
                    name: d.name.to_string(),
                    created_at: rfc3339(now),
                };
                c.destinations.push(d);
                c.updated_us = now;
                Ok(view)
            }
            Decision::Reject { count, .. } => {
                c.dest_slots = c.dest_slots.saturating_add(count);
                Err(Refusal::Quota(QuotaRejection {
                    quota: QUOTAS[EXPORTS_DESTINATIONS].name,
                    consumed,
                    limit,
                    amount: 1,
                }))
            }
        }
    }

    /// Detaches a destination, freeing its scoped slot (not under `cancel-keeps-slot`).
    pub fn detach_destination(&self, org: &str, cfg: u64, dest: u64) -> Result<(), Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(cfg))?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        let c = o
            .configs
            .get_mut(&cfg)
            .ok_or_else(|| Self::no_config(cfg))?;
        let i = c
            .destinations
            .iter()
            .position(|d| d.id == dest)
            .ok_or_else(|| Refusal::NotFound(format!("no destination dst-{dest} on cfg-{cfg}")))?;
        c.destinations.remove(i);
        c.updated_us = now;
        if !self.faults.cancel_keeps_slot {
            c.dest_slots = c.dest_slots.saturating_sub(1);
        }
        Ok(())
    }

    /// Ground truth about `org`, after bringing it up to the current time.
    pub fn state(&self, org: &str) -> OrgStateView {
        let now = self.clock.now_us();
        let exists;
        let (counters, limits, configs, pending, retained) = match self.lookup(org) {
            Some(s) => {
                exists = true;
                let mut o = s.lock();
                self.refresh(&mut o, now);
                let configs: Vec<ConfigStateView> = o
                    .configs
                    .values()
                    .map(|c| ConfigStateView {
                        id: format!("cfg-{}", c.id),
                        enabled: c.enabled,
                        destinations: c.destinations.len() as u64,
                        destination_slots: c.dest_slots,
                    })
                    .collect();
                (
                    Some(o.counters),
                    o.limits,
                    configs,
                    o.pending_by_expiry.len() as u64,
                    o.workorders.len() as u64,
                )
            }
            None => {
                exists = false;
                (None, self.config.limits_for(org), Vec::new(), 0, 0)
            }
        };
        let enabled = configs.iter().filter(|c| c.enabled).count() as u64;
        let max_slots = configs
            .iter()
            .map(|c| c.destination_slots)
            .max()
            .unwrap_or(0);
        let max_dests = configs.iter().map(|c| c.destinations).max().unwrap_or(0);
        let quotas = QUOTAS
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let counter = counters.map(|c| c[i]);
                let stored_period = match q.kind {
                    QuotaKind::Daily | QuotaKind::Monthly => Some(
                        counter
                            .map(|c| c.period)
                            .unwrap_or_else(|| self.period_key(i, now)),
                    )
                    .filter(|p| *p != i64::MIN),
                    _ => None,
                };
                let (consumed, active) = match q.kind {
                    QuotaKind::Scoped => (max_slots, Some(max_dests)),
                    QuotaKind::Concurrent => (
                        counter.map(|c| c.consumed).unwrap_or(0),
                        Some(if i == EXPORTS_CONFIGS {
                            enabled
                        } else {
                            pending
                        }),
                    ),
                    _ => (counter.map(|c| c.consumed).unwrap_or(0), None),
                };
                QuotaStateView {
                    name: q.name,
                    api: q.api,
                    kind: q.kind,
                    limit: limits[i],
                    consumed,
                    active,
                    period: stored_period,
                    current_period: self.true_period(i, now),
                }
            })
            .collect();
        OrgStateView {
            org: org.to_string(),
            exists,
            now: rfc3339(now),
            quotas,
            configs,
            pending_expirations: pending,
            workorders_retained: retained,
        }
    }
}
