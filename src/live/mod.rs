//! Live metrics (`run --metrics-listen`): Prometheus/OpenMetrics text served while a run
//! lasts, so a soak run is visible before it ends (docs/metrics.md).
//!
//! The engine holds a [`Live`] handle and calls it where an operation's record is
//! completed (one call), around each send (the in-flight gauge) and at each phase's
//! start and end. Everything else — the families, the encoding (prometheus-client, the
//! Prometheus project's Rust client), the HTTP endpoint — lives here. A run without
//! the flag holds an empty handle: each call is one branch on `None`.

mod histogram;
mod listen;
mod metrics;
mod serve;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use prometheus_client::metrics::gauge::Gauge;

pub use listen::{parse as parse_listen, Listen};
pub use serve::Server;

use crate::history::OpRecord;
use crate::vocab::PhaseStats;

/// The run's live metrics, or nothing (the default) when not asked for.
#[derive(Clone, Default)]
pub struct Live(Option<Arc<metrics::Metrics>>);

impl Live {
    /// A handle that collects (serve it with [`Live::serve`]).
    pub fn collecting() -> Live {
        Live(Some(Arc::new(metrics::Metrics::new())))
    }

    /// Counts a completed operation: its label (`label_index` is the engine's index of
    /// `rec.op`), outcome and latency from its intended start (the report's latency).
    #[inline]
    pub fn record(&self, label_index: usize, rec: &OpRecord) {
        if let Some(m) = &self.0 {
            let latency = rec.done_us.saturating_sub(rec.intended_us);
            // The label's text is looked up (an interner read lock) only on its
            // series' first operation.
            m.op_done(label_index, rec.op, rec.outcome, latency);
        }
    }

    /// Counts a request in flight until the returned guard is dropped.
    #[inline]
    pub fn in_flight(&self) -> InFlight<'_> {
        let gauge = self.0.as_deref().map(metrics::Metrics::in_flight);
        if let Some(g) = gauge {
            g.inc();
        }
        InFlight(gauge)
    }

    /// The phase `name` starts.
    pub fn phase_started(&self, name: &str) {
        if let Some(m) = &self.0 {
            m.phase_started(name);
        }
    }

    /// A phase ended with these figures (its dropped arrivals are counted now: an
    /// arrival is dropped only once the phase's deadline has passed).
    pub fn phase_done(&self, stats: &PhaseStats) {
        if let Some(m) = &self.0 {
            m.phase_done(stats);
        }
    }

    /// The current exposition (what `GET /metrics` answers); empty when not collecting.
    pub fn encode(&self) -> String {
        self.0.as_ref().map(|m| m.encode()).unwrap_or_default()
    }

    /// Serves these metrics on `listen` until the returned server is dropped; `None`
    /// when this handle does not collect.
    pub async fn serve(&self, listen: &Listen) -> Result<Option<Server>, String> {
        match &self.0 {
            Some(m) => serve::serve(listen.addr, m.clone()).await.map(Some),
            None => Ok(None),
        }
    }
}

/// A request in flight (see [`Live::in_flight`]).
pub struct InFlight<'a>(Option<&'a Gauge<i64, AtomicI64>>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.0 {
            g.dec();
        }
    }
}

#[cfg(test)]
mod tests;
