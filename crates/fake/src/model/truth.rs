//! Ground truth: what the fake really holds for an organization, for tests and tools
//! (`Fake::state`, `GET /__admin/orgs/{org}/state`), next to what the API lists.

use serde::Serialize;

use super::state::Model;
use crate::clock::rfc3339_us;
use crate::quota::{Api, QuotaKind, EXPORTS_CONFIGS, QUOTAS};

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

impl Model {
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
            now: rfc3339_us(now),
            quotas,
            configs,
            pending_expirations: pending,
            workorders_retained: retained,
        }
    }
}
