//! `run --shard K/N`: one scenario's work divided exactly among N processes, as a pure
//! transform of the loaded scenario before the engine (which never learns of shards
//! beyond the tag it puts in request ids).
//!
//! What is split how (docs/distributed.md, "What is split how"):
//! - open-model rates (`rate`, each stage's `target`): R/N each, so the shares sum to R;
//! - operation counts (`operations`): ⌊O/N⌋ each, the remainder one more to the first
//!   shards, so the shares sum to O;
//! - closed-model concurrency: the same way (a shard may get 0 virtual users for a phase:
//!   it runs nothing there, and says so); an open-model phase's `concurrency` (its cap
//!   on operations in flight) likewise, but at least 1 where the shard has arrivals;
//! - `amount: auto` sizes orders from what remains: each shard sizes for N times
//!   `fill_orders` orders, so the N shards together fill what one process would;
//! - probes run on shard 1 only; on the other shards the probe phase runs nothing.

use super::{Loaded, Workload};
use crate::vocab::units::{Amount, Rate};

/// This process's part: shard `index` of `count` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, in `1..=count`.
    pub index: u32,
    /// N.
    pub count: u32,
}

/// The most shards a run may be split into.
pub const MAX_SHARDS: u32 = 1000;

impl Shard {
    /// Parses `K/N` (`3/4`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad =
            || format!("expected K/N with 1 ≤ K ≤ N ≤ {MAX_SHARDS}, like 3/4, found {text:?}");
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n || n > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index: k, count: n })
    }

    /// The shard when `--shard` is not given, from the environment: `QB_SHARD` (`K/N`),
    /// else a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` (0-based) with `QB_SHARDS`
    /// (N). `None` when neither is set: an unsharded run.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
        if let Some(v) = get("QB_SHARD").filter(|v| !v.trim().is_empty()) {
            return Shard::parse(&v)
                .map(Some)
                .map_err(|e| format!("QB_SHARD: {e}"));
        }
        let index = get("JOB_COMPLETION_INDEX").filter(|v| !v.trim().is_empty());
        let count = get("QB_SHARDS").filter(|v| !v.trim().is_empty());
        match (index, count) {
            (None, None) => Ok(None),
            (Some(i), Some(n)) => {
                let i: u32 = i.trim().parse().map_err(|_| {
                    format!("JOB_COMPLETION_INDEX: expected a number from 0, found {i:?}")
                })?;
                Shard::parse(&format!("{}/{}", i.saturating_add(1), n.trim()))
                    .map(Some)
                    .map_err(|e| format!("JOB_COMPLETION_INDEX={i} with QB_SHARDS: {e}"))
            }
            (Some(_), None) => Err(
                "JOB_COMPLETION_INDEX is set but QB_SHARDS is not: set QB_SHARDS to the Job's completions (N), or give --shard K/N".into(),
            ),
            // QB_SHARDS alone (a shared config map) is no shard: nothing says which.
            (None, Some(_)) => Ok(None),
        }
    }

    /// `shard-K-of-N`, the run folder's suffix.
    pub fn tag(self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// This shard's part of `total` units: ⌊total/N⌋, plus one for the first
    /// `total mod N` shards.
    pub fn share(self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index - 1) < total % n)
    }
}

