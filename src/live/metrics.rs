//! The metric families of a run and the lock-free path from an operation to them.
//!
//! prometheus-client's `Family` finds a series through a lock; taking it once per
//! operation would serialise the workers. Each (operation label × outcome) series is
//! looked up in the family once, on its first operation, and kept in a table indexed by
//! the engine's label index: every later operation costs a few relaxed atomic adds.

use std::sync::atomic::AtomicI64;
use std::sync::OnceLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use super::histogram::AtomicHistogram;
use crate::vocab::{Outcome, PhaseStats, Sym};

/// Operation labels with a table slot; a scenario with more (never seen) still counts
/// them, through the family's lock.
const TABLE_LABELS: usize = 256;

type OpOutcome = [(&'static str, String); 2];
type PhaseLabel = [(&'static str, String); 1];

/// One operation × outcome: its counter and its latency histogram.
struct Series {
    ops: Counter,
    latency: AtomicHistogram,
}

/// Everything `--metrics-listen` serves.
pub(crate) struct Metrics {
    registry: Registry,
    ops: Family<OpOutcome, Counter>,
    latency: Family<OpOutcome, AtomicHistogram>,
    in_flight: Gauge<i64, AtomicI64>,
    dropped: Family<PhaseLabel, Counter>,
    phase: Family<PhaseLabel, Gauge<i64, AtomicI64>>,
    table: Box<[OnceLock<Series>]>,
    /// The phase now running (its gauge reads 1), to set back to 0 when the next starts.
    current: parking_lot::Mutex<Option<String>>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("quotabench");
        let ops = Family::<OpOutcome, Counter>::default();
        let latency = Family::<OpOutcome, AtomicHistogram>::default();
        let in_flight = Gauge::<i64, AtomicI64>::default();
        let dropped = Family::<PhaseLabel, Counter>::default();
        let phase = Family::<PhaseLabel, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "operations",
            "Operations completed, by operation label and outcome class (docs/rules.md, Outcomes)",
            ops.clone(),
        );
        registry.register_with_unit(
            "latency",
            "Latency from each operation's intended start to its answer (coordinated omission corrected), by operation and outcome",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register(
            "in_flight",
            "Requests sent and not yet answered",
            in_flight.clone(),
        );
        registry.register(
            "dropped_arrivals",
            "Open-model arrivals the schedule asked for that no worker sent by the phase's deadline, counted when the phase ends",
            dropped.clone(),
        );
        registry.register(
            "phase",
            "1 for the phase now running, 0 for phases already run",
            phase.clone(),
        );
        Metrics {
            registry,
            ops,
            latency,
            in_flight,
            dropped,
            phase,
            table: (0..TABLE_LABELS * Outcome::ALL.len())
                .map(|_| OnceLock::new())
                .collect(),
            current: parking_lot::Mutex::new(None),
        }
    }

    fn series(&self, label: Sym, outcome: Outcome) -> Series {
        let key = [
            ("operation", label.as_str().to_string()),
            ("outcome", outcome.as_str().to_string()),
        ];
        Series {
            ops: self.ops.get_or_create_owned(&key),
            latency: self.latency.get_or_create_owned(&key),
        }
    }

    /// Counts one completed operation. `index` is the engine's label index for `label`.
    #[inline]
    pub(crate) fn op_done(&self, index: usize, label: Sym, outcome: Outcome, latency_us: u64) {
        let slot = index
            .checked_mul(Outcome::ALL.len())
            .and_then(|i| self.table.get(i + outcome.index()));
        let fallback;
        let s = match slot {
            Some(cell) => cell.get_or_init(|| self.series(label, outcome)),
            None => {
                fallback = self.series(label, outcome);
                &fallback
            }
        };
        s.ops.inc();
        s.latency.observe_us(latency_us);
    }

    pub(crate) fn in_flight(&self) -> &Gauge<i64, AtomicI64> {
        &self.in_flight
    }

    /// Marks `name` as the phase now running.
    pub(crate) fn phase_started(&self, name: &str) {
        let mut current = self.current.lock();
        if let Some(prev) = current.take() {
            self.phase.get_or_create(&[("phase", prev)]).set(0);
        }
        self.phase
            .get_or_create(&[("phase", name.to_string())])
            .set(1);
        *current = Some(name.to_string());
    }

    /// Ends a phase: its gauge reads 0 and its dropped arrivals are counted.
    pub(crate) fn phase_done(&self, stats: &PhaseStats) {
        let key = [("phase", stats.name.clone())];
        self.dropped.get_or_create(&key).inc_by(stats.dropped);
        self.phase.get_or_create(&key).set(0);
        let mut current = self.current.lock();
        if current.as_deref() == Some(stats.name.as_str()) {
            *current = None;
        }
    }

    /// The OpenMetrics text exposition of every series.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
