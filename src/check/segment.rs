//! Segmented judging: a history longer than memory judged as it streams, in bounded
//! segments cut at quiescent snapshots, by the same rules that judge a whole history.
//!
//! The rules stay the single source of truth: each segment is an ordinary [`History`]
//! (context carried from before it, the snapshot it was cut at, its own records) judged
//! by [`super::judge_rules`], and the segments' judgements are combined
//! (`check::combine`). A segment is cut only at a main-tenant coordinator snapshot that
//! no other record overlaps (checked backwards at once, forwards over a lookahead of
//! the next records), so every gap between two snapshots lies whole in one segment, and
//! every record a segment's rules ask about within its time span is in it.
//!
//! What a rule looks back at from before its segment is carried as context records:
//! clock moves and clock reads (the target's time), setups (parents and their creation),
//! and effectful operations of the main tenant with no definite answer (they may take
//! effect at any later instant, and widen every later bound; consumes among them are
//! folded, one record per operation and parent with the amounts summed, so a run's
//! thousands of timeouts are carried as a handful of records); and other tenants' latest
//! snapshots with their effectful operations since (`isolation.tenants` compares two of
//! the other tenant's snapshots far apart). The context is bounded
//! ([`SegmentOpts::context`]); past it, and when a record arrives too late to be placed
//! (beyond the reorder buffer, or across a cut already judged), every verdict is unknown
//! with that reason: never a verdict on a history that was not judged as it is.

use std::collections::VecDeque;
use std::path::Path;

use super::combine::Combined;
use super::facts::effectful;
pub use super::facts::Carried;
use super::{interrupted, no_answer, RuleVerdict};
use crate::error::Error;
use crate::history::{Header, History, OpRecord};
use crate::vocab::{OpKind, Outcome, COORDINATOR};

/// Records a segment holds before it is cut at the next quiescent snapshot
/// (`QB_SEGMENT_RECORDS`): about 190 B each in memory while judged. The same as the
/// run's in-memory history (`QB_HISTORY_IN_MEMORY`), so a history that fits one is
/// judged whole, as it always was.
pub const DEFAULT_SEGMENT_RECORDS: usize = 3_000_000;

/// Records held to put the file back in completion order: the engine writes records as
/// its workers hand them on, close to completion order but not exactly.
const REORDER: usize = 1 << 17;

/// How segments are sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentOpts {
    /// Own records the first segment holds before it is cut (at the next quiescent
    /// snapshot): a history up to this long is judged whole, on its own.
    pub records: usize,
    /// Own records each later segment holds: each is judged on a thread of its own
    /// while the next fills (`check::segment_worker`), so two are held at once.
    pub later: usize,
    /// The most context records carried into a segment.
    pub context: usize,
}

impl Default for SegmentOpts {
    fn default() -> Self {
        SegmentOpts::with_records(DEFAULT_SEGMENT_RECORDS)
    }
}

impl SegmentOpts {
    /// A first segment of `records` records and later ones of a third as many (two of
    /// them, one judged while the next fills, take about the memory of the first), with
    /// `records` context records at most.
    pub fn with_records(records: usize) -> SegmentOpts {
        let records = records.max(1);
        SegmentOpts {
            records,
            later: records.div_ceil(3),
            context: records.max(10_000),
        }
    }

    /// From `QB_SEGMENT_RECORDS` (default [`DEFAULT_SEGMENT_RECORDS`]).
    pub fn from_env() -> Result<SegmentOpts, Error> {
        match std::env::var("QB_SEGMENT_RECORDS") {
            Ok(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(SegmentOpts::with_records(n)),
                _ => Err(Error::Usage(format!(
                    "QB_SEGMENT_RECORDS={v:?}: expected a number of records above 0 (default {DEFAULT_SEGMENT_RECORDS})"
                ))),
            },
            Err(_) => Ok(SegmentOpts::default()),
        }
    }
}

/// What a streamed judgement found.
#[derive(Debug)]
pub struct Streamed {
    /// The verdicts, combined over the segments, thin evidence judged over the run.
    pub rules: Vec<RuleVerdict>,
    /// Why the run's evidence is too thin to pass on ([`super::too_indefinite`]).
    pub thin: Option<String>,
    /// Whose time the periods were judged in ([`super::time_source`]).
    pub time_source: String,
    /// Segments judged.
    pub segments: usize,
    /// Records read.
    pub records: u64,
    /// What the reader left out (a torn last line, a missing closing line).
    pub warnings: Vec<String>,
    /// The record each failing verdict of a segment cites first (for its reproduction),
    /// kept as the segment is judged: the segment's records are gone afterwards.
    pub cited: Vec<OpRecord>,
}

