//! Latency histograms per operation label × outcome, in two views: latency from the
//! intended start (coordinated-omission corrected) and raw service time.

use std::collections::BTreeMap;

mod absorb;
mod hdr_v2;
pub(crate) mod hlog;
pub mod intervals;
pub(crate) mod quota_series;

use hdrhistogram::Histogram;

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

/// Latency histograms and completions per second, per label × outcome; constant size
/// whatever the run length. Owned by one recording point (a shard of the engine, or the
/// coordinator behind its lock): recording takes no lock and, once a slot's histogram
/// exists, allocates nothing. Recorders of several shards or machines add up exactly
/// with [`Recorder::absorb`].
#[derive(Clone)]
pub struct Recorder {
    labels: Vec<String>,
    slots: Vec<Option<Histogram<u64>>>,
    /// Completions per second of each label, by outcome class (u32: 4 billion a
    /// second is out of reach; 32 bytes a second and label).
    per_second: Vec<Vec<[u32; OUTCOMES]>>,
}

const OUTCOMES: usize = Outcome::ALL.len();

/// Where one label × outcome × view histogram lives in `slots`.
fn slot(label: usize, outcome: Outcome, view: View) -> usize {
    (label * OUTCOMES + outcome.index()) * 2 + view as usize
}

impl Recorder {
    /// A recorder for these labels.
    pub fn new(labels: Vec<String>) -> Recorder {
        let n = labels.len() * OUTCOMES * 2;
        Recorder {
            per_second: labels.iter().map(|_| Vec::new()).collect(),
            labels,
            slots: (0..n).map(|_| None).collect(),
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
        &mut self,
        label: usize,
        outcome: Outcome,
        latency_us: u64,
        service_us: u64,
        done_second: usize,
    ) {
        for (view, v) in [(View::Latency, latency_us), (View::Service, service_us)] {
            self.slots[slot(label, outcome, view)]
                .get_or_insert_with(new_hist)
                .saturating_record(v.clamp(1, MAX_US));
        }
        let ps = &mut self.per_second[label];
        if ps.len() <= done_second {
            ps.resize(done_second + 1, [0; OUTCOMES]);
        }
        let n = &mut ps[done_second][outcome.index()];
        *n = n.saturating_add(1);
    }

    /// Records one completed operation record under `label`: its latency from intended,
    /// its service time and its second.
    pub fn record_op(&mut self, label: usize, rec: &crate::history::OpRecord) {
        let (iu, su, du) = (rec.intended_us, rec.sent_us, rec.done_us);
        self.record(
            label,
            rec.outcome,
            du.saturating_sub(iu),
            du.saturating_sub(su),
            (du / 1_000_000) as usize,
        );
    }

    /// A copy of one histogram (empty when nothing was recorded).
    pub fn histogram(&self, label: usize, outcome: Outcome, view: View) -> Histogram<u64> {
        self.slots[slot(label, outcome, view)]
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
        self.per_second[label]
            .iter()
            .map(|s| s.iter().map(|&n| u64::from(n)).sum())
            .collect()
    }

    /// Completions per second of a label for each outcome class that occurred, by
    /// second since the run started (every series as long as the label's throughput).
    pub fn outcomes_per_second(&self, label: usize) -> BTreeMap<Outcome, Vec<u64>> {
        let ps = &self.per_second[label];
        Outcome::ALL
            .iter()
            .filter(|o| ps.iter().any(|s| s[o.index()] > 0))
            .map(|&o| (o, ps.iter().map(|s| u64::from(s[o.index()])).collect()))
            .collect()
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
        let mut r = Recorder::new(vec!["consume".into(), "list".into()]);
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
        let by = r.outcomes_per_second(0);
        assert_eq!(by.len(), 2, "only the classes that occurred");
        assert_eq!(by[&Outcome::Accepted], vec![1, 0]);
        assert_eq!(by[&Outcome::RejectedQuota], vec![0, 1]);
    }
}
