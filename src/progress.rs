//! Progress on stderr (stdout carries the summary): a live bar on a terminal, a plain
//! line every few seconds otherwise (CI logs).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::vocab::PhaseStats;

/// `--quiet`: no progress at all (set once, before the run starts).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences progress (bars, periodic lines, phase lines) for `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// How often plain progress lines are printed when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Counters the workers bump and the progress view reads.
#[derive(Default)]
pub struct Counters {
    /// Operations completed.
    pub done: AtomicU64,
    /// Operations that ended in error or indeterminate.
    pub failed: AtomicU64,
}

/// A running progress view for one phase; dropped or finished when the phase ends.
pub struct PhaseProgress {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl PhaseProgress {
    /// Starts the view. `total` is the operation budget, `limit` the duration.
    pub fn start(
        name: &str,
        counters: Arc<Counters>,
        total: Option<u64>,
        limit: Option<Duration>,
    ) -> PhaseProgress {
        let stop = CancellationToken::new();
        let name = name.to_string();
        let s2 = stop.clone();
        let tty = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let base_done = counters.done.load(Ordering::Relaxed);
        let base_failed = counters.failed.load(Ordering::Relaxed);
        if quiet() {
            return PhaseProgress { stop, task: None };
        }
        // The bar measures what ends the phase: its operation count, else its duration
        // (in ms), else nothing (a spinner-like bar that never claims to be full).
        let (length, by_time) = match (total, limit) {
            (Some(n), _) => (n, false),
            (None, Some(l)) => (l.as_millis() as u64, true),
            (None, None) => (0, false),
        };
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let bar = tty.then(|| {
                let b = if length == 0 {
                    ProgressBar::new_spinner()
                } else {
                    ProgressBar::new(length)
                };
                let style = ProgressStyle::with_template("{prefix:>16} {wide_bar} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                b.set_style(style);
                b.set_prefix(name.clone());
                b
            });
            let tick = if tty {
                Duration::from_millis(200)
            } else {
                PLAIN_EVERY
            };
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = s2.cancelled() => break,
                }
                let done = counters.done.load(Ordering::Relaxed) - base_done;
                let failed = counters.failed.load(Ordering::Relaxed) - base_failed;
                let secs = started.elapsed().as_secs_f64();
                // Time left only when time ends the phase: an operation-bounded phase
                // may end long before its duration.
                let left = limit
                    .filter(|_| total.is_none())
                    .map(|l| l.as_secs_f64() - secs)
                    .filter(|l| *l > 0.0);
                let msg = format!(
                    "{done} ops  {:.0}/s  errors {failed}{}",
                    done as f64 / secs.max(1e-3),
                    left.map_or(String::new(), |l| format!("  {l:.0}s left"))
                );
                match &bar {
                    Some(b) => {
                        if by_time {
                            b.set_position(started.elapsed().as_millis() as u64);
                        } else if total.is_some() {
                            b.set_position(done);
                        }
                        b.set_message(msg);
                    }
                    None => eprintln!("phase {name}: {msg}"),
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        PhaseProgress {
            stop,
            task: Some(task),
        }
    }

    /// Stops the view and waits for it to clear.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// One line when a phase ends.
pub fn phase_done(p: &PhaseStats) {
    if quiet() {
        return;
    }
    let mut line = format!(
        "phase {:<20} {:>7} ops in {:>6.2}s",
        p.name, p.operations, p.seconds
    );
    if let Some(r) = p.asked_rate {
        let achieved = p.achieved_rate.unwrap_or_else(|| p.achieved_per_second());
        line.push_str(&format!(
            "  asked {r:.0}/s achieved {achieved:.0}/s late {} dropped {}",
            p.late, p.dropped
        ));
        // Said outright: a phase that could not keep its rate measured the engine or
        // the target at its limit, not the target holding the rate.
        if p.dropped > 0 {
            line.push_str(&format!(
                "\n      the asked rate was not reached: {} arrivals dropped \
                 (the engine or the target was at its limit; see `dropped`)",
                p.dropped
            ));
        }
    }
    eprintln!("{}", crate::redact::redact(&line));
}
