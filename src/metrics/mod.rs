//! Latency histograms per operation label × outcome, in two views: latency from the
//! intended start (coordinated-omission corrected) and raw service time.

use std::collections::BTreeMap;

mod absorb;
pub(crate) mod hlog;
pub mod intervals;
pub(crate) mod quota_series;

use hdrhistogram::Histogram;
use parking_lot::Mutex;

use crate::vocab::Outcome;

/// Highest trackable latency: one hour, in µs.
pub const MAX_US: u64 = 3_600_000_000;

fn new_hist() -> Histogram<u64> {
    // 3 significant digits, 1 µs to 1 h: the bounds are constants, so this cannot fail.
    Histogram::new_with_bounds(1, MAX_US, 3).expect("constant histogram bounds are valid")
}

/// Which latency a histogram holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// From the intended start (what a user waiting on the schedule sees).
    Latency = 0,
    /// From the actual send (what a closed-loop tool reports).
    Service = 1,
}

/// Thread-safe recorder shared by the workers; constant size whatever the run length.
pub struct Recorder {
    labels: Vec<String>,
    slots: Vec<Mutex<Option<Histogram<u64>>>>,
    per_second: Vec<Mutex<Vec<u64>>>,
}

const OUTCOMES: usize = Outcome::ALL.len();

impl Recorder {
    /// A recorder for these labels.
    pub fn new(labels: Vec<String>) -> Recorder {
        let n = labels.len() * OUTCOMES * 2;
        Recorder {
            per_second: labels.iter().map(|_| Mutex::new(Vec::new())).collect(),
            labels,
            slots: (0..n).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// Index of a label.
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// Labels in order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Records one completed operation.
    pub fn record(
        &self,
        label: usize,
        outcome: Outcome,
        latency_us: u64,
        service_us: u64,
        done_second: usize,
    ) {
        for (view, v) in [(View::Latency, latency_us), (View::Service, service_us)] {
            let slot = &self.slots[(label * OUTCOMES + outcome.index()) * 2 + view as usize];
            let mut g = slot.lock();
            g.get_or_insert_with(new_hist)
                .saturating_record(v.clamp(1, MAX_US));
        }
        let mut ps = self.per_second[label].lock();
        if ps.len() <= done_second {
            ps.resize(done_second + 1, 0);
        }
        ps[done_second] += 1;
    }

    /// A copy of one histogram (empty when nothing was recorded).
    pub fn histogram(&self, label: usize, outcome: Outcome, view: View) -> Histogram<u64> {
        self.slots[(label * OUTCOMES + outcome.index()) * 2 + view as usize]
            .lock()
            .clone()
            .unwrap_or_else(new_hist)
    }

    /// All outcomes of a label merged.
    pub fn merged(&self, label: usize, view: View) -> Histogram<u64> {
        let mut h = new_hist();
        for o in Outcome::ALL {
            // Same bounds on both sides: adding cannot fail.
            let _ = h.add(self.histogram(label, o, view));
        }
        h
    }

    /// Completions per second of a label, by second since the run started.
    pub fn throughput(&self, label: usize) -> Vec<u64> {
        self.per_second[label].lock().clone()
    }

    /// Counts per outcome of a label.
    pub fn counts(&self, label: usize) -> BTreeMap<Outcome, u64> {
        Outcome::ALL
            .iter()
            .map(|&o| (o, self.histogram(label, o, View::Service).len()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_by_label_outcome_and_view() {
        let r = Recorder::new(vec!["consume".into(), "list".into()]);
        r.record(0, Outcome::Accepted, 2_000, 1_000, 0);
        r.record(0, Outcome::RejectedQuota, 5_000, 5_000, 1);
        r.record(1, Outcome::Accepted, 300, 300, 1);
        assert_eq!(
            r.histogram(0, Outcome::Accepted, View::Latency).max(),
            2_000
        );
        assert_eq!(
            r.histogram(0, Outcome::Accepted, View::Service).max(),
            1_000
        );
        assert_eq!(r.merged(0, View::Latency).len(), 2);
        assert_eq!(r.counts(0)[&Outcome::RejectedQuota], 1);
        assert_eq!(r.throughput(0), vec![1, 1]);
        assert_eq!(r.throughput(1), vec![0, 1]);
    }
}
