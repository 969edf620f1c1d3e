//! The open model's arrivals: arrival n is intended at `start + schedule.at(n)`. A free
//! worker claims the next arrival in order and sends it at its intended instant, or at
//! once when it is already due (it is then late, and its latency from intended counts the
//! wait: coordinated omission stays corrected, wrk2's way). Nothing is queued per
//! arrival, so no rate can outrun the phase: at the deadline workers stop claiming, and
//! every arrival the schedule asked for within the phase but no worker sent by then is
//! dropped (k6 counts `dropped_iterations` the same way, though it drops an arrival
//! the moment no virtual user is free; here it may still be sent, late, before the
//! deadline).

use std::cmp::Ordering as Cmp;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio_util::sync::CancellationToken;

use super::schedule::Schedule;

/// The arrivals of one open phase, shared by its workers.
pub(crate) struct Arrivals {
    schedule: Arc<Schedule>,
    start: Instant,
    deadline: Option<Instant>,
    budget: Option<u64>,
    next: AtomicU64,
    alarm: Arc<Alarm>,
}

impl Arrivals {
    pub(crate) fn new(
        schedule: Arc<Schedule>,
        start: Instant,
        deadline: Option<Instant>,
        budget: Option<u64>,
        alarm: Arc<Alarm>,
    ) -> Arrivals {
        Arrivals {
            schedule,
            start,
            deadline,
            budget,
            next: AtomicU64::new(0),
            alarm,
        }
    }

    /// Claims the next arrival and returns its intended instant once it is due. `None`
    /// ends the worker: the schedule, the budget or the phase is over, the run stopped, or
    /// the deadline passed before this arrival could be sent (it is then dropped).
    pub(crate) async fn next(&self, stop: &CancellationToken) -> Option<Instant> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if self.budget.is_some_and(|b| n >= b) {
            return None;
        }
        let intended = self.start + Duration::from_secs_f64(self.schedule.at(n)?);
        if self.deadline.is_some_and(|d| intended >= d) {
            return None;
        }
        let now = Instant::now();
        if intended > now {
            // Due before the deadline by construction: wait for it.
            return self.alarm.wait(intended, stop).await.then_some(intended);
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return None;
        }
        Some(intended)
    }
}

/// Wakes each waiting worker at its instant, from one OS thread: an OS timed wait is
/// precise to tens of µs, where tokio's timer wheel rounds every wait up to the next
/// millisecond (that alone added ~1.4 ms to every latency-from-intended at 200/s).
pub(crate) struct Alarm {
    state: Mutex<State>,
    cv: Condvar,
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Wake>,
    closed: bool,
}

struct Wake {
    at: Instant,
    tx: tokio::sync::oneshot::Sender<()>,
}

// Ordered by instant, earliest first (BinaryHeap is a max-heap).
impl Ord for Wake {
    fn cmp(&self, o: &Self) -> Cmp {
        o.at.cmp(&self.at)
    }
}
impl PartialOrd for Wake {
    fn partial_cmp(&self, o: &Self) -> Option<Cmp> {
        Some(self.cmp(o))
    }
}
impl PartialEq for Wake {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at
    }
}
impl Eq for Wake {}

impl Alarm {
    /// An alarm with its thread running; [`Alarm::close`] ends the thread.
    pub(crate) fn start() -> (Arc<Alarm>, tokio::task::JoinHandle<()>) {
        let alarm = Arc::new(Alarm {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
        });
        let a = alarm.clone();
        (alarm, tokio::task::spawn_blocking(move || Alarm::run(&a)))
    }

    /// Waits until `at`; false when the run stopped (or the alarm closed) first.
    pub(crate) async fn wait(&self, at: Instant, stop: &CancellationToken) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let mut s = self.state.lock();
            if s.closed {
                return false;
            }
            let earliest = s.heap.peek().is_none_or(|w| at < w.at);
            s.heap.push(Wake { at, tx });
            if earliest {
                self.cv.notify_one();
            }
        }
        tokio::select! {
            woke = rx => woke.is_ok(),
            _ = stop.cancelled() => false,
        }
    }

    /// Ends the thread; whoever still waits is told no.
    pub(crate) fn close(&self) {
        let mut s = self.state.lock();
        s.closed = true;
        s.heap.clear();
        self.cv.notify_one();
    }

    /// Longest single wait, so an alarm nobody holds any more ends its thread.
    const SLICE: Duration = Duration::from_millis(50);

    fn run(this: &Arc<Alarm>) {
        let mut s = this.state.lock();
        loop {
            if s.closed || Arc::strong_count(this) == 1 {
                return;
            }
            let now = Instant::now();
            while s.heap.peek().is_some_and(|w| w.at <= now) {
                if let Some(w) = s.heap.pop() {
                    // A worker that stopped waiting dropped its receiver: nothing to do.
                    let _ = w.tx.send(());
                }
            }
            let wait = s
                .heap
                .peek()
                .map_or(Self::SLICE, |w| w.at.saturating_duration_since(now))
                .min(Self::SLICE);
            this.cv.wait_for(&mut s, wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrivals(rate: f64, length: Option<Duration>, budget: Option<u64>) -> Arrivals {
        let (alarm, _) = Alarm::start();
        let start = Instant::now();
        Arrivals::new(
            Arc::new(Schedule::constant(rate)),
            start,
            length.map(|l| start + l),
            budget,
            alarm,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn each_arrival_comes_at_its_intended_time_never_early() {
        // Bounded by a budget, not a deadline: an arrival released late past a deadline is
        // dropped, and how many that is depends on the machine's load.
        let a = arrivals(1000.0, None, Some(50));
        let stop = CancellationToken::new();
        let mut n = 0u64;
        while let Some(intended) = a.next(&stop).await {
            let want = a.start + Duration::from_secs_f64(a.schedule.at(n).unwrap());
            assert_eq!(intended, want, "arrival {n}");
            assert!(Instant::now() >= intended, "arrival {n} released early");
            n += 1;
        }
        assert_eq!(n, 50, "1000/s, a budget of 50");
        a.alarm.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn arrivals_stop_at_the_budget_and_on_stop() {
        let a = arrivals(10_000.0, None, Some(7));
        let stop = CancellationToken::new();
        let mut n = 0;
        while a.next(&stop).await.is_some() {
            n += 1;
        }
        assert_eq!(n, 7);

        let a = arrivals(1.0, None, None);
        // Arrival 0 is due at once; arrival 1 a second later: stop before it.
        assert!(a.next(&stop).await.is_some());
        let s = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            s.cancel();
        });
        assert!(
            a.next(&stop).await.is_none(),
            "nothing released after the stop"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn no_rate_outruns_the_deadline() {
        // A billion a second for 20 ms: a worker that claims after the deadline gets
        // nothing, whatever is still due.
        let a = arrivals(1e9, Some(Duration::from_millis(20)), None);
        let stop = CancellationToken::new();
        let mut n = 0u64;
        while a.next(&stop).await.is_some() {
            n += 1;
        }
        assert!(n < 20_000_000, "claims end at the deadline: {n}");
        assert!(
            Instant::now() >= a.deadline.unwrap(),
            "not before the deadline"
        );
    }
}
