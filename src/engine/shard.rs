//! The engine's shards: a phase's workers run on N shards (one per core the run may use),
//! each a single-threaded tokio runtime on its own OS thread. A shard owns what its
//! workers touch on every operation — their connections (each worker drives its own,
//! api/worker_conn.rs), a [`Recorder`], its counts, and its segment of the history,
//! sent to the one history writer in batches — so an operation crosses no thread and
//! takes no lock to be recorded (wrk's design: one event loop per thread). When the
//! phase ends each shard's recorder is absorbed into the run's (metrics/absorb.rs: the
//! merge a multi-machine run uses).
//!
//! What the workers of all shards share stays shared: the open model's arrivals (one
//! sequence claimed in order, arrivals.rs), request ids, the run's objects, the stop.

use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::sink::Sink;
use super::Shared;
use crate::history::OpRecord;
use crate::metrics::Recorder;
use crate::progress::Counters;
use crate::vocab::Outcome;

/// Records a shard sends to the history writer at once.
pub(crate) const BATCH: usize = 256;

/// Longest a completed record waits in its shard: the history, the progress counts and
/// latency.hlog's seconds lag the operations by at most this.
const FLUSH_EVERY: Duration = Duration::from_millis(5);

thread_local! {
    /// The shard this thread runs, if it is a shard's thread.
    static SHARD: RefCell<Option<Shard>> = const { RefCell::new(None) };
}

/// One shard's own recording state.
pub(crate) struct Shard {
    recorder: Recorder,
    batch: Vec<OpRecord>,
    /// Completed and failed operations not yet added to the run's progress counters.
    done: u64,
    failed: u64,
    sink: Sink,
    counters: Arc<Counters>,
}

impl Shard {
    fn new(recorder: Recorder, sink: Sink, counters: Arc<Counters>) -> Shard {
        Shard {
            recorder,
            batch: sink.empty(BATCH),
            done: 0,
            failed: 0,
            sink,
            counters,
        }
    }

    /// The one point where an operation of this shard is complete: counted, recorded in
    /// the shard's histograms, queued for the history. No lock, no allocation (the
    /// batch is one the writer handed back).
    pub(crate) fn complete(&mut self, label: usize, rec: OpRecord) {
        self.recorder.record_op(label, &rec);
        self.done += 1;
        if matches!(
            rec.outcome,
            Outcome::Error | Outcome::Indeterminate | Outcome::NotSent
        ) {
            self.failed += 1;
        }
        self.batch.push(rec);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    /// Sends the batch to the history writer and the counts to the progress view.
    fn flush(&mut self) {
        if !self.batch.is_empty() {
            let next = self.sink.empty(BATCH);
            self.sink.batch(std::mem::replace(&mut self.batch, next));
        }
        if self.done > 0 {
            self.counters.done.fetch_add(self.done, Ordering::Relaxed);
            self.done = 0;
        }
        if self.failed > 0 {
            self.counters
                .failed
                .fetch_add(self.failed, Ordering::Relaxed);
            self.failed = 0;
        }
    }
}

/// Completes `rec` in this thread's shard; gives it back when this thread runs no shard
/// (the coordinator records its own).
pub(crate) fn complete(label: usize, rec: OpRecord) -> Option<OpRecord> {
    SHARD.with(|s| match s.borrow_mut().as_mut() {
        Some(shard) => {
            shard.complete(label, rec);
            None
        }
        None => Some(rec),
    })
}

fn flush() {
    SHARD.with(|s| {
        if let Some(shard) = s.borrow_mut().as_mut() {
            shard.flush();
        }
    });
}

/// How many shards a phase of `workers` workers runs on: one per worker thread of the
/// run's runtime (main.rs sizes it: every core against another machine, half of them
/// against this one, `TOKIO_WORKER_THREADS` if set), never more than its workers.
pub(crate) fn count(workers: u32) -> usize {
    let threads = tokio::runtime::Handle::try_current()
        .map(|h| h.metrics().num_workers())
        .unwrap_or(1);
    threads.clamp(1, workers.max(1) as usize)
}

/// Runs each list of worker futures on a shard of its own and waits for all of them;
/// returns the workers' outputs, in shard order. Each shard's recorder is absorbed into
/// the run's before this returns. A shard that cannot start (no thread or runtime from
/// the OS) stops the run with the cause: its workers' load would be missing.
pub(crate) async fn run<F, T>(sh: &Arc<Shared>, shards: Vec<Vec<F>>) -> Vec<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut waits = Vec::new();
    for (i, workers) in shards.into_iter().enumerate() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let recorder = sh.recorder.fresh();
        let (sink, counters) = (sh.sink.clone(), sh.counters.clone());
        let started = std::thread::Builder::new()
            .name(format!("qb-shard-{i}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(format!("no runtime: {e}")));
                        return;
                    }
                };
                SHARD.with(|s| *s.borrow_mut() = Some(Shard::new(recorder, sink, counters)));
                let outputs = rt.block_on(async move {
                    let flusher = tokio::spawn(async {
                        loop {
                            tokio::time::sleep(FLUSH_EVERY).await;
                            flush();
                        }
                    });
                    let handles: Vec<_> = workers.into_iter().map(tokio::spawn).collect();
                    let mut out = Vec::with_capacity(handles.len());
                    for h in handles {
                        // A worker that panicked is a bug; its operations so far are kept.
                        if let Ok(t) = h.await {
                            out.push(t);
                        }
                    }
                    flusher.abort();
                    out
                });
                drop(rt);
                let recorder = SHARD.with(|s| s.borrow_mut().take()).map(|mut s| {
                    s.flush();
                    s.recorder
                });
                let _ = tx.send(Ok((outputs, recorder)));
            });
        match started {
            Ok(_) => waits.push((i, rx)),
            Err(e) => fail(sh, i, &format!("no thread: {e}")),
        }
    }
    let mut all = Vec::new();
    for (i, rx) in waits {
        match rx.await {
            Ok(Ok((outputs, recorder))) => {
                if let Some(r) = recorder {
                    sh.recorder.absorb(&r);
                }
                all.extend(outputs);
            }
            Ok(Err(why)) => fail(sh, i, &why),
            Err(_) => fail(sh, i, "its thread ended abnormally"),
        }
    }
    all
}

