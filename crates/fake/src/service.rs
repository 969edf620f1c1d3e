//! [`Fake`]: the model plus the request-level faults (latency, stall, error rate),
//! shared by both transports as `Arc<Fake>`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use super::config::FakeConfig;
use super::faults::{FaultSet, Latency};
use super::model::{Model, OrgStateView};
use super::routes::{self, error, style_of, FakeRequest, FakeResponse, Style};

/// The bundled fake: a stateful implementation of the Adobe and Didomi quota APIs.
#[derive(Debug)]
pub struct Fake {
    model: Model,
    started: Instant,
    started_at: String,
    /// API requests seen, for the deterministic `error-rate` fault.
    requests: AtomicU64,
}

impl Fake {
    /// A fake for `config` with `faults` seeded (real clock unless the config says virtual).
    pub fn new(config: FakeConfig, faults: FaultSet) -> Fake {
        let model = Model::new(config, Arc::new(faults));
        let started_at = model.clock().now().to_string();
        Fake {
            model,
            started: Instant::now(),
            started_at,
            requests: AtomicU64::new(0),
        }
    }

    /// Answers one request. Never panics on input; admin requests bypass every fault.
    pub fn handle(&self, req: &FakeRequest) -> FakeResponse {
        let style = match style_of(&req.path) {
            Some(Style::Admin) | None => return routes::route(self, req),
            Some(s) => s,
        };
        let faults = self.model.faults();
        let delay = self.perf_delay();
        if let Some(rate) = faults.error_rate {
            // Deterministic share: request n fails when floor((n+1)·rate) > floor(n·rate),
            // so exactly `rate` of the requests fail, evenly spread.
            let n = self.requests.fetch_add(1, Ordering::Relaxed) as f64;
            if ((n + 1.0) * rate).floor() > (n * rate).floor() {
                let mut r = error(style, 503, "service unavailable (seeded error-rate fault)");
                r.delay = delay;
                return r;
            }
        }
        let mut r = routes::route(self, req);
        r.delay = delay;
        r
    }

    /// The delay the `latency` and `stall` faults ask for, measured now.
    fn perf_delay(&self) -> Option<Duration> {
        let faults = self.model.faults();
        let mut total = Duration::ZERO;
        match faults.latency {
            Some(Latency::Fixed(d)) => total = total.saturating_add(d),
            Some(Latency::Uniform(lo, hi)) => {
                let us = rand::rng().random_range(lo.as_micros() as u64..=hi.as_micros() as u64);
                total = total.saturating_add(Duration::from_micros(us));
            }
            None => {}
        }
        if let Some((at, len)) = faults.stall {
            let e = self.started.elapsed();
            let end = at.saturating_add(len);
            if e >= at && e < end {
                total = total.saturating_add(end - e);
            }
        }
        (!total.is_zero()).then_some(total)
    }

    /// The quota model (ground truth for tests and tools).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Ground truth about one organization (same as `GET /__admin/orgs/{org}/state`).
    pub fn state(&self, org: &str) -> OrgStateView {
        self.model.state(org)
    }

    /// When the fake started (fake clock), RFC 3339.
    pub fn started_at(&self) -> &str {
        &self.started_at
    }
}

// Shared as `Arc<Fake>` across tokio tasks and wiremock's server: must stay Send + Sync.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Fake>();
};
