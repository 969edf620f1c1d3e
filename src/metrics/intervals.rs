//! Per-second latency of each operation, built as records arrive: it streams
//! latency.hlog and keeps the small per-second summaries the report plots, so both cover
//! the whole run whatever its length (the in-memory history is bounded; these are not
//! built from it).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::hlog::{HlogStream, INTERVAL};
use crate::error::Error;
use crate::vocab::Sym;

/// Latency of the operations completing in one second of the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct TimePoint {
    /// Second since the run started.
    pub t_s: u64,
    /// Operations completed in that second.
    pub count: u64,
    /// Median latency (µs).
    pub p50: u64,
    /// 99th percentile latency (µs).
    pub p99: u64,
    /// Maximum latency (µs).
    pub max: u64,
}

/// Seconds a second stays open after a later one began: records reach the collector
/// within milliseconds of completing, so two seconds is ample. A record later than that
/// still counts, in an extra interval for its second.
const GRACE_S: u64 = 2;

/// Open per-second histograms, closed in order as the run moves on.
pub struct Intervals {
    open: BTreeMap<(u64, Sym), Histogram<u64>>,
    points: BTreeMap<String, Vec<TimePoint>>,
    log: Option<HlogStream>,
    newest: u64,
}

impl Intervals {
    /// Per-second summaries only, or streamed into `log` as well.
    pub fn new(log: Option<HlogStream>) -> Intervals {
        Intervals {
            open: BTreeMap::new(),
            points: BTreeMap::new(),
            log,
            newest: 0,
        }
    }

    /// One operation of `label`, completed at `done_us` after the run's start, with
    /// `latency_us` from its intended start.
    pub fn record(&mut self, label: Sym, done_us: u64, latency_us: u64) {
        let sec = done_us / INTERVAL.as_micros() as u64;
        let h = self
            .open
            .entry((sec, label))
            .or_insert_with(super::new_hist);
        h.saturating_record(latency_us.clamp(1, super::MAX_US));
        if sec > self.newest {
            self.newest = sec;
            self.close_before(sec.saturating_sub(GRACE_S));
        }
    }

    /// Closes every second before `sec`: logged, and summarized for the report.
    fn close_before(&mut self, sec: u64) {
        while let Some(entry) = self.open.first_entry() {
            if entry.key().0 >= sec {
                break;
            }
            let ((s, label), h) = entry.remove_entry();
            self.points
                .entry(label.as_str().to_string())
                .or_default()
                .push(TimePoint {
                    t_s: s,
                    count: h.len(),
                    p50: h.value_at_quantile(0.5),
                    p99: h.value_at_quantile(0.99),
                    max: h.max(),
                });
            if let Some(log) = &self.log {
                log.interval(s, label.as_str(), h);
            }
        }
    }

    /// Closes every second and the log; returns the per-second summaries by label.
    pub fn finish(mut self) -> Result<BTreeMap<String, Vec<TimePoint>>, Error> {
        self.close_before(u64::MAX);
        if let Some(log) = self.log.take() {
            log.finish()?;
        }
        for v in self.points.values_mut() {
            // A very late record adds a second interval for its second: keep time order.
            v.sort_by_key(|p| p.t_s);
        }
        Ok(self.points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_each_second_of_each_label_in_time_order() {
        let mut i = Intervals::new(None);
        for (label, done_us, lat) in [
            ("list", 100, 10),
            ("list", 900_000, 30),
            ("consume", 1_200_000, 500),
            ("list", 1_500_000, 20),
            // Arrives after second 3 has begun: second 1 is still open (grace).
            ("list", 3_100_000, 40),
            ("list", 1_900_000, 25),
            // Arrives after second 0 closed: an extra point for second 0.
            ("list", 50, 7),
        ] {
            i.record(label.into(), done_us, lat);
        }
        let p = i.finish().unwrap();
        let list: Vec<(u64, u64, u64)> =
            p["list"].iter().map(|x| (x.t_s, x.count, x.max)).collect();
        assert_eq!(list, [(0, 2, 30), (0, 1, 7), (1, 2, 25), (3, 1, 40)]);
        assert_eq!(p["consume"].len(), 1);
        assert_eq!(p["consume"][0].p50, 500);
    }
}