/// The scenario as shard `shard` runs it, and a line for each phase where this shard
/// runs nothing (said on the terminal, not hidden).
pub fn split(loaded: &Loaded, shard: Shard) -> (Loaded, Vec<String>) {
    let mut out = loaded.clone();
    let mut idle = Vec::new();
    let n = f64::from(shard.count);
    for p in &mut out.scenario.phases {
        if p.probe.is_some() {
            if shard.index != 1 {
                idle.push(format!(
                    "phase {}: its probe runs on shard 1 only; this shard runs nothing there",
                    p.name
                ));
                p.probe = None;
                p.wait = None;
                p.workload = Workload {
                    concurrency: Some(0),
                    operations: Some(0),
                    ..Workload::default()
                };
            }
            continue;
        }
        let w = &mut p.workload;
        let open = w.rate.is_some() || !w.stages.is_empty();
        w.rate = w.rate.map(|r| Rate(r.per_second() / n));
        for st in &mut w.stages {
            st.target = Rate(st.target.per_second() / n);
        }
        w.operations = w.operations.map(|o| shard.share(o));
        w.concurrency = w.concurrency.map(|c| {
            let mine = shard.share(u64::from(c)) as u32;
            if open && w.operations != Some(0) {
                mine.max(1)
            } else {
                mine
            }
        });
        if w.amount == Amount::Auto {
            w.fill_orders = Some(
                w.fill_orders
                    .unwrap_or(40)
                    .saturating_mul(shard.count.into()),
            );
        }
        let why = match (w.operations, w.concurrency) {
            (Some(0), _) => Some("no operation"),
            (_, Some(0)) if !open => Some("no virtual user"),
            _ => None,
        };
        if let Some(why) = why {
            idle.push(format!(
                "phase {}: this shard's share is {why}; it runs nothing there",
                p.name
            ));
        }
    }
    (out, idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(yaml: &str) -> Loaded {
        crate::scenario::load_text(std::path::Path::new("s.yaml"), yaml).unwrap()
    }

    const SCENARIO: &str = "name: s
target: {profile: adobe-hygiene}
phases:
  - name: open
    workload: {rate: 10/s, duration: 1s, concurrency: 3, mix: {list: 1}}
  - name: closed
    workload: {concurrency: 6, operations: 43, mix: {list: 1}, amount: 1}
  - name: ramp
    workload: {stages: [{duration: 1s, target: 7/s}], mix: {list: 1}}
  - name: few
    workload: {concurrency: 2, operations: 10, mix: {list: 1}, amount: 1}
  - name: edge
    probe: boundary
";

    #[test]
    fn the_shares_of_every_shard_sum_to_the_whole() {
        let l = loaded(SCENARIO);
        let parts: Vec<Loaded> = (1..=4)
            .map(|k| split(&l, Shard { index: k, count: 4 }).0)
            .collect();
        let phase = |s: &Loaded, i: usize| s.scenario.phases[i].workload.clone();
        let rate: f64 = parts.iter().map(|s| phase(s, 0).rate.unwrap().0).sum();
        assert_eq!(rate, 10.0);
        let ramp: f64 = parts.iter().map(|s| phase(s, 2).stages[0].target.0).sum();
        assert_eq!(ramp, 7.0);
        let ops: Vec<u64> = parts
            .iter()
            .map(|s| phase(s, 1).operations.unwrap())
            .collect();
        assert_eq!(ops, [11, 11, 11, 10]);
        let users: Vec<u32> = parts
            .iter()
            .map(|s| phase(s, 1).concurrency.unwrap())
            .collect();
        assert_eq!(users, [2, 2, 1, 1]);
        // The open phase's cap on operations in flight: at least 1 per shard.
        let cap: Vec<u32> = parts
            .iter()
            .map(|s| phase(s, 0).concurrency.unwrap())
            .collect();
        assert_eq!(cap, [1, 1, 1, 1]);
        // Durations are not split: every shard runs the whole phase.
        assert!(parts
            .iter()
            .all(|s| phase(s, 0).duration == phase(&l, 0).duration));
    }

    #[test]
    fn probes_run_on_shard_one_and_idle_shares_are_said() {
        let l = loaded(SCENARIO);
        let (first, idle1) = split(&l, Shard { index: 1, count: 4 });
        assert!(first.scenario.phases[4].probe.is_some());
        assert!(idle1.is_empty(), "{idle1:?}");
        let (fourth, idle4) = split(&l, Shard { index: 4, count: 4 });
        assert!(fourth.scenario.phases[4].probe.is_none());
        assert_eq!(fourth.scenario.phases[4].workload.operations, Some(0));
        // Shard 4 of 4 gets no virtual user of the 2 of phase `few`, and no probe.
        assert_eq!(idle4.len(), 2, "{idle4:?}");
        assert!(idle4[0].contains("few") && idle4[0].contains("no virtual user"));
        assert!(idle4[1].contains("probe runs on shard 1 only"));
    }

    #[test]
    fn auto_amounts_are_sized_for_every_shard_together() {
        let l = loaded(
            "name: s
target: {profile: adobe-hygiene}
phases:
  - name: fill
    workload: {concurrency: 4, operations: 8, mix: {consume: 1}}
",
        );
        let (s, _) = split(&l, Shard { index: 2, count: 4 });
        assert_eq!(s.scenario.phases[0].workload.fill_orders, Some(160));
    }

    #[test]
    fn shard_text_and_environment_are_read_with_named_errors() {
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, count: 4 }));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "1/1001"] {
            assert!(Shard::parse(bad).unwrap_err().contains("K/N"), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Shard::from_env(env(&[])), Ok(None));
        assert_eq!(
            Shard::from_env(env(&[("QB_SHARD", "2/3"), ("JOB_COMPLETION_INDEX", "0")])),
            Ok(Some(Shard { index: 2, count: 3 })),
            "QB_SHARD comes before the Job's index"
        );
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "3"), ("QB_SHARDS", "4")])),
            Ok(Some(Shard { index: 4, count: 4 }))
        );
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "4"), ("QB_SHARDS", "4")]));
        assert!(e.unwrap_err().contains("JOB_COMPLETION_INDEX=4"));
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "1")]));
        assert!(e.unwrap_err().contains("QB_SHARDS"));
        assert_eq!(Shard::from_env(env(&[("QB_SHARDS", "4")])), Ok(None));
    }

    #[test]
    fn shares_of_a_count_sum_to_it() {
        for n in 1..=7u32 {
            for total in [0u64, 1, 6, 7, 43, 1000] {
                let sum: u64 = (1..=n)
                    .map(|k| Shard { index: k, count: n }.share(total))
                    .sum();
                assert_eq!(sum, total, "{total} over {n}");
            }
        }
    }
}
