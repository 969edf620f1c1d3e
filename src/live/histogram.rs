//! A latency histogram made of atomics, encoded by prometheus-client.
//!
//! prometheus-client's own `Histogram` takes a mutex on every observation; a load
//! generator observes tens of thousands of times a second from every worker, so the
//! counts here are one atomic add per bucket hit instead, and the crate only encodes them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of the buckets, microseconds (the `le` labels are these in seconds):
/// 250 µs to 10 s, dense where quota APIs answer (ms), then `+Inf`.
pub const BOUNDS_US: [u64; 15] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

struct Inner {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

/// One histogram series (one operation × outcome).
#[derive(Clone)]
pub struct AtomicHistogram(Arc<Inner>);

// The registry asks for Debug; the counts are what `encode` shows.
impl std::fmt::Debug for AtomicHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AtomicHistogram")
    }
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        AtomicHistogram(Arc::new(Inner {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
        }))
    }
}

impl AtomicHistogram {
    /// Counts one observation of `us` microseconds.
    #[inline]
    pub fn observe_us(&self, us: u64) {
        let i = BOUNDS_US.partition_point(|&b| b < us);
        self.0.buckets[i].fetch_add(1, Relaxed);
        self.0.sum_us.fetch_add(us, Relaxed);
    }

    /// Per-bucket counts with their upper bounds in seconds, and their total.
    fn snapshot(&self) -> (Vec<(f64, u64)>, u64) {
        let mut total = 0;
        let buckets = self
            .0
            .buckets
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let n = c.load(Relaxed);
                total += n;
                let le = BOUNDS_US.get(i).map_or(f64::INFINITY, |&b| b as f64 / 1e6);
                (le, n)
            })
            .collect();
        (buckets, total)
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // The count is the buckets' total, read once: `_count` always equals the `+Inf`
        // bucket, as Prometheus expects, even while workers observe. The sum is read
        // apart and may include an observation or two more than the buckets.
        let (buckets, count) = self.snapshot();
        let sum = self.0.sum_us.load(Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_lands_in_the_first_bucket_that_holds_it() {
        let h = AtomicHistogram::default();
        for us in [0, 250, 251, 1_000, 10_000_000, 10_000_001, u64::MAX / 4] {
            h.observe_us(us);
        }
        let (b, total) = h.snapshot();
        assert_eq!(total, 7);
        assert_eq!(b[0], (0.00025, 2), "0 and 250 µs are <= 250 µs");
        assert_eq!(b[1].1, 1, "251 µs is in le=0.0005");
        assert_eq!(b[2].1, 1, "1 ms is in le=0.001, its bound");
        assert_eq!(b[BOUNDS_US.len() - 1], (10.0, 1));
        assert_eq!(b[BOUNDS_US.len()], (f64::INFINITY, 2));
    }
}
