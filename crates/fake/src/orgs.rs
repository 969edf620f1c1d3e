//! Per-organization state: counters and the few records accepted orders leave behind.
//!
//! Nothing here is kept per *request*: a rejected request changes nothing, an accepted
//! one leaves one small record, and the record lists are capped (oldest forgotten
//! first) so a long run cannot grow memory without bound.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use super::quota::{Limits, N_QUOTAS};

/// Longest string kept from a request (display names, dataset ids): longer ones are
/// truncated so one huge body cannot pin megabytes in a record.
pub const MAX_KEPT_STRING: usize = 256;

/// Keeps at most [`MAX_KEPT_STRING`] bytes of `s` (on a char boundary).
pub fn keep(s: &str) -> Box<str> {
    if s.len() <= MAX_KEPT_STRING {
        return s.into();
    }
    let mut end = MAX_KEPT_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].into()
}

/// One accounting counter: the amount consumed and the period it belongs to (the
/// period key is a day or month index, or a window start for the rolling fault).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Amount consumed in the current period (or currently held, for concurrent quotas).
    pub consumed: u64,
    /// Key of the period `consumed` belongs to.
    pub period: i64,
}

/// An accepted record-delete work order.
#[derive(Debug, Clone)]
pub struct WorkOrder {
    /// Numeric id (`DI-<id>` on the wire).
    pub id: u64,
    /// Creation time, µs since the epoch (fake clock).
    pub created_us: i64,
    /// Identities in the order.
    pub identities: u64,
    /// Amount actually counted (less than `identities` only under `partial-admit`).
    pub counted: u64,
    /// Target dataset (`ALL` or an id).
    pub dataset_id: Box<str>,
    /// Display name from the request.
    pub display_name: Box<str>,
    /// Description from the request.
    pub description: Box<str>,
}

/// Status of a dataset expiration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TtlStatus {
    /// Scheduled; holds a `datasetExpirationQuota` slot.
    Pending,
    /// Executed when its expiry passed; slot freed.
    Completed,
    /// Cancelled by `DELETE /ttl/{id}`.
    Cancelled,
}

/// A dataset expiration.
#[derive(Debug, Clone)]
pub struct Ttl {
    /// Numeric id (`SD-<id>`).
    pub id: u64,
    /// Dataset it expires.
    pub dataset_id: Box<str>,
    /// When it executes, µs since the epoch.
    pub expiry_us: i64,
    /// Creation time.
    pub created_us: i64,
    /// Last status change.
    pub updated_us: i64,
    /// Status.
    pub status: TtlStatus,
    /// Display name.
    pub display_name: Box<str>,
    /// Description.
    pub description: Box<str>,
}

/// A Didomi export configuration.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Numeric id (`cfg-<id>`).
    pub id: u64,
    /// Name from the request.
    pub name: Box<str>,
    /// Whether enabled (holds an `exports_configs` slot).
    pub enabled: bool,
    /// Attached destinations.
    pub destinations: Vec<Destination>,
    /// The scoped counter for `exports_destinations` on this configuration.
    pub dest_slots: u64,
    /// Creation time.
    pub created_us: i64,
    /// Last change.
    pub updated_us: i64,
}

/// A destination attached to an export configuration.
#[derive(Debug, Clone)]
pub struct Destination {
    /// Numeric id (`dst-<id>`).
    pub id: u64,
    /// Name or type from the request.
    pub name: Box<str>,
    /// Creation time.
    pub created_us: i64,
}

/// Everything the fake knows about one organization.
#[derive(Debug)]
pub struct OrgState {
    /// Current limits (from the config, or set through the admin API).
    pub limits: Limits,
    /// One counter per quota (the scoped quota's entry is unused: see [`ExportConfig`]).
    pub counters: [Counter; N_QUOTAS],
    /// Accepted work orders, oldest first, ids ascending (capped).
    pub workorders: VecDeque<WorkOrder>,
    /// Expirations by id: all pending ones plus the retained finished ones.
    pub ttls: BTreeMap<u64, Ttl>,
    /// Pending expiration id per dataset (one pending expiration per dataset).
    pub pending_by_dataset: HashMap<Box<str>, u64>,
    /// Pending expirations ordered by expiry, so due ones are found without a scan.
    pub pending_by_expiry: BTreeSet<(i64, u64)>,
    /// Finished expiration ids, oldest first (to forget beyond the cap).
    pub finished_ttls: VecDeque<u64>,
    /// Export configurations by id.
    pub configs: BTreeMap<u64, ExportConfig>,
    /// For `list-lag` only: (time, counters) after each change, pruned to the lag window.
    pub snapshots: VecDeque<(i64, [u64; N_QUOTAS])>,
}

