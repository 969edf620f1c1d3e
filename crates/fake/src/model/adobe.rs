//! Adobe's records: record-delete work orders (daily and monthly delete quotas,
//! consumed together) and dataset expirations (the concurrent expiration quota, held
//! while pending). The routes in `routes::adobe` turn these records into wire views.

use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;

use super::state::{Model, Refusal, Window};
use crate::clock::rfc3339_us;
use crate::orgs::{keep, Ttl, TtlStatus, WorkOrder};
use crate::quota::{DAILY_DELETE, DATASET_EXPIRATION, MONTHLY_DELETE};

/// A work order reports `received` for this long (fake clock), then `completed`.
pub const WORKORDER_PROCESSING_US: i64 = 60_000_000;

/// The status of work order `w` at `now_us` and when it last changed: `received` for
/// [`WORKORDER_PROCESSING_US`] after creation, then `completed`.
pub fn workorder_status(w: &WorkOrder, now_us: i64) -> (&'static str, i64) {
    let done_us = w.created_us.saturating_add(WORKORDER_PROCESSING_US);
    if now_us >= done_us {
        ("completed", done_us)
    } else {
        ("received", w.created_us)
    }
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

impl Model {
    /// Creates a record-delete work order: consumes `identities` on the daily and the
    /// monthly delete quotas together, all or nothing.
    pub async fn create_workorder(
        &self,
        org: &str,
        input: &WorkOrderInput<'_>,
        window: Window,
    ) -> Result<WorkOrder, Refusal> {
        let cap = self.config.caps.max_workorders_per_org;
        self.consume(
            org,
            &[DAILY_DELETE, MONTHLY_DELETE],
            input.identities,
            window,
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
        )
        .await
    }

    /// A retained work order of `org`.
    pub fn get_workorder(&self, org: &str, id: u64) -> Option<WorkOrder> {
        let state = self.lookup(org)?;
        let o = state.lock();
        let i = o.workorders.binary_search_by_key(&id, |w| w.id).ok()?;
        Some(o.workorders[i].clone())
    }

    /// Schedules a dataset expiration: at least one day ahead of the fake clock, one
    /// pending per dataset, +1 on `datasetExpirationQuota` while pending.
    pub async fn create_ttl(
        &self,
        org: &str,
        input: &TtlInput<'_>,
        window: Window,
    ) -> Result<Ttl, Refusal> {
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
                rfc3339_us(now)
            )));
        }
        // The one-pending-per-dataset check runs under the lock, atomic with the insert;
        // it can only fail for an organization that already exists.
        // Atomic, not a Cell: it is borrowed across the race window's await, and the
        // request future must stay Send.
        let invalid = AtomicBool::new(false);
        let result = self
            .consume(
                org,
                &[DATASET_EXPIRATION],
                1,
                window,
                |o, _now| {
                    if let Some(id) = o.pending_by_dataset.get(dataset) {
                        invalid.store(true, Ordering::Relaxed);
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
                    o.ttls.insert(t.id, t.clone());
                    t
                },
            )
            .await;
        if invalid.load(Ordering::Relaxed) {
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
    ) -> (Vec<Ttl>, usize) {
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
        let page = matching.skip(skip).take(limit).cloned().collect();
        (page, total)
    }

    /// One expiration of `org`.
    pub fn get_ttl(&self, org: &str, id: u64) -> Option<Ttl> {
        let state = self.lookup(org)?;
        let mut o = state.lock();
        self.refresh(&mut o, self.clock.now_us());
        o.ttls.get(&id).cloned()
    }

    /// Cancels a pending expiration and frees its slot (not under `cancel-keeps-slot`).
    pub fn cancel_ttl(&self, org: &str, id: u64) -> Result<Ttl, Refusal> {
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
        o.ttls.get(&id).cloned().ok_or_else(not_pending)
    }
}
