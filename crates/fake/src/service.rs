//! [`Fake`]: the model plus the request-level faults (latency, stall, error rate),
//! shared by both transports as `Arc<Fake>`. Answering requests (`Fake::respond`,
//! `Fake::handle`) lives with the routes, which depend on this module.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

thread_local! {
    /// The `latency: a..b` fault's jitter: a small per-thread generator seeded by the
    /// OS. Not rand's `thread_rng`, whose ChaCha generator (and its zerocopy) is a
    /// cold-build cost for a delay that needs no cryptographic strength.
    /// Without an OS source it falls back to the clock: jitter only has to vary.
    static JITTER: std::cell::RefCell<rand::rngs::SmallRng> = std::cell::RefCell::new(
        rand::rngs::SmallRng::try_from_os_rng().unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            rand::rngs::SmallRng::seed_from_u64(nanos)
        }),
    );
}

use crate::config::FakeConfig;
use crate::faults::{FaultSet, Latency};
use crate::model::{Model, OrgStateView};

/// The bundled fake: a stateful implementation of the Adobe and Didomi quota APIs.
#[derive(Debug)]
pub struct Fake {
    model: Model,
    started: Instant,
    started_at: String,
    /// API requests seen, for the deterministic `error-rate` fault.
    requests: AtomicU64,
    /// Who may use `/__admin`.
    admin: AdminAccess,
}

/// Who may use the admin API (`/__admin`: reset, clock moves, limits, ground truth).
/// Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub enum AdminAccess {
    /// Anyone who can connect: the default, for a fake on loopback or in-process.
    Open,
    /// Nobody: every admin request is 403 (a fake listening beyond loopback without a
    /// token, where anyone on the network could reset it).
    Off,
    /// Only requests with `Authorization: Bearer TOKEN`; others are 401.
    Token(String),
}

impl std::fmt::Debug for AdminAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAccess::Open => f.write_str("Open"),
            AdminAccess::Off => f.write_str("Off"),
            AdminAccess::Token(_) => f.write_str("Token(***)"),
        }
    }
}

impl AdminAccess {
    /// The access `quotabench fake --listen ADDR [--admin-token T]` gives: a token when
    /// one is given, otherwise open on loopback and off beyond it.
    pub fn for_listen(listen: &std::net::SocketAddr, token: Option<&str>) -> AdminAccess {
        match token {
            Some(t) => AdminAccess::Token(t.to_string()),
            None if listen.ip().is_loopback() => AdminAccess::Open,
            None => AdminAccess::Off,
        }
    }
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
            admin: AdminAccess::Open,
        }
    }

    /// This fake with its admin API guarded as `admin` says (open by default).
    pub fn with_admin(mut self, admin: AdminAccess) -> Fake {
        self.admin = admin;
        self
    }

    /// Who may use the admin API.
    pub fn admin_access(&self) -> &AdminAccess {
        &self.admin
    }

    /// Under `error-rate`: whether this API request is one of the seeded failures.
    /// Deterministic share: request n fails when floor((n+1)·rate) > floor(n·rate), so
    /// exactly `rate` of the requests fail, evenly spread.
    pub(crate) fn error_rate_hit(&self) -> bool {
        let Some(rate) = self.model.faults().error_rate else {
            return false;
        };
        let n = self.requests.fetch_add(1, Ordering::Relaxed) as f64;
        ((n + 1.0) * rate).floor() > (n * rate).floor()
    }

    /// The delay the `latency` and `stall` faults ask for, measured now.
    pub(crate) fn perf_delay(&self) -> Option<Duration> {
        let faults = self.model.faults();
        let mut total = Duration::ZERO;
        match faults.latency {
            Some(Latency::Fixed(d)) => total = total.saturating_add(d),
            Some(Latency::Uniform(lo, hi)) => {
                let range = lo.as_micros() as u64..=hi.as_micros() as u64;
                let us = JITTER.with(|r| r.borrow_mut().random_range(range));
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