/// Judges a saved history as it streams, in segments of `opts` (see the module docs).
pub fn judge_file(
    path: &Path,
    only: &[String],
    max_indefinite: f64,
    opts: SegmentOpts,
) -> Result<Streamed, Error> {
    judge_file_seeing(path, only, max_indefinite, opts, |_| {})
}

/// [`judge_file`], showing `see` every record in file order as it streams past: what
/// else a caller needs from the file (a report's error causes) is read in the same pass.
///
/// The file is read and parsed on a thread of its own while this one puts the records
/// in order and judges them (the two cost about the same: both cores work), handed on
/// in batches through a bounded channel, so memory stays a segment's plus a few
/// batches. Where no thread can be started, one thread does both.
pub fn judge_file_seeing(
    path: &Path,
    only: &[String],
    max_indefinite: f64,
    opts: SegmentOpts,
    mut see: impl FnMut(&OpRecord),
) -> Result<Streamed, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Piece>(BATCHES);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("qb-history-read".into())
            .spawn_scoped(scope, move || read_in_batches(path, &tx));
        let reader = match reader {
            Ok(r) => r,
            // `tx` went with the closure that could not run: read here instead.
            Err(_) => return judge_file_plain(path, only, max_indefinite, opts, see),
        };
        let mut seg: Option<Segmenter> = None;
        for piece in rx {
            match piece {
                Piece::Header(h) => seg = Some(Segmenter::new(*h, only, opts)),
                Piece::Records(batch) => {
                    let Some(s) = seg.as_mut() else { continue };
                    for r in batch {
                        see(&r);
                        s.push(r);
                    }
                }
            }
        }
        let read = match reader.join() {
            Ok(read) => read?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let s = seg.expect("the reader sent the header before any record");
        let mut out = s.finish(max_indefinite);
        out.warnings = read.warnings;
        Ok(out)
    })
}

/// Records handed from the reading thread to the judging one at a time.
const BATCH: usize = 4096;
/// Batches in flight between the two (a few MB of records).
const BATCHES: usize = 8;

/// What the reading thread hands on.
enum Piece {
    Header(Box<Header>),
    Records(Vec<OpRecord>),
}

