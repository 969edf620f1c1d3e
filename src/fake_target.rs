//! Starts the bundled fake in-process on 127.0.0.1 for a run with no target URL.

use std::path::Path;
use std::sync::Arc;

use crate::error::Error;
use crate::fake::{serve, Fake, FakeConfig, FaultSet, RunningFake};

/// Starts the fake with an optional mocks file and faults; it stops when dropped.
pub async fn start(config: Option<&Path>, faults: &[String]) -> Result<RunningFake, Error> {
    let config = match config {
        Some(p) => FakeConfig::load(p)?,
        None => {
            // A virtual clock that moves only when a scenario moves it: a run that
            // happens to cross 00:00 UTC sees no reset it did not ask for.
            let mut c = FakeConfig::default();
            c.clock.mode = crate::fake::config::ClockMode::Virtual;
            c
        }
    };
    let faults = FaultSet::parse(faults)?;
    let fake = Arc::new(Fake::new(config, faults));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    serve(fake, addr)
        .await
        .map_err(|e| Error::Target(format!("cannot start the bundled fake on 127.0.0.1: {e}")))
}