fn fail(sh: &Shared, i: usize, why: &str) {
    eprintln!("error: shard {i} of the engine could not run ({why}); stopping the run");
    sh.stop.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, outcome: Outcome) -> OpRecord {
        OpRecord {
            op: "list".into(),
            amount: 0,
            outcome,
            status: None,
            ..OpRecord::sample(id, "list_quotas", id * 10, id * 10 + 5)
        }
    }

    #[test]
    fn a_shard_sends_whole_batches_and_counts_on_flush() {
        let (sink, rx, spares) = Sink::new();
        let counters = Arc::new(Counters::default());
        let mut s = Shard::new(Recorder::new(vec!["list".into()]), sink, counters.clone());
        for id in 0..BATCH as u64 + 3 {
            let o = if id == 1 {
                Outcome::Indeterminate
            } else {
                Outcome::Accepted
            };
            s.complete(0, rec(id, o));
        }
        let first = rx.try_recv().expect("a full batch went out");
        assert_eq!(first.len(), BATCH);
        assert!(rx.try_recv().is_err(), "the rest waits for the flush");
        assert_eq!(counters.done.load(Ordering::Relaxed), BATCH as u64);
        spares.give_back(first);
        s.flush();
        let rest = rx.try_recv().expect("flushed");
        assert_eq!(
            rest.iter().map(|r| r.id).collect::<Vec<_>>(),
            [256, 257, 258]
        );
        assert_eq!(counters.done.load(Ordering::Relaxed), BATCH as u64 + 3);
        assert_eq!(counters.failed.load(Ordering::Relaxed), 1);
        assert_eq!(
            s.recorder.merged(0, crate::metrics::View::Service).len(),
            259
        );
    }

    #[test]
    fn recording_an_operation_allocates_nothing_once_warm() {
        use crate::history::{Header, HistoryWriter};
        let header: Header = serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": crate::history::HISTORY_VERSION,
            "scenario": "s", "profile": "p", "target": "http://127.0.0.1:1",
            "tenant": "t", "started_at": "2026-12-02T00:00:00Z", "phases": ["p"],
            "quotas": [], "operations": {}, "capabilities": {}, "clock_control": false
        }))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut writer = HistoryWriter::create(&dir.path().join("h.jsonl"), &header).unwrap();
        let (sink, rx, spares) = Sink::new();
        let mut s = Shard::new(
            Recorder::new(vec!["list".into()]),
            sink,
            Arc::new(Counters::default()),
        );
        let snapshot: crate::vocab::Readings =
            vec![crate::vocab::Reading::new("q".to_string(), 100, 7)].into();
        // The shard records, the writer (here on the same thread) writes and hands the
        // batch back: the whole recording path of one operation.
        let mut one = |id: u64| {
            let mut r = rec(id, Outcome::Accepted);
            r.snapshot = Some(snapshot.clone());
            r.done_us = id * 37 % 3_000_000;
            s.complete(0, r);
            while let Ok(mut batch) = rx.try_recv() {
                for r in batch.drain(..) {
                    writer.append(&r).unwrap();
                }
                spares.give_back(batch);
            }
        };
        // Warm: the histograms exist, the seconds are sized, the writer's buffers grown.
        for id in 0..4 * BATCH as u64 {
            one(id);
        }
        let ((), n) = super::super::alloc_count::allocations(|| {
            for id in 4 * BATCH as u64..40 * BATCH as u64 {
                one(id % (4 * BATCH as u64));
            }
        });
        assert_eq!(
            n,
            0,
            "allocations while recording {} operations",
            36 * BATCH
        );
        // The count is real: a batch made afresh (what a shard pays without the writer's
        // spares) is seen.
        let (_, fresh) =
            super::super::alloc_count::allocations(|| Vec::<OpRecord>::with_capacity(BATCH));
        assert_eq!(fresh, 1);
    }

    #[test]
    fn off_a_shard_the_record_comes_back() {
        assert!(complete(0, rec(1, Outcome::Accepted)).is_some());
    }
}
