//! Adding one recorder into another: what `quotabench merge` does with the shards'
//! histograms. HdrHistogram addition is exact (counts per bucket add), so a merged
//! histogram is the one a single recorder would have held for the union of the
//! operations: its counts and percentiles are the union's, not an average of averages.

use super::{Recorder, OUTCOMES};

impl Recorder {
    /// Adds every histogram and per-second count of `other` into this recorder, label by
    /// label (matched by name). A label of `other` this recorder was not made with has
    /// nowhere to go: make the recorder with every label first ([`Recorder::union_of`]).
    pub fn absorb(&self, other: &Recorder) {
        for (j, label) in other.labels.iter().enumerate() {
            let Some(i) = self.label_index(label) else {
                debug_assert!(false, "absorb: label {label:?} is not in this recorder");
                continue;
            };
            for slot in 0..OUTCOMES * 2 {
                let theirs = other.slots[j * OUTCOMES * 2 + slot].lock().clone();
                if let Some(h) = theirs {
                    let mut mine = self.slots[i * OUTCOMES * 2 + slot].lock();
                    // Same bounds on both sides (`new_hist`): adding cannot fail.
                    let _ = mine.get_or_insert_with(super::new_hist).add(&h);
                }
            }
            let theirs = other.per_second[j].lock().clone();
            let mut mine = self.per_second[i].lock();
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), 0);
            }
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }

    /// An empty recorder with every label of these, in first-seen order.
    pub fn union_of(recorders: &[&Recorder]) -> Recorder {
        let mut labels: Vec<String> = Vec::new();
        for r in recorders {
            for l in &r.labels {
                if !labels.contains(l) {
                    labels.push(l.clone());
                }
            }
        }
        Recorder::new(labels)
    }
}

#[cfg(test)]
mod tests {
    use super::super::View;
    use super::*;
    use crate::vocab::Outcome;

    #[test]
    fn absorbing_gives_the_histograms_of_the_union() {
        let a = Recorder::new(vec!["consume".into(), "list".into()]);
        let b = Recorder::new(vec!["list".into(), "probe".into()]);
        let all = Recorder::new(vec!["consume".into(), "list".into(), "probe".into()]);
        let mut x = 17u64;
        for n in 0..2_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let lat = 1 + (x >> 40) % 900_000;
            let (r, label) = match n % 3 {
                0 => (&a, "consume"),
                1 => (&a, "list"),
                _ => (&b, if n % 2 == 0 { "list" } else { "probe" }),
            };
            let outcome = if n % 7 == 0 {
                Outcome::RejectedQuota
            } else {
                Outcome::Accepted
            };
            let sec = (n % 5) as usize;
            r.record(r.label_index(label).unwrap(), outcome, lat, lat / 2, sec);
            all.record(all.label_index(label).unwrap(), outcome, lat, lat / 2, sec);
        }
        let merged = Recorder::union_of(&[&a, &b]);
        merged.absorb(&a);
        merged.absorb(&b);
        assert_eq!(merged.labels(), all.labels());
        for (i, _) in all.labels().iter().enumerate() {
            for view in [View::Latency, View::Service] {
                let (m, u) = (merged.merged(i, view), all.merged(i, view));
                assert_eq!(m.len(), u.len());
                for q in [0.5, 0.9, 0.99, 0.999, 1.0] {
                    assert_eq!(m.value_at_quantile(q), u.value_at_quantile(q));
                }
            }
            assert_eq!(merged.counts(i), all.counts(i));
            assert_eq!(merged.throughput(i), all.throughput(i));
        }
    }
}
