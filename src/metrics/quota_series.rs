//! Consumed and limit over time per quota, built from every list answer as it arrives,
//! in bounded memory: the report's quota plot covers the whole run whatever its length.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::OpRecord;

/// One reading of a quota.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct QuotaPoint {
    /// Seconds since the run started.
    pub t_s: f64,
    /// Consumed as listed.
    pub consumed: u64,
    /// Limit as listed.
    pub limit: u64,
}

/// Most points kept per quota series: plots stay light whatever the run length.
pub const MAX_SERIES_POINTS: usize = 2_000;

/// The series being built, for one tenant (a probe's reads of another tenant are not
/// this tenant's counters).
pub struct QuotaSeries {
    tenant: String,
    series: BTreeMap<String, Series>,
}

#[derive(Default)]
struct Series {
    points: Vec<QuotaPoint>,
    /// The latest reading, whether or not it changed anything (the plot ends there).
    last: Option<QuotaPoint>,
}

impl QuotaSeries {
    /// Series of `tenant`'s quotas.
    pub fn new(tenant: &str) -> QuotaSeries {
        QuotaSeries {
            tenant: tenant.to_string(),
            series: BTreeMap::new(),
        }
    }

    /// Takes the readings of one operation, if it read a list of this tenant.
    pub fn record(&mut self, o: &OpRecord) {
        if o.tenant != self.tenant.as_str() {
            return;
        }
        for r in o.snapshot.iter().flatten() {
            let p = QuotaPoint {
                t_s: o.done_us as f64 / 1e6,
                consumed: r.consumed,
                limit: r.limit,
            };
            let s = match self.series.get_mut(r.name.as_str()) {
                Some(s) => s,
                None => self.series.entry(r.name.to_string()).or_default(),
            };
            // Only changes are kept (a reset stays visible as a change); records arrive
            // in completion order to within milliseconds, and the end sorts them.
            let changed = s
                .points
                .last()
                .is_none_or(|l| l.consumed != p.consumed || l.limit != p.limit);
            if changed {
                s.points.push(p.clone());
                if s.points.len() >= 2 * MAX_SERIES_POINTS {
                    // Halve, so memory stays bounded on a run of any length.
                    s.points = s.points.iter().step_by(2).cloned().collect();
                }
            }
            if s.last.as_ref().is_none_or(|l| l.t_s <= p.t_s) {
                s.last = Some(p);
            }
        }
    }

    /// The series by quota: time-ordered changes plus the last reading, thinned evenly
    /// past [`MAX_SERIES_POINTS`].
    pub fn finish(self) -> BTreeMap<String, Vec<QuotaPoint>> {
        self.series
            .into_iter()
            .map(|(name, s)| {
                let mut v = s.points;
                v.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
                v.dedup_by(|b, a| a.consumed == b.consumed && a.limit == b.limit);
                if v.len() > MAX_SERIES_POINTS {
                    let step = v.len().div_ceil(MAX_SERIES_POINTS);
                    v = v.iter().step_by(step).cloned().collect();
                }
                if let Some(l) = s.last {
                    if v.last() != Some(&l) {
                        v.push(l);
                    }
                }
                (name, v)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Reading;

    fn list(id: u64, done_us: u64, consumed: u64) -> OpRecord {
        OpRecord {
            tenant: "org".into(),
            amount: 0,
            snapshot: Some(vec![Reading::new("q", 10, consumed)].into()),
            ..OpRecord::sample(id, "list", done_us, done_us)
        }
    }

    #[test]
    fn keeps_changes_resets_and_the_last_reading() {
        let mut s = QuotaSeries::new("org");
        for (i, (t, c)) in [(0, 0), (1, 0), (2, 5), (3, 10), (4, 0), (5, 0), (6, 0)]
            .into_iter()
            .enumerate()
        {
            s.record(&list(i as u64, t * 1_000_000, c));
        }
        let got: Vec<(f64, u64)> = s.finish()["q"]
            .iter()
            .map(|p| (p.t_s, p.consumed))
            .collect();
        assert_eq!(got, [(0.0, 0), (2.0, 5), (3.0, 10), (4.0, 0), (6.0, 0)]);

        // Another tenant's readings are not this tenant's counters.
        let mut s = QuotaSeries::new("other");
        s.record(&list(1, 0, 3));
        assert!(s.finish().is_empty());
    }

    #[test]
    fn stays_bounded_on_a_long_run() {
        let mut s = QuotaSeries::new("org");
        for i in 0..100_000u64 {
            s.record(&list(i, i * 1000, i % 7));
            assert!(s.series["q"].points.len() < 2 * MAX_SERIES_POINTS);
        }
        let v = &s.finish()["q"];
        assert!(v.len() <= MAX_SERIES_POINTS + 1, "{}", v.len());
        assert_eq!(v.last().unwrap().t_s, 99_999.0 / 1000.0);
    }
}
