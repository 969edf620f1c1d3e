//! The one histogram merge: the engine's shards (one per core) and the machines of a
//! multi-process run each fill a [`Recorder`] of their own, and one absorbs the others.
//! HdrHistogram addition is exact — the merged histogram is the one a single recorder
//! would have filled with every value — so percentiles of a merged run are the run's, not
//! an average of percentiles.

use hdrhistogram::Histogram;

use super::{new_hist, slot, Recorder, View, MAX_US, OUTCOMES};
use crate::vocab::Outcome;

impl Recorder {
    /// Adds everything `other` recorded to `self`: every histogram (label × outcome ×
    /// view) and every second's completions. Labels are matched by name, so recorders
    /// built with their labels in another order (another machine's) merge correctly; a
    /// label only `other` has is added.
    pub fn absorb(&mut self, other: &Recorder) {
        for (oi, label) in other.labels.iter().enumerate() {
            let si = match self.label_index(label) {
                Some(i) => i,
                None => self.add_label(label),
            };
            for o in Outcome::ALL {
                for view in [View::Latency, View::Service] {
                    let Some(theirs) = &other.slots[slot(oi, o, view)] else {
                        continue;
                    };
                    let mine = self.slots[slot(si, o, view)].get_or_insert_with(new_hist);
                    add_exactly(mine, theirs);
                }
            }
            let (mine, theirs) = (&mut self.per_second[si], &other.per_second[oi]);
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), [0; OUTCOMES]);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                for (a, b) in m.iter_mut().zip(t) {
                    *a = a.saturating_add(*b);
                }
            }
        }
    }

    /// Appends a label with empty slots; returns its index.
    fn add_label(&mut self, label: &str) -> usize {
        self.labels.push(label.to_string());
        self.slots.extend((0..OUTCOMES * 2).map(|_| None));
        self.per_second.push(Vec::new());
        self.labels.len() - 1
    }
}

/// `mine += theirs`. Our histograms share bounds, so `add` cannot fail; one read from
/// elsewhere (another machine's file) may hold values past ours: those are counted at
/// our bound, as recording them here would have, so no count is lost.
fn add_exactly(mine: &mut Histogram<u64>, theirs: &Histogram<u64>) {
    if mine.add(theirs).is_ok() {
        return;
    }
    for v in theirs.iter_recorded() {
        let value = v.value_iterated_to().clamp(1, MAX_US);
        mine.saturating_record_n(value, v.count_at_value());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random latencies over four orders of magnitude.
    fn values(seed: u64, n: usize) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                1 + (x >> 33) % 2_000_000 / (1 + (x >> 60))
            })
            .collect()
    }

    #[test]
    fn shards_merged_equal_one_recorder_fed_everything() {
        let labels = || vec!["list".to_string(), "consume".to_string()];
        let mut whole = Recorder::new(labels());
        let mut shards = [Recorder::new(labels()), Recorder::new(labels())];
        for (i, v) in values(7, 20_000).into_iter().enumerate() {
            let (label, outcome) = match i % 3 {
                0 => (0, Outcome::Accepted),
                1 => (1, Outcome::RejectedQuota),
                _ => (1, Outcome::Accepted),
            };
            let second = i / 1000;
            whole.record(label, outcome, v, v / 2, second);
            shards[i % 2].record(label, outcome, v, v / 2, second);
        }
        let mut merged = Recorder::new(labels());
        for s in &shards {
            merged.absorb(s);
        }
        for label in 0..2 {
            for o in Outcome::ALL {
                for view in [View::Latency, View::Service] {
                    assert_eq!(
                        merged.histogram(label, o, view),
                        whole.histogram(label, o, view),
                        "label {label}, {o:?}, {view:?}"
                    );
                }
            }
            assert_eq!(merged.throughput(label), whole.throughput(label));
            assert_eq!(merged.counts(label), whole.counts(label));
        }
        let p99 = merged.merged(1, View::Latency).value_at_quantile(0.99);
        assert_eq!(p99, whole.merged(1, View::Latency).value_at_quantile(0.99));
    }

    #[test]
    fn labels_are_matched_by_name_and_new_ones_are_added() {
        let mut mine = Recorder::new(vec!["list".into()]);
        mine.record(0, Outcome::Accepted, 100, 90, 0);
        let mut theirs = Recorder::new(vec!["consume".into(), "list".into()]);
        theirs.record(1, Outcome::Accepted, 300, 250, 2);
        theirs.record(0, Outcome::RejectedQuota, 700, 600, 1);
        mine.absorb(&theirs);
        assert_eq!(mine.labels(), ["list", "consume"]);
        let list = mine.histogram(0, Outcome::Accepted, View::Latency);
        assert_eq!((list.len(), list.min(), list.max()), (2, 100, 300));
        assert_eq!(mine.throughput(0), [1, 0, 1]);
        assert_eq!(mine.counts(1)[&Outcome::RejectedQuota], 1);
        assert_eq!(mine.throughput(1), [0, 1]);
    }

    #[test]
    fn values_past_our_bounds_are_counted_not_lost() {
        let mut mine = new_hist();
        mine.record(5).unwrap();
        let mut wide = Histogram::<u64>::new_with_bounds(1, MAX_US * 4, 3).unwrap();
        wide.record(MAX_US * 3).unwrap();
        wide.record(10).unwrap();
        add_exactly(&mut mine, &wide);
        assert_eq!(mine.len(), 3);
        assert!(mine.max() >= MAX_US && mine.max() <= MAX_US + MAX_US / 500);
    }
}
