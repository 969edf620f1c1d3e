//! Where completed operation records go. Two recording points feed one history writer:
//! each shard of the engine (shard.rs: its own recorder, records sent in batches) and
//! the coordinator (snapshots, probes, clock reads, cleanup: rare, so its recorder sits
//! behind a lock and its records go one at a time). Both send over one bounded channel:
//! a writer that falls behind (a slow disk) slows the senders instead of the run's
//! memory growing without bound.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::history::OpRecord;
use crate::metrics::Recorder;
use crate::vocab::Outcome;

/// Batches the channel holds before a sender waits: at a shard's 256 records
/// each, a few hundred thousand records, a few tens of MB.
const CHANNEL_BATCHES: usize = 1024;

/// Emptied batches kept for reuse: a shard's next batch is one the writer emptied, so
/// batching allocates nothing once the run is going.
const SPARES_KEPT: usize = 64;

/// The sending side of the history channel.
#[derive(Clone)]
pub(crate) struct Sink {
    tx: SyncSender<Vec<OpRecord>>,
    spares: Spares,
}

/// Batches the writer emptied, handed back to the shards.
#[derive(Clone, Default)]
pub(crate) struct Spares(Arc<Mutex<Vec<Vec<OpRecord>>>>);

impl Spares {
    /// Gives an emptied batch back (dropped when enough are kept).
    pub(crate) fn give_back(&self, mut batch: Vec<OpRecord>) {
        batch.clear();
        let mut s = self.0.lock();
        if s.len() < SPARES_KEPT {
            s.push(batch);
        }
    }
}

impl Sink {
    /// A sink, the receiver the history writer drains, and where it hands batches back.
    pub(crate) fn new() -> (Sink, Receiver<Vec<OpRecord>>, Spares) {
        let (tx, rx) = sync_channel(CHANNEL_BATCHES);
        let spares = Spares::default();
        (
            Sink {
                tx,
                spares: spares.clone(),
            },
            rx,
            spares,
        )
    }

    /// Sends one record (the coordinator's).
    pub(crate) fn send(&self, rec: OpRecord) {
        self.batch(vec![rec]);
    }

    /// Sends a batch of records. The writer outlives every sender; a send error only
    /// means shutdown.
    pub(crate) fn batch(&self, batch: Vec<OpRecord>) {
        let _ = self.tx.send(batch);
    }

    /// An empty batch with room for `n` records: one the writer handed back, or new.
    pub(crate) fn empty(&self, n: usize) -> Vec<OpRecord> {
        self.spares
            .0
            .lock()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(n))
    }
}

/// The run's recorder: what the coordinator records directly, and what every shard
/// recorded, absorbed when its phase ends.
pub(crate) struct RunRecorder {
    labels: Vec<String>,
    inner: Mutex<Recorder>,
}

impl RunRecorder {
    pub(crate) fn new(labels: Vec<String>) -> RunRecorder {
        RunRecorder {
            inner: Mutex::new(Recorder::new(labels.clone())),
            labels,
        }
    }

    /// Index of a label (the same in every shard's recorder: each starts from these).
    pub(crate) fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// A recorder with the run's labels, for a shard.
    pub(crate) fn fresh(&self) -> Recorder {
        Recorder::new(self.labels.clone())
    }

    /// Records one coordinator operation.
    pub(crate) fn record_op(&self, label: usize, rec: &OpRecord) {
        self.inner.lock().record_op(label, rec);
    }

    /// Records one coordinator operation from its figures.
    pub(crate) fn record(
        &self,
        label: usize,
        outcome: Outcome,
        latency_us: u64,
        service_us: u64,
        done_second: usize,
    ) {
        self.inner
            .lock()
            .record(label, outcome, latency_us, service_us, done_second);
    }

    /// Adds a shard's recorder (exact: metrics/absorb.rs).
    pub(crate) fn absorb(&self, shard: &Recorder) {
        self.inner.lock().absorb(shard);
    }

    /// The merged recorder, once the run is over.
    pub(crate) fn take(&self) -> Recorder {
        std::mem::replace(&mut *self.inner.lock(), self.fresh())
    }
}
