//! Starts the bundled fake in-process on 127.0.0.1 for a run with no target.
//!
//! The fake gets a runtime and threads of its own: sharing the run's runtime would let
//! its handlers and the load generator steal each other's executor threads, skewing
//! latencies and hiding races a concurrent server would show.

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::Error;
use quotabench_fake::{serve, Fake, FakeConfig, FaultSet};

// The fake reports its mocks-file mistakes as the shared located ConfigError
// (crate quotabench-yaml), so they read the same as the harness's.
impl From<quotabench_fake::Error> for Error {
    fn from(e: quotabench_fake::Error) -> Self {
        match e {
            quotabench_fake::Error::Config(c) => Error::Config(c),
            quotabench_fake::Error::Usage(m) => Error::Usage(m),
        }
    }
}

/// Worker threads of the in-process fake's runtime.
pub const FAKE_THREADS: usize = 2;

/// The running in-process fake; dropping it stops the server and joins its thread.
pub struct InProcessFake {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for InProcessFake {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the fake with an optional mocks file and faults.
pub async fn start(config: Option<&Path>, faults: &[String]) -> Result<InProcessFake, Error> {
    let config = match config {
        Some(p) => FakeConfig::load(p)?,
        None => {
            // A virtual clock that moves only when a scenario moves it: a run that
            // happens to cross 00:00 UTC sees no reset it did not ask for.
            let mut c = FakeConfig::default();
            c.clock.mode = quotabench_fake::config::ClockMode::Virtual;
            c
        }
    };
    let faults = FaultSet::parse(faults)?;
    let fake = Arc::new(Fake::new(config, faults));
    let (tx_url, rx_url) = oneshot::channel::<std::io::Result<String>>();
    let (tx_stop, rx_stop) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("quotabench-fake".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(FAKE_THREADS)
                .thread_name("quotabench-fake")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx_url.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
                match serve(fake, addr).await {
                    Ok(running) => {
                        let _ = tx_url.send(Ok(running.url.clone()));
                        // Serve until the run drops its handle (or goes away).
                        let _ = rx_stop.await;
                        drop(running);
                    }
                    Err(e) => {
                        let _ = tx_url.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| Error::Target(format!("cannot start the bundled fake's thread: {e}")))?;
    let cannot =
        |e: String| Error::Target(format!("cannot start the bundled fake on 127.0.0.1: {e}"));
    let url = rx_url
        .await
        .map_err(|_| cannot("its thread ended early".into()))?
        .map_err(|e| cannot(e.to_string()))?;
    Ok(InProcessFake {
        url,
        stop: Some(tx_stop),
        thread: Some(thread),
    })
}