impl OrgState {
    /// A fresh organization with `limits` and counters in the periods given by `keys`.
    pub fn new(limits: Limits, keys: [i64; N_QUOTAS], now_us: i64) -> OrgState {
        let mut counters = [Counter::default(); N_QUOTAS];
        for (c, k) in counters.iter_mut().zip(keys) {
            c.period = k;
        }
        let mut snapshots = VecDeque::new();
        snapshots.push_back((now_us, [0; N_QUOTAS]));
        OrgState {
            limits,
            counters,
            workorders: VecDeque::new(),
            ttls: BTreeMap::new(),
            pending_by_dataset: HashMap::new(),
            pending_by_expiry: BTreeSet::new(),
            finished_ttls: VecDeque::new(),
            configs: BTreeMap::new(),
            snapshots,
        }
    }

    /// Current consumed values of all counters.
    pub fn consumed(&self) -> [u64; N_QUOTAS] {
        let mut out = [0; N_QUOTAS];
        for (o, c) in out.iter_mut().zip(&self.counters) {
            *o = c.consumed;
        }
        out
    }

    /// Records a snapshot for `list-lag`, keeping only what a lagged read can still need.
    pub fn snapshot(&mut self, now_us: i64, lag_us: i64) {
        const MAX_SNAPSHOTS: usize = 65_536;
        let values = self.consumed();
        if self.snapshots.back().map(|s| s.1) == Some(values) {
            return;
        }
        self.snapshots.push_back((now_us, values));
        let horizon = now_us - lag_us;
        while self.snapshots.len() >= 2 && self.snapshots[1].0 <= horizon {
            self.snapshots.pop_front();
        }
        while self.snapshots.len() > MAX_SNAPSHOTS {
            self.snapshots.pop_front();
        }
    }

    /// Counters as they were `lag_us` ago (the oldest kept snapshot if none is old enough).
    pub fn lagged(&self, now_us: i64, lag_us: i64) -> [u64; N_QUOTAS] {
        let horizon = now_us - lag_us;
        self.snapshots
            .iter()
            .rev()
            .find(|s| s.0 <= horizon)
            .or(self.snapshots.front())
            .map(|s| s.1)
            .unwrap_or([0; N_QUOTAS])
    }

    /// Moves expiration `id` to a finished status, forgetting the oldest finished ones
    /// beyond `cap`. Returns whether it was pending.
    pub fn finish_ttl(&mut self, id: u64, status: TtlStatus, now_us: i64, cap: usize) -> bool {
        let Some(t) = self.ttls.get_mut(&id) else {
            return false;
        };
        if t.status != TtlStatus::Pending {
            return false;
        }
        t.status = status;
        t.updated_us = now_us;
        self.pending_by_expiry.remove(&(t.expiry_us, id));
        self.pending_by_dataset.remove(&t.dataset_id);
        self.finished_ttls.push_back(id);
        while self.finished_ttls.len() > cap {
            if let Some(old) = self.finished_ttls.pop_front() {
                self.ttls.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_truncates_on_char_boundaries() {
        let s = "é".repeat(200);
        let k = keep(&s);
        assert!(k.len() <= MAX_KEPT_STRING);
        assert!(s.starts_with(&*k));
        assert_eq!(&*keep("short"), "short");
    }

    #[test]
    fn lagged_reads_see_the_past() {
        let mut o = OrgState::new([10; N_QUOTAS], [0; N_QUOTAS], 0);
        o.counters[1].consumed = 5;
        o.snapshot(1_000, 500);
        assert_eq!(o.lagged(1_200, 500)[1], 0);
        o.counters[1].consumed = 7;
        o.snapshot(2_000, 500);
        assert_eq!(o.lagged(2_100, 500)[1], 5);
        assert_eq!(o.lagged(2_600, 500)[1], 7);
    }
}