/// Reads `path`, sending its header and then its records in batches; stops early when
/// the judging side is gone (it panicked: nothing will read the rest).
fn read_in_batches(
    path: &Path,
    tx: &std::sync::mpsc::SyncSender<Piece>,
) -> Result<crate::history::Read, Error> {
    let mut batch = Vec::with_capacity(BATCH);
    let read = crate::history::stream_while(
        path,
        |h| {
            // A closed channel is seen at the first batch.
            let _ = tx.send(Piece::Header(Box::new(h.clone())));
            Ok(())
        },
        |r| {
            batch.push(r);
            if batch.len() < BATCH {
                return true;
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            tx.send(Piece::Records(full)).is_ok()
        },
    );
    if !batch.is_empty() {
        let _ = tx.send(Piece::Records(batch));
    }
    read
}

/// [`judge_file_seeing`] on one thread: reading, ordering and judging in turn.
fn judge_file_plain(
    path: &Path,
    only: &[String],
    max_indefinite: f64,
    opts: SegmentOpts,
    mut see: impl FnMut(&OpRecord),
) -> Result<Streamed, Error> {
    let seg: std::cell::RefCell<Option<Segmenter>> = std::cell::RefCell::new(None);
    let read = crate::history::stream(
        path,
        |h| {
            *seg.borrow_mut() = Some(Segmenter::new(h.clone(), only, opts));
            Ok(())
        },
        |r| {
            see(&r);
            if let Some(s) = seg.borrow_mut().as_mut() {
                s.push(r);
            }
        },
    )?;
    let s = seg
        .into_inner()
        .expect("the reader saw the header before any record");
    let mut out = s.finish(max_indefinite);
    out.warnings = read.warnings;
    Ok(out)
}

/// Judges an in-memory history in segments, as [`judge_file`] judges its file.
pub fn judge_segmented(
    h: &History,
    only: &[String],
    max_indefinite: f64,
    opts: SegmentOpts,
) -> Streamed {
    let mut s = Segmenter::new(h.header.clone(), only, opts);
    for o in &h.ops {
        s.push(o.clone());
    }
    s.finish(max_indefinite)
}

/// A record's place in completion order: completion, then id (the order the engine's
/// copy keeps).
fn key(o: &OpRecord) -> (u64, u64) {
    (o.done_us, o.id)
}

/// The streaming state: records pushed in file order, segments judged as they close.
pub struct Segmenter {
    header: Header,
    /// The main tenant, interned once (compared with every record's).
    tenant: crate::vocab::Sym,
    only: Vec<String>,
    opts: SegmentOpts,
    /// Records not yet handed on, sorted by completion. A sorted deque rather than a
    /// heap: the file is nearly in order, so a record almost always goes at the back
    /// (a heap moved every record through 17 levels: a sixth of the time to judge).
    reorder: VecDeque<OpRecord>,
    /// Each operation name's kind, per the header (looked up once per name; a run has
    /// a handful of names, so a scan beats hashing).
    kinds: Vec<(crate::vocab::Sym, Option<OpKind>)>,
    /// The key of the last record handed on.
    last_key: Option<(u64, u64)>,
    /// The segment being filled: `context` records, then (after the first cut) the
    /// snapshot it was cut at, then its own records, in completion order.
    cur: Vec<OpRecord>,
    /// How many of `cur`'s leading records are carried context.
    ctx_len: usize,
    /// Context for the next segment, built as segments close.
    context: Vec<OpRecord>,
    /// The main tenant's consumes with no definite answer from before the segment being
    /// filled, folded into one record per (label, operation, parent): the earliest
    /// sent of them, with their amounts summed ([`Segmenter::fold_late`]). The rules
    /// ask two things of such an order from an earlier segment (how much may have
    /// taken effect by a later instant: all of them, since all were sent before the
    /// segment's first snapshot; and which was the first), so the fold answers both as
    /// the records did, and the context stays the size of the profile, not of the run
    /// (600,000 of them were carried into every late segment of a 100M-operation
    /// history, and judged again by each).
    late: Vec<OpRecord>,
    /// Where each key of [`Segmenter::late`] is.
    late_index: std::collections::HashMap<LateKey, usize>,
    /// The amount each of `late` was written with (the fold holds the sum): a verdict
    /// citing that operation names the record as it was written.
    late_amount: Vec<u64>,
    /// Segments cut so far: the first is judged on this thread, the rest on `worker`.
    cuts: usize,
    /// The thread judging a closed segment while the next fills, once there is one.
    worker: Option<super::segment_worker::Worker>,
    /// Other tenants' records carried into the next segment (`isolation.tenants`): the
    /// latest snapshot of each, and their effectful operations since the earliest of
    /// those. Replaced, not grown, at every cut ([`others_after`]).
    others: Vec<OpRecord>,
    /// The sliding windows' quotas and lengths (µs), per the header.
    sliding: Vec<(String, u64)>,
    /// The main tenant's accepted orders on a sliding quota sent within a window length
    /// of the last cut, carried so a window across it is counted whole
    /// ([`Segmenter::window_orders`]).
    window_orders: Vec<OpRecord>,
    /// Some cut had more of those than the context bound: a sliding window across it
    /// was counted in parts, so its pass is no proof (`combine::pass_unproven`).
    sliding_split: bool,
    /// A cut candidate (index into `cur`) and the records seen after it.
    pending: Option<(usize, usize)>,
    /// The snapshot the last segment was cut at: (id, done).
    last_cut: Option<(u64, u64)>,
    /// Aggregates carried past the last cut, and past the one before it (what the
    /// segment being filled starts with).
    carried: Carried,
    carried_before: Carried,
    /// Why the stream can no longer be judged as it is.
    broken: Option<String>,
    combined: Combined,
    /// Per phase: (operations, without a definite answer), all and writes only.
    all: Vec<(u64, u64)>,
    writes: Vec<(u64, u64)>,
    time_source: Option<String>,
    records: u64,
    /// See [`Streamed::cited`].
    cited: Vec<OpRecord>,
}

impl Segmenter {
    /// A segmenter for a history with this header, judging the rules in `only` (all
    /// when empty).
    pub fn new(header: Header, only: &[String], opts: SegmentOpts) -> Segmenter {
        let phases = header.phases.len();
        let sliding = sliding_windows(&header);
        Segmenter {
            tenant: crate::vocab::Sym::new(&header.tenant),
            header,
            only: only.to_vec(),
            opts,
            reorder: VecDeque::new(),
            kinds: Vec::new(),
            last_key: None,
            cur: Vec::new(),
            ctx_len: 0,
            context: Vec::new(),
            late: Vec::new(),
            late_index: std::collections::HashMap::new(),
            late_amount: Vec::new(),
            cuts: 0,
            worker: None,
            others: Vec::new(),
            sliding,
            window_orders: Vec::new(),
            sliding_split: false,
            pending: None,
            last_cut: None,
            broken: None,
            carried: Carried::default(),
            carried_before: Carried::default(),
            combined: Combined::default(),
            all: vec![(0, 0); phases],
            writes: vec![(0, 0); phases],
            time_source: None,
            records: 0,
            cited: Vec::new(),
        }
    }

    /// Takes the next record in file order.
    pub fn push(&mut self, r: OpRecord) {
        self.records += 1;
        self.count(&r);
        if let Some(last) = self.last_key {
            if (r.done_us, r.id) < last {
                self.break_with(format!(
                    "op #{} completed before op #{} but is written more than {REORDER} records after it: the reorder buffer cannot place it",
                    r.id, last.1
                ));
            }
        }
        let k = key(&r);
        if self.reorder.back().is_none_or(|b| key(b) <= k) {
            self.reorder.push_back(r);
        } else {
            let at = self.reorder.partition_point(|o| key(o) <= k);
            self.reorder.insert(at, r);
        }
        if self.reorder.len() > REORDER {
            if let Some(r) = self.reorder.pop_front() {
                self.take(r);
            }
        }
    }

    /// Judges what is left and combines every segment's verdicts.
    pub fn finish(mut self, max_indefinite: f64) -> Streamed {
        while let Some(r) = self.reorder.pop_front() {
            self.take(r);
        }
        // The segments still being judged come first, in order.
        if let Some(mut w) = self.worker.take() {
            for j in w.drain() {
                self.apply(j);
            }
        }
        if self.broken.is_none() {
            let cur = std::mem::take(&mut self.cur);
            let (ctx, carried) = (self.ctx_len, self.carried_before);
            self.judge(cur, ctx, carried, false);
        }
        let thin = super::thin_from(&self.header.phases, &self.all, &self.writes, max_indefinite);
        let segments = self.combined.segments();
        let mut rules =
            self.combined
                .finish(self.broken.as_deref(), &self.header, self.sliding_split);
        if let Some(why) = &thin {
            super::thin_passes(&mut rules, why);
        }
        let time_source = self.time_source.unwrap_or_else(|| {
            super::time_source(&History {
                header: self.header.clone(),
                ops: Vec::new(),
            })
        });
        Streamed {
            rules,
            thin,
            time_source,
            segments,
            records: self.records,
            warnings: Vec::new(),
            cited: self.cited,
        }
    }

    /// The run-wide counts of thin evidence ([`super::phase_answers`]), record by record.
    fn count(&mut self, o: &OpRecord) {
        if interrupted(o) {
            return;
        }
        let write = self.kind(o).is_none_or(effectful);
        let none = no_answer(o) as u64;
        if let Some(p) = self.all.get_mut(o.phase as usize) {
            p.0 += 1;
            p.1 += none;
        }
        if write {
            if let Some(p) = self.writes.get_mut(o.phase as usize) {
                p.0 += 1;
                p.1 += none;
            }
        }
    }

    /// The kind of a record's operation, per the header.
    fn kind(&mut self, o: &OpRecord) -> Option<OpKind> {
        if let Some(k) = self.kind_seen(o) {
            return k;
        }
        let k = kind_of_header(&self.header, o);
        self.kinds.push((o.name, k));
        k
    }

    /// The kind of a record's operation if its name was seen before ([`Self::kind`]
    /// sees every record as it is pushed, so every record of a closing segment's).
    fn kind_seen(&self, o: &OpRecord) -> Option<Option<OpKind>> {
        self.kinds
            .iter()
            .find(|(n, _)| *n == o.name)
            .map(|&(_, k)| k)
    }

    fn break_with(&mut self, why: String) {
        if self.broken.is_none() {
            self.broken = Some(why);
            // Nothing more is judged: let the segment's memory go.
            self.cur = Vec::new();
            self.context = Vec::new();
            self.late = Vec::new();
            self.late_index = std::collections::HashMap::new();
            self.late_amount = Vec::new();
            self.others = Vec::new();
            self.window_orders = Vec::new();
            self.pending = None;
        }
    }

    /// Takes the next record in completion order.
    fn take(&mut self, r: OpRecord) {
        self.last_key = Some((r.done_us, r.id));
        if self.broken.is_some() {
            return;
        }
        if let Some((id, done)) = self.last_cut {
            if r.sent_us < done {
                return self.break_with(format!(
                    "op #{} was in flight across snapshot #{id}, where the history was cut into segments, and completed after that segment was judged; raise QB_SEGMENT_RECORDS (now {})",
                    r.id, self.opts.records
                ));
            }
        }
        if let Some((c, seen)) = self.pending {
            if r.sent_us < self.cur[c].done_us {
                // It overlaps the candidate: not quiescent after all.
                self.pending = None;
            } else {
                self.pending = Some((c, seen + 1));
            }
        }
        let own = self.cur.len() - self.ctx_len;
        let limit = self.limit();
        let candidate = self.pending.is_none() && own >= limit && self.quiescent(&r);
        self.cur.push(r);
        if candidate {
            self.pending = Some((self.cur.len() - 1, 0));
        }
        if let Some((c, seen)) = self.pending {
            if seen >= limit.min(REORDER) {
                self.cut(c);
            }
        }
    }

    /// Whether `r` is a main-tenant coordinator snapshot no record before it overlaps.
    fn quiescent(&self, r: &OpRecord) -> bool {
        if !self.main_snapshot(r) {
            return false;
        }
        // Records before it completed no later than it did (completion order): any
        // that completed after it was sent overlapped it.
        !self.cur[self.ctx_len..]
            .iter()
            .rev()
            .take_while(|o| o.done_us > r.sent_us)
            .any(|_| true)
    }

    /// Whether `r` is one of the snapshots the rules compare (`Facts::snapshots`).
    fn main_snapshot(&self, r: &OpRecord) -> bool {
        coordinator_snapshot(r) && r.tenant == self.tenant
    }

    /// Closes the segment at `cur[c]`: judges `cur[..=c]`, and starts the next with the
    /// context and the last gap before the cut (from the quiescent snapshot before
    /// `cur[c]`: rules that look from one gap to the next, a release alone and then the
    /// next create, see both), then the records after it. Without such a snapshot the
    /// segment is not cut yet.
    fn cut(&mut self, c: usize) {
        self.pending = None;
        let Some(p) = self.overlap_from(c) else {
            return;
        };
        let rest = self.cur.split_off(c + 1);
        let seg = std::mem::take(&mut self.cur);
        for o in &seg[self.ctx_len..p] {
            let kind = self.kind(o);
            if kind == Some(OpKind::Consume)
                && o.tenant == self.tenant
                && o.outcome == Outcome::Indeterminate
            {
                self.fold_late(o);
            } else if carried(self.tenant, kind, o) {
                self.context.push(o.clone());
            }
            if o.tenant == self.tenant
                && o.outcome == Outcome::Accepted
                && kind == Some(OpKind::Release)
            {
                self.carried.released = true;
            }
        }
        self.others = others_after(
            self.tenant,
            std::mem::take(&mut self.others),
            &seg[self.ctx_len..p],
            |o| self.kind_seen(o).flatten(),
            self.opts.context,
        );
        self.window_orders = self.window_orders(&seg[self.ctx_len..p], seg[p].sent_us);
        let overlap: Vec<OpRecord> = seg[p..=c].to_vec();
        self.last_cut = Some((seg[c].id, seg[c].done_us));
        let (ctx, carried) = (self.ctx_len, self.carried_before);
        self.cuts += 1;
        let mut next = self.judge(seg, ctx, carried, self.cuts > 1);
        // The first segment's buffer is the size of the first: later ones need less,
        // and an emptied buffer's pages stay resident while it lives.
        if next.capacity() > 2 * self.opts.later.saturating_add(rest.len()) {
            next = Vec::new();
        }
        self.carried_before = self.carried;
        if self.context.len() + self.late.len() > self.opts.context {
            return self.break_with(format!(
                "more than {} records (clock moves and reads, setups, operations with no definite answer) would have to be carried from one segment to the next; raise QB_SEGMENT_RECORDS (now {}) to carry more",
                self.opts.context, self.opts.records
            ));
        }
        // The judged segment's buffer holds the next: its pages are already the
        // process's, where a new one would fault them in again (5% of the time).
        next.clear();
        next.reserve(
            self.context.len()
                + self.late.len()
                + self.others.len()
                + self.window_orders.len()
                + overlap.len()
                + rest.len(),
        );
        next.extend(self.context.iter().cloned());
        next.extend(self.late.iter().cloned());
        next.extend(self.others.iter().cloned());
        next.extend(self.window_orders.iter().cloned());
        // Context in completion order, as every segment's records are.
        next.sort_by_key(key);
        self.ctx_len = next.len();
        next.extend(overlap);
        next.extend(rest);
        self.cur = next;
    }

    /// Folds a main-tenant consume with no definite answer into [`Segmenter::late`]: its
    /// key's record keeps the earliest (sent, id) of them, which `Facts::late` and the
    /// lone-step rules name, and the sum of their amounts, which every "possibly taken
    /// effect by t" bound of a later segment adds whole (`Ledger::indeterminate_sent`
    /// and `possible_sent` from 0, a scoped parent's `upper`): a later segment's
    /// intervals all start after these orders were sent, so none splits them.
    fn fold_late(&mut self, o: &OpRecord) {
        let key = (o.op, o.name, o.parent.clone());
        match self.late_index.get(&key) {
            Some(&i) => {
                let amount = self.late[i].amount.saturating_add(o.amount);
                if (o.sent_us, o.id) < (self.late[i].sent_us, self.late[i].id) {
                    self.late[i] = o.clone();
                    self.late_amount[i] = o.amount;
                }
                self.late[i].amount = amount;
            }
            None => {
                self.late_index.insert(key, self.late.len());
                self.late.push(o.clone());
                self.late_amount.push(o.amount);
            }
        }
    }

    /// The main tenant's accepted orders on a sliding quota that a window across a cut
    /// at `at` may hold with an order after it (`windows::sliding_peak` pairs orders
    /// sent within one length of each other), from those carried to the last cut and
    /// the closing segment's own (`seg`). Past the context bound none, and the pass of
    /// a sliding window is no proof any more.
    fn window_orders(&mut self, seg: &[OpRecord], at: u64) -> Vec<OpRecord> {
        if self.sliding.is_empty() || self.sliding_split {
            return Vec::new();
        }
        let (header, sliding, tenant) = (&self.header, &self.sliding, self.tenant);
        let len = |o: &OpRecord| -> Option<u64> {
            if o.tenant != tenant || o.outcome != Outcome::Accepted {
                return None;
            }
            let d = header.operations.get(o.name.as_str())?;
            if d.kind != OpKind::Consume {
                return None;
            }
            sliding
                .iter()
                .filter(|(q, _)| d.touches.iter().any(|t| t == q))
                .map(|&(_, l)| l)
                .max()
        };
        let mut kept: Vec<OpRecord> = std::mem::take(&mut self.window_orders);
        kept.extend(seg.iter().filter(|o| len(o).is_some()).cloned());
        kept.retain(|o| len(o).is_some_and(|l| o.sent_us.saturating_add(l) > at));
        if kept.len() > self.opts.context {
            self.sliding_split = true;
            return Vec::new();
        }
        kept
    }

    /// The last main-tenant snapshot before `cur[c]` (after the segment's first) that
    /// no record overlaps: where the next segment starts.
    fn overlap_from(&self, c: usize) -> Option<usize> {
        let own = &self.cur[self.ctx_len..=c];
        (self.ctx_len + 1..c).rev().find(|&i| {
            let s = &self.cur[i];
            self.main_snapshot(s)
                && !own
                    .iter()
                    .any(|o| o.id != s.id && o.sent_us < s.done_us && o.done_us > s.sent_us)
        })
    }

    /// Own records the segment being filled holds before it is cut.
    fn limit(&self) -> usize {
        if self.cuts == 0 {
            self.opts.records
        } else {
            self.opts.later
        }
    }

    /// Judges one segment; its first `ctx` records are context, `carried` what the
    /// segments before it left. `ahead`: on the judging thread, while the next fills.
    /// Gives back a buffer for the next segment.
    fn judge(
        &mut self,
        ops: Vec<OpRecord>,
        ctx: usize,
        carried: Carried,
        ahead: bool,
    ) -> Vec<OpRecord> {
        use super::segment_worker::{judge, Job, Worker};
        let job = Job {
            history: History {
                header: self.header.clone(),
                ops,
            },
            ctx,
            carried,
            folded: self
                .late
                .iter()
                .map(|o| o.id)
                .zip(self.late_amount.iter().copied())
                .collect(),
        };
        if ahead && self.worker.is_none() {
            self.worker = Worker::start(self.only.clone());
        }
        let Some(w) = self.worker.as_mut().filter(|_| ahead) else {
            let j = judge(job, &self.only);
            return self.apply(j);
        };
        let mut buf = Vec::new();
        for j in w.hand(job) {
            buf = self.apply(j);
        }
        buf
    }

    /// Takes in what one segment's judging found, in segment order; gives back its
    /// buffer.
    fn apply(&mut self, j: super::segment_worker::Judged) -> Vec<OpRecord> {
        for o in j.cited {
            if !self.cited.iter().any(|c| c.id == o.id) {
                self.cited.push(o);
            }
        }
        self.combined.add(j.verdicts);
        self.time_source = Some(j.time_source);
        j.ops
    }
}

/// The key orders with no definite answer are folded by ([`Segmenter::fold_late`]).
type LateKey = (crate::vocab::Sym, crate::vocab::Sym, Option<Box<str>>);

/// Whether a record is context every later segment needs: what the rules look back at
/// from before a segment (see the module docs).
fn carried(tenant: crate::vocab::Sym, kind: Option<OpKind>, o: &OpRecord) -> bool {
    match kind {
        Some(OpKind::Clock | OpKind::AdvanceClock | OpKind::Setup) => true,
        Some(k) => effectful(k) && o.tenant == tenant && o.outcome == Outcome::Indeterminate,
        None => false,
    }
}

/// Whether `o` is a snapshot the rules compare, of any tenant (`Facts::snapshots` and
/// `Facts::others`): an accepted list by the coordinator.
fn coordinator_snapshot(o: &OpRecord) -> bool {
    o.worker == COORDINATOR && o.outcome == Outcome::Accepted && o.snapshot.is_some()
}

/// The sliding windows' quotas and their lengths in µs.
fn sliding_windows(header: &Header) -> Vec<(String, u64)> {
    header
        .quotas
        .iter()
        .filter_map(|q| match q.period {
            Some(crate::vocab::PeriodDecl::Sliding(len)) => {
                Some((q.name.clone(), len.0.as_micros() as u64))
            }
            _ => None,
        })
        .collect()
}

/// Other tenants' records the next segment needs, from those carried so far (`prev`)
/// and a closing segment's own (`seg`, in completion order): the latest accepted
/// coordinator snapshot of each other tenant (so a pair of that tenant's snapshots
/// across the cut is compared, and an order after the cut is judged against its
/// tenant's last listing), and every effectful operation of a tenant other than the
/// main one that completed after the earliest of those snapshots (what decides whether
/// anything could have moved the other's counters in between). Past `bound` records
/// nothing is carried: a pair across the cut then goes unjudged, which leaves a check
/// undecided, never wrong.
fn others_after(
    tenant: crate::vocab::Sym,
    prev: Vec<OpRecord>,
    seg: &[OpRecord],
    kind: impl Fn(&OpRecord) -> Option<OpKind>,
    bound: usize,
) -> Vec<OpRecord> {
    let mut all = prev;
    all.extend(
        seg.iter()
            .filter(|o| o.tenant != tenant)
            .filter(|o| coordinator_snapshot(o) || kind(o).is_some_and(effectful))
            .cloned(),
    );
    // The latest snapshot of each other tenant (a handful: a scan, not a hash).
    let mut latest: Vec<(crate::vocab::Sym, (u64, u64))> = Vec::new();
    for o in all.iter().filter(|o| coordinator_snapshot(o)) {
        match latest.iter_mut().find(|(t, _)| *t == o.tenant) {
            Some((_, k)) => *k = (*k).max(key(o)),
            None => latest.push((o.tenant, key(o))),
        }
    }
    let Some(since) = latest.iter().map(|(_, k)| k.0).min() else {
        return Vec::new();
    };
    all.retain(|o| {
        if coordinator_snapshot(o) {
            latest.iter().any(|(t, k)| *t == o.tenant && *k == key(o))
        } else {
            o.done_us > since
        }
    });
    if all.len() > bound {
        return Vec::new();
    }
    all
}

/// The kind of a record's operation, per the header.
fn kind_of_header(header: &Header, o: &OpRecord) -> Option<OpKind> {
    header.operations.get(o.name.as_str()).map(|d| d.kind)
}

#[cfg(test)]
mod tests {
    use super::{judge_file, judge_file_plain, judge_segmented, SegmentOpts, Streamed};
    use crate::history::{Header, History, HistoryWriter, OpRecord};
    use crate::vocab::{Outcome, Reading, Verdict, COORDINATOR};

    fn header() -> Header {
        serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": crate::history::HISTORY_VERSION,
            "scenario": "pipe", "profile": "p", "target": "http://127.0.0.1:1",
            "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["a", "b"],
            "quotas": [
                {"name": "daily", "kind": "period", "period": "daily"},
                {"name": "slots", "kind": "concurrent"}
            ],
            "operations": {
                "order": {"kind": "consume", "touches": ["daily"]},
                "bad": {"kind": "consume_invalid"},
                "create": {"kind": "consume", "touches": ["slots"]},
                "cancel": {"kind": "release", "releases": "create"},
                "list": {"kind": "list"}
            },
            "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
            "clock_control": false
        }))
        .expect("a valid header")
    }

    /// About `n` records in the shape of a long conformance run (orders some refused and
    /// some indeterminate, invalid orders, creates and cancels, worker lists, a quiescent
    /// snapshot every 500), written a little out of completion order as the engine
    /// writes, with error notes that need escaping and one over-counted snapshot (a
    /// failure, so cited records are compared too).
    fn history(n: u64) -> History {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let (mut ops, mut t, mut consumed, mut slots, mut open) =
            (Vec::new(), 1_000u64, 0u64, 0u64, Vec::new());
        let limit = 4 * n;
        for id in 1..=n {
            let phase = u32::from(id > n / 2);
            let mut o = OpRecord {
                phase,
                tenant: "org".into(),
                ..OpRecord::sample(id, "list", t, t + 300)
            };
            if id % 500 == 1 {
                t += 1_000;
                o.worker = COORDINATOR;
                (o.sent_us, o.intended_us, o.done_us) = (t, t, t + 300);
                o.amount = 0;
                let shown = if id == 50 * 500 + 1 {
                    limit + 7
                } else {
                    consumed
                };
                o.snapshot = Some(
                    vec![
                        Reading::new("daily", limit, shown),
                        Reading::new("slots", 50, slots),
                    ]
                    .into(),
                );
                ops.push(o);
                t += 1_000;
                continue;
            }
            let r = next();
            o.worker = (r % 16) as u32;
            t += 20;
            // Completion varies: records are written as they complete, not as sent.
            (o.sent_us, o.intended_us, o.done_us) = (t, t, t + 200 + r % 300);
            match r % 100 {
                0..=59 => {
                    o.name = "order".into();
                    o.op = o.name;
                    o.amount = 1 + (r >> 8) % 5;
                    o.outcome = if consumed + o.amount > limit {
                        Outcome::RejectedQuota
                    } else if (r >> 20) % 50 == 0 {
                        o.status = None;
                        o.note = Some("timed out: \"upstream\"\\gateway\n504".into());
                        Outcome::Indeterminate
                    } else {
                        consumed += o.amount;
                        Outcome::Accepted
                    };
                }
                60..=69 => {
                    o.name = "bad".into();
                    o.op = o.name;
                    o.outcome = Outcome::RejectedInvalid;
                    o.status = Some(400);
                    o.note = Some("invalid: amount é".into());
                }
                70..=79 if slots < 50 => {
                    o.name = "create".into();
                    o.op = o.name;
                    slots += 1;
                    o.object = Some(format!("obj-{id}").into());
                    open.push(id);
                }
                70..=89 if slots > 0 => {
                    o.name = "cancel".into();
                    o.op = o.name;
                    o.amount = 0;
                    slots -= 1;
                    o.object = open.pop().map(|k| format!("obj-{k}").into());
                }
                _ => {
                    o.amount = 0;
                    o.snapshot = Some(
                        vec![
                            Reading::new("daily", limit, consumed),
                            Reading::new("slots", 50, slots),
                        ]
                        .into(),
                    );
                }
            }
            ops.push(o);
        }
        // Written in arrival order: within each run of 8 records, by completion.
        for w in ops.chunks_mut(8) {
            w.sort_by_key(|o| (o.done_us, o.id));
        }
        History {
            header: header(),
            ops,
        }
    }

    fn same(a: &Streamed, b: &Streamed) {
        assert_eq!(a.rules, b.rules);
        assert_eq!(
            (a.segments, a.records, &a.thin, &a.time_source, &a.cited),
            (b.segments, b.records, &b.thin, &b.time_source, &b.cited)
        );
    }

    #[test]
    fn the_pipelined_file_judgement_is_the_in_memory_ones() {
        let h = history(60_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = HistoryWriter::create(&path, &h.header).unwrap();
        for o in &h.ops {
            w.append(o).unwrap();
        }
        w.finish().unwrap();
        for records in [7_000, 60_000] {
            let opts = SegmentOpts::with_records(records);
            let memory = judge_segmented(&h, &[], 0.05, opts);
            let mut seen = 0u64;
            let piped = super::judge_file_seeing(&path, &[], 0.05, opts, |_| seen += 1).unwrap();
            let plain = judge_file_plain(&path, &[], 0.05, opts, |_| ()).unwrap();
            same(&memory, &piped);
            same(&memory, &plain);
            assert_eq!(seen, 60_000);
            assert!(piped.warnings.is_empty(), "{:?}", piped.warnings);
            // The history is judged for real: decided in several segments, with the
            // seeded over-count failing and its record cited.
            assert_eq!(memory.segments > 1, records == 7_000);
            let failed: Vec<&str> = memory
                .rules
                .iter()
                .filter(|v| v.verdict == Verdict::Fail)
                .map(|v| v.id.as_str())
                .collect();
            assert!(!failed.is_empty(), "{:#?}", memory.rules);
            assert!(!memory.cited.is_empty());
            assert!(memory.rules.iter().any(|v| v.verdict == Verdict::Pass));
        }
    }

    #[test]
    fn a_pipelined_read_reports_the_files_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let h = history(20_000);
        let mut w = HistoryWriter::create(&path, &h.header).unwrap();
        for o in &h.ops {
            w.append(o).unwrap();
        }
        w.finish().unwrap();
        // A corrupt line deep in the file (past several batches), not the last.
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[15_000] = "{\"id\":oops}";
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let e = judge_file(&path, &[], 0.05, SegmentOpts::with_records(3_000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("15001") && e.contains("corrupt"), "{e}");
    }
}
