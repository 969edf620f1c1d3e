//! Didomi's records: export configurations (the concurrent `exports_configs` quota,
//! held while enabled) and their destinations (the scoped `exports_destinations`
//! quota, counted per configuration). The routes in `routes::didomi` turn these
//! records into wire views.

use super::state::{Model, QuotaRejection, Refusal, Window};
use crate::orgs::{keep, Destination, ExportConfig, OrgState};
use crate::quota::{decide, Decision, EXPORTS_CONFIGS, EXPORTS_DESTINATIONS, QUOTAS};

impl Model {
    /// Creates a disabled export configuration (consumes nothing).
    pub fn create_config(&self, org: &str, name: &str) -> Result<ExportConfig, Refusal> {
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
        o.configs.insert(c.id, c.clone());
        Ok(c)
    }

    fn no_config(id: u64) -> Refusal {
        Refusal::NotFound(format!("no export configuration cfg-{id}"))
    }

    /// Enables a configuration: +1 on `exports_configs` (already enabled: no change).
    pub async fn enable_config(
        &self,
        org: &str,
        id: u64,
        window: Window,
    ) -> Result<ExportConfig, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(id))?;
        // Unknown or already enabled: answered here, without going through admission.
        {
            let o = state.lock();
            match o.configs.get(&id) {
                None => return Err(Self::no_config(id)),
                Some(c) if c.enabled => return Ok(c.clone()),
                Some(_) => {}
            }
        }
        // Enabled by a concurrent request since the look above: still the idempotent
        // no-op, signalled out of the precheck (which can only return a refusal).
        let mut already = None;
        let r = self
            .consume(
                org,
                &[EXPORTS_CONFIGS],
                1,
                window,
                |o, _| match o.configs.get(&id) {
                    None => Err(Self::no_config(id)),
                    Some(c) if c.enabled => {
                        already = Some(c.clone());
                        Err(Refusal::Invalid(String::new()))
                    }
                    Some(_) => Ok(()),
                },
                |o, _, now| {
                    let c = o.configs.get_mut(&id)?;
                    c.enabled = true;
                    c.updated_us = now;
                    Some(c.clone())
                },
            )
            .await;
        if let Some(v) = already {
            return Ok(v);
        }
        // The configuration vanished between check and apply (only under `non-atomic`).
        r?.ok_or_else(|| Self::no_config(id))
    }

    /// Disables a configuration, freeing its slot (not under `cancel-keeps-slot`).
    pub fn disable_config(&self, org: &str, id: u64) -> Result<ExportConfig, Refusal> {
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
        let view = c.clone();
        if was && !keeps {
            let k = &mut o.counters[EXPORTS_CONFIGS];
            k.consumed = k.consumed.saturating_sub(1);
        }
        self.after_change(&mut o, now);
        Ok(view)
    }

    /// Deletes a configuration (freeing its slot if enabled, like disable).
    pub fn delete_config(&self, org: &str, id: u64) -> Result<ExportConfig, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(id))?;
        let mut o = state.lock();
        let now = self.clock.now_us();
        let c = o.configs.remove(&id).ok_or_else(|| Self::no_config(id))?;
        if c.enabled && !self.faults.cancel_keeps_slot {
            let k = &mut o.counters[EXPORTS_CONFIGS];
            k.consumed = k.consumed.saturating_sub(1);
        }
        self.after_change(&mut o, now);
        Ok(c)
    }

    /// One configuration of `org`.
    pub fn get_config(&self, org: &str, id: u64) -> Option<ExportConfig> {
        let state = self.lookup(org)?;
        let o = state.lock();
        o.configs.get(&id).cloned()
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
    ) -> (Vec<ExportConfig>, usize) {
        let Some(state) = self.lookup(org) else {
            return (Vec::new(), 0);
        };
        let o = state.lock();
        let keep = |c: &&ExportConfig| enabled.is_none_or(|e| c.enabled == e);
        let view = |c: &ExportConfig| c.clone();
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
    pub async fn attach_destination(
        &self,
        org: &str,
        cfg: u64,
        name: &str,
        window: Window,
    ) -> Result<Destination, Refusal> {
        let state = self.lookup(org).ok_or_else(|| Self::no_config(cfg))?;
        let check = |o: &OrgState| -> Result<Decision, Refusal> {
            let c = o.configs.get(&cfg).ok_or_else(|| Self::no_config(cfg))?;
            Ok(decide(
                &self.faults,
                &[(c.dest_slots, o.limits[EXPORTS_DESTINATIONS])],
                1,
            ))
        };
        let early = self.race_window(&state, window, |o, _| check(o)).await?;
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
                c.destinations.push(d.clone());
                c.updated_us = now;
                Ok(d)
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
}
