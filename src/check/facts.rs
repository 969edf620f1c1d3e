//! Facts derived once from a history and shared by every rule: the quiescent snapshots,
//! what happened between each pair of them, the clock moves, and per-operation
//! declarations resolved to small indexes (a 10-million-operation history is judged
//! without a string lookup per operation per rule).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::ledger::Ledger;
pub use super::windows::Seen;

use crate::history::{History, OpRecord};
use crate::vocab::{OpKind, PeriodDecl, QuotaDecl, QuotaKind};
use crate::vocab::{Outcome, Reading};

/// Slack, in seconds, around the run's estimate of the target's clock (the bundled fake's
/// clock starts a moment before the history's `started_at`).
const CLOCK_SLACK_S: i64 = 5;

/// A quiescent snapshot of the main tenant: taken by the coordinator while nothing else
/// was in flight.
#[derive(Debug, Clone)]
pub struct Snap {
    /// Its op id.
    pub id: u64,
    /// Index into `History::ops`.
    pub index: usize,
    /// Send time, µs.
    pub sent: u64,
    /// Completion time, µs.
    pub done: u64,
    /// Readings by quota name.
    pub readings: BTreeMap<String, Reading>,
}

impl Snap {
    /// The reading of `quota`, if listed.
    pub fn get(&self, quota: &str) -> Option<&Reading> {
        self.readings.get(quota)
    }

    /// This snapshot as a read of `quota` (for `comparable`).
    pub fn seen(&self, quota: &str) -> Seen<'_> {
        Seen {
            sent: self.sent,
            done: self.done,
            reading: self.get(quota),
        }
    }
}

/// What happened between two consecutive snapshots.
#[derive(Debug, Clone, Default)]
pub struct Gap {
    /// Effectful operations (indexes into `History::ops`) sent after the first snapshot
    /// completed and completed before the second was sent.
    pub ops: Vec<usize>,
    /// An effectful operation overlapped one of the two snapshots: the gap proves nothing.
    pub dirty: bool,
}

/// How one profile operation is declared, with quotas as bit masks.
#[derive(Debug, Clone, Copy)]
pub struct Decl {
    /// Its kind.
    pub kind: OpKind,
    /// Quotas a consume draws on (bit i = `header.quotas[i]`).
    pub touches: u64,
    /// Quotas a release frees (those of the consume it ends).
    pub frees: u64,
}

/// What the rules filter an operation on, in 6 bytes: rules that pass over every record
/// of a segment look here first and read the record (136 bytes) only when it is one
/// they judge. Each such pass over the records themselves streamed the whole segment
/// from memory: a fifth of the rule that makes four of them.
#[derive(Debug, Clone, Copy)]
pub struct Brief {
    /// Index into `Facts::decls` (`u32::MAX` when the profile does not declare it; 32
    /// bits, not 16, so no number of operations wraps it).
    pub decl: u32,
    pub outcome: Outcome,
    /// The main tenant's.
    pub main: bool,
    /// It carries a list answer (`snapshot`).
    pub listed: bool,
}

/// Indexes over a history.
pub struct Facts {
    /// Quiescent snapshots of the main tenant, in time order.
    pub snapshots: Vec<Snap>,
    /// Coordinator snapshots of another tenant (isolation probe), in time order.
    pub others: Vec<Snap>,
    /// `gaps[i]` lies between `snapshots[i]` and `snapshots[i + 1]`.
    pub gaps: Vec<Gap>,
    /// Clock moves that may have taken effect (accepted or indeterminate), in time order.
    pub clock: Vec<usize>,
    /// Clock reads that gave the target's instant (Unix µs in `amount`), by completion.
    pub reads: Vec<usize>,
    /// Whether the target's time comes from its clock reads: false when the profile
    /// declares none or the target refused it, and the wall clock is then assumed.
    pub clock_read: bool,
    /// Per operation (as `History::ops`), what the rules filter it on.
    pub briefs: Vec<Brief>,
    /// The declarations met in the history.
    pub decls: Vec<Decl>,
    /// The run's wall-clock start, Unix seconds.
    pub started: i64,
    /// Operation indexes by completion (then id): rules that report the first failure
    /// walk this, so a saved history (in arrival order) gives the same witness.
    pub order: Vec<usize>,
    /// Effectful operations of the main tenant that got an indeterminate answer, as
    /// (send time, id), by send time. Each may take effect at any instant after it was
    /// sent, even after later snapshots (Jepsen's `:info`), so a counter move after it
    /// cannot be attributed to one lone operation.
    pub late: Vec<(u64, u64)>,
    /// Ledgers built so far, shared by the rules. Keyed by which declarations draw on
    /// or free a quota: quotas moved by the same operations (daily and monthly) share one.
    ledgers: Mutex<HashMap<(u64, u64), Arc<Ledger>>>,
    /// How many leading records of the history are context carried into a segment
    /// from before it (`check::segment`); 0 for a whole history.
    pub context: usize,
    /// What the segments before this one found (`check::segment`); nothing for a whole
    /// history.
    pub carried: Carried,
    /// The main tenant (`header.tenant`), interned once: the rules ask "is this record
    /// the main tenant's?" of every record, and comparing handles is one integer
    /// compare where comparing strings was a lookup and a `memcmp` (13% of a long
    /// check).
    pub tenant: crate::vocab::Sym,
}

/// Whole-run facts a segment inherits from the segments before it, where a rule looks
/// back further than any record carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    /// A release of the main tenant was accepted before the segment
    /// (`concurrent.release-frees`: "after releases were accepted").
    pub released: bool,
}

/// Whether an operation of this kind can change a counter. Setups create the objects
/// consumes act on (an export configuration) and draw on no quota.
pub fn effectful(kind: OpKind) -> bool {
    !matches!(
        kind,
        OpKind::List | OpKind::ListInvalid | OpKind::Resources | OpKind::Setup | OpKind::Clock
    )
}

impl Facts {
    /// Builds the facts in one pass over the operations (plus sorting the few snapshots).
    pub fn build(h: &History) -> Facts {
        let tenant = crate::vocab::Sym::new(&h.header.tenant);
        let mut decls = Vec::new();
        // Each name's declaration by its handle's index (a hash of each record's name
        // string was 2% of a long check); `None` until the name is first met.
        let mut by_name: Vec<Option<u32>> = Vec::new();
        let mask = |names: &[String]| names.iter().fold(0u64, |m, n| m | quota_bit(h, n));
        let mut decl_of = |o: &OpRecord| -> u32 {
            let at = o.name.index();
            if let Some(&Some(i)) = by_name.get(at) {
                return i;
            }
            let i = match h.header.operations.get(o.name.as_str()) {
                Some(d) => {
                    let frees = d
                        .releases
                        .as_deref()
                        .and_then(|r| h.header.operations.get(r))
                        .map_or(0, |c| mask(&c.touches));
                    decls.push(Decl {
                        kind: d.kind,
                        touches: mask(&d.touches),
                        frees,
                    });
                    (decls.len() - 1) as u32
                }
                None => u32::MAX,
            };
            if by_name.len() <= at {
                by_name.resize(at + 1, None);
            }
            by_name[at] = Some(i);
            i
        };
        let briefs: Vec<Brief> = h
            .ops
            .iter()
            .map(|o| Brief {
                decl: decl_of(o),
                outcome: o.outcome,
                main: o.tenant == tenant,
                listed: o.snapshot.is_some(),
            })
            .collect();
        let snap_of = |i: usize, o: &OpRecord| {
            o.snapshot.as_ref().map(|s| Snap {
                id: o.id,
                index: i,
                sent: o.sent_us,
                done: o.done_us,
                readings: s.iter().map(|r| (r.name.to_string(), r.clone())).collect(),
            })
        };
        let mut snapshots = Vec::new();
        let mut others = Vec::new();
        for (i, (o, b)) in h.ops.iter().zip(&briefs).enumerate() {
            if !b.listed || b.outcome != Outcome::Accepted || o.worker != crate::vocab::COORDINATOR
            {
                continue;
            }
            if let Some(s) = snap_of(i, o) {
                if o.tenant == tenant {
                    snapshots.push(s);
                } else {
                    others.push(s);
                }
            }
        }
        snapshots.sort_by_key(|s| (s.done, s.id));
        others.sort_by_key(|s| (s.done, s.id));
        let mut order: Vec<usize> = (0..h.ops.len()).collect();
        order.sort_unstable_by_key(|&i| (h.ops[i].done_us, h.ops[i].id));
        let mut facts = Facts {
            tenant,
            ledgers: Mutex::new(HashMap::new()),
            context: 0,
            carried: Carried::default(),
            order,
            gaps: vec![Gap::default(); snapshots.len().saturating_sub(1)],
            snapshots,
            others,
            clock: Vec::new(),
            reads: Vec::new(),
            clock_read: false,
            late: Vec::new(),
            briefs,
            decls,
            started: h
                .header
                .started_at
                .parse::<jiff::Timestamp>()
                .map_or(0, |t| t.as_second()),
        };
        for (i, o) in h.ops.iter().enumerate() {
            let Some(d) = facts.decl(i) else { continue };
            if d.kind == OpKind::Clock && o.outcome == Outcome::Accepted && o.amount > 0 {
                facts.reads.push(i);
            }
            if !effectful(d.kind) || o.tenant != facts.tenant {
                continue;
            }
            if d.kind == OpKind::AdvanceClock
                && matches!(o.outcome, Outcome::Accepted | Outcome::Indeterminate)
            {
                facts.clock.push(i);
            }
            if o.outcome == Outcome::Indeterminate {
                facts.late.push((o.sent_us, o.id));
            }
            facts.place(i, o);
        }
        facts.clock.sort_by_key(|&i| h.ops[i].done_us);
        facts
            .reads
            .sort_by_key(|&i| (h.ops[i].done_us, h.ops[i].id));
        // Clock reads were sent and none was refused outright: the target's time is
        // its own, even when no read answered (then it is unknown). A refusal (a target
        // without the route) leaves the wall clock, as an assumption.
        let sent: Vec<&OpRecord> = h
            .ops
            .iter()
            .enumerate()
            .filter(|(i, _)| facts.decl(*i).is_some_and(|d| d.kind == OpKind::Clock))
            .map(|(_, o)| o)
            .collect();
        facts.clock_read = !facts.reads.is_empty()
            || (!sent.is_empty()
                && sent
                    .iter()
                    .all(|o| !o.outcome.definite() || o.outcome == Outcome::RejectedRate));
        facts.late.sort_unstable();
        facts
    }

    /// Files an effectful operation into the gap that contains it, or dirties the gaps
    /// whose snapshots it overlapped.
    fn place(&mut self, i: usize, o: &OpRecord) {
        // Snapshots completed before the op was sent.
        let k = self.snapshots.partition_point(|s| s.done <= o.sent_us);
        if k >= self.snapshots.len() {
            return;
        }
        if k == 0 {
            // Sent before the first snapshot completed: in a merged history (another
            // shard's operation, or one widened by its clock bound) it may overlap it,
            // and every gap it overlaps proves nothing.
            let end = self.snapshots.partition_point(|s| s.sent < o.done_us);
            for g in 0..end.min(self.gaps.len()) {
                self.gaps[g].dirty = true;
            }
            return;
        }
        if o.done_us <= self.snapshots[k].sent {
            self.gaps[k - 1].ops.push(i);
        } else {
            // It overlapped snapshot k (and maybe later ones): every gap it touched.
            let end = self.snapshots.partition_point(|s| s.sent < o.done_us);
            for g in (k - 1)..end.min(self.gaps.len()) {
                self.gaps[g].dirty = true;
            }
        }
    }

    /// The declaration of operation `i`, if the profile declares it.
    pub fn decl(&self, i: usize) -> Option<Decl> {
        match self.briefs.get(i) {
            Some(b) if b.decl != u32::MAX => Some(self.decls[b.decl as usize]),
            _ => None,
        }
    }

    /// The ledger of quota bit `bit` (main tenant), built once per set of operations.
    pub fn ledger(&self, h: &History, bit: u64) -> Arc<Ledger> {
        let mut key = (0u64, 0u64);
        for (i, d) in self.decls.iter().enumerate().take(64) {
            if d.kind == OpKind::Consume && d.touches & bit != 0 {
                key.0 |= 1 << i;
            }
            if d.kind == OpKind::Release && d.frees & bit != 0 {
                key.1 |= 1 << i;
            }
        }
        let mut cache = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| {
                let decl = |i| self.decl(i).map(|d| (d.kind, d.touches, d.frees));
                Arc::new(Ledger::build(h, decl, bit))
            })
            .clone()
    }

    /// The index of the last snapshot completed at or before `t`.
    pub fn snap_before(&self, t: u64) -> Option<usize> {
        self.snapshots
            .partition_point(|s| s.done <= t)
            .checked_sub(1)
    }

    /// Whether a clock move may have taken effect between `t1` and `t2` (µs). A move that
    /// got an indeterminate answer may take effect at any instant after it was sent.
    pub fn clock_moved(&self, h: &History, t1: u64, t2: u64) -> bool {
        self.clock.iter().any(|&i| {
            let o = &h.ops[i];
            (o.done_us > t1 || o.outcome == Outcome::Indeterminate) && o.sent_us < t2
        })
    }

    /// The id of a clock move sent before `t2` that got an indeterminate answer: the
    /// target's clock position after it is uncertain.
    pub fn clock_uncertain(&self, h: &History, t2: u64) -> Option<u64> {
        self.clock
            .iter()
            .map(|&i| &h.ops[i])
            .find(|o| o.outcome == Outcome::Indeterminate && o.sent_us < t2)
            .map(|o| o.id)
    }

    /// The id of the first effectful operation with an indeterminate answer sent before
    /// `t`: it may still take effect after `t`.
    pub fn late_before(&self, t: u64) -> Option<u64> {
        self.late
            .first()
            .filter(|(sent, _)| *sent < t)
            .map(|&(_, id)| id)
    }

    /// Gaps holding one lone operation that cannot be attributed to it because an
    /// earlier indeterminate operation may have taken effect in the gap: (how many, the
    /// first such indeterminate operation).
    pub fn blurred(&self) -> Option<(usize, u64)> {
        let mut first = None;
        let n = (0..self.gaps.len())
            .filter(|&g| {
                let gap = &self.gaps[g];
                !gap.dirty && gap.ops.len() == 1
            })
            .filter_map(|g| self.late_before(self.snapshots[g].done))
            .inspect(|id| {
                first.get_or_insert(*id);
            })
            .count();
        first.map(|id| (n, id))
    }

    /// The target's clock at run offset `t` (µs), as Unix seconds `(earliest, latest)`.
    /// From the clock read nearest before `t` (or the first one, for an earlier `t`):
    /// the instant it gave, plus the clock moves since; a target whose clock also runs
    /// may be up to the time since the read was sent later (a virtual clock stands
    /// still). Without a read: the wall-clock start plus the moves, as an assumption
    /// (a profile with a clock read whose reads all failed: unknown, the widest span).
    pub fn target_time(&self, h: &History, t: u64) -> (i64, i64) {
        if self.reads.is_empty() {
            if self.clock_read {
                return (i64::MIN / 4, i64::MAX / 4);
            }
            return self.wall_time(h, t);
        }
        let k = self
            .reads
            .partition_point(|&i| h.ops[i].done_us <= t)
            .checked_sub(1);
        let r = &h.ops[self.reads[k.unwrap_or(0)]];
        let at = r.amount as i64;
        let (mut certain, mut maybe) = (0i64, 0i64);
        if k.is_some() {
            // Forward from the read: moves completed after it and by `t` are certain;
            // one in flight at `t`, or indeterminate, may or may not have applied.
            for &i in &self.clock {
                let o = &h.ops[i];
                if o.outcome == Outcome::Accepted && o.sent_us >= r.done_us && o.done_us <= t {
                    certain += o.amount as i64;
                } else if o.sent_us < t && (o.outcome == Outcome::Indeterminate || o.done_us > t) {
                    maybe += o.amount as i64;
                }
            }
            let ran = t.saturating_sub(r.sent_us) as i64;
            (
                (at.div_euclid(1_000_000)) + certain,
                (at + ran).div_euclid(1_000_000) + 1 + certain + maybe,
            )
        } else {
            // Back from the first read: the moves between `t` and it had not happened.
            for &i in &self.clock {
                let o = &h.ops[i];
                if o.done_us <= r.sent_us && o.sent_us >= t && o.outcome == Outcome::Accepted {
                    certain += o.amount as i64;
                } else if o.sent_us < r.done_us && o.done_us > t {
                    maybe += o.amount as i64;
                }
            }
            let ran = r.done_us.saturating_sub(t) as i64;
            (
                (at - ran).div_euclid(1_000_000) - certain - maybe,
                at.div_euclid(1_000_000) + 1 - certain,
            )
        }
    }

    /// The wall-clock estimate: the run's start plus every clock move completed by `t`.
    fn wall_time(&self, h: &History, t: u64) -> (i64, i64) {
        let mut moved = 0i64;
        let mut maybe = 0i64;
        for &i in &self.clock {
            let o = &h.ops[i];
            if o.done_us <= t && o.outcome == Outcome::Accepted {
                moved += o.amount as i64;
            } else if o.sent_us < t {
                maybe += o.amount as i64;
            }
        }
        let base = self.started + moved;
        (
            base - CLOCK_SLACK_S,
            base + maybe + (t / 1_000_000) as i64 + CLOCK_SLACK_S,
        )
    }

    /// The period window of `period` the target was in at `t`, when certain.
    pub fn window_at(&self, h: &History, period: &PeriodDecl, t: u64) -> Option<i64> {
        let (lo, hi) = self.target_time(h, t);
        let (a, b) = (window(period, lo)?, window(period, hi)?);
        (a == b).then_some(a)
    }
}

/// The window key of a period at Unix second `s`: days, months or fixed lengths since
/// the epoch. First-hit windows start at a hit, not at an instant of the calendar (they
/// are placed from what the target lists: `check::windows`), and sliding windows end at
/// every instant: `None` for both.
pub fn window(period: &PeriodDecl, s: i64) -> Option<i64> {
    match period {
        PeriodDecl::Daily => Some(s.div_euclid(86_400)),
        PeriodDecl::Monthly => {
            // The range jiff gives dates in (years -9999 to 9999), as before.
            jiff::Timestamp::from_second(s).ok()?;
            Some(utc_month(s))
        }
        PeriodDecl::Fixed(len) => {
            let len = len.0.as_secs() as i64;
            (len > 0).then(|| s.div_euclid(len))
        }
        PeriodDecl::FirstHit(_) | PeriodDecl::Sliding(_) => None,
    }
}

/// The UTC month of Unix second `s` as `year * 12 + month - 1`, by integer arithmetic
/// on the proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`). The rules
/// ask for the month of every accepted order's two instants: through jiff's zoned
/// conversion that was a twentieth of a long check.
fn utc_month(s: i64) -> i64 {
    let z = s.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    year * 12 + month - 1
}

/// The start of window `key` of `period`, Unix seconds.
pub fn window_start(period: &PeriodDecl, key: i64) -> Option<i64> {
    match period {
        PeriodDecl::Daily => Some(key * 86_400),
        PeriodDecl::Monthly => {
            let d = jiff::civil::date(key.div_euclid(12) as i16, (key.rem_euclid(12) + 1) as i8, 1);
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp().as_second())
        }
        PeriodDecl::Fixed(len) => Some(key * len.0.as_secs() as i64),
        PeriodDecl::FirstHit(_) | PeriodDecl::Sliding(_) => None,
    }
}

/// A readable window name: `2026-11-21`, `2026-11`, or `window N`.
pub fn window_name(period: &PeriodDecl, key: i64) -> String {
    let at = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
            .ok()
    };
    match (period, window_start(period, key).and_then(at)) {
        (PeriodDecl::Daily, Some(d)) => d.to_string(),
        (PeriodDecl::Monthly, Some(d)) => format!("{:04}-{:02}", d.year(), d.month()),
        _ => format!("window {key}"),
    }
}

/// The bit of quota `name` in `Decl` masks.
pub fn quota_bit(h: &History, name: &str) -> u64 {
    h.header
        .quotas
        .iter()
        .position(|q| q.name == name)
        .filter(|i| *i < crate::vocab::MAX_QUOTAS)
        .map_or(0, |i| 1u64 << i)
}

/// The kind of the operation a record is of, per the header.
pub fn kind_of(h: &History, op: &OpRecord) -> Option<OpKind> {
    h.header.operations.get(op.name.as_str()).map(|d| d.kind)
}

/// Formats a number with thousands separators (witnesses are read by people).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `#1, #2, #3, …` (at most `max` ids).
pub fn cite(ids: &[u64], max: usize) -> String {
    let mut s: Vec<String> = ids.iter().take(max).map(|i| format!("#{i}")).collect();
    if ids.len() > max {
        s.push("…".into());
    }
    s.join(", ")
}

impl Facts {
    /// The one effectful operation of gap `g`, when it was alone between two snapshots
    /// (then the counters' move between them is its doing).
    pub fn alone(&self, g: usize) -> Option<usize> {
        let gap = self.gaps.get(g)?;
        if self.late_before(self.snapshots[g].done).is_some() {
            return None;
        }
        (!gap.dirty && gap.ops.len() == 1).then(|| gap.ops[0])
    }

    /// Gaps holding exactly one operation, and nothing else: (gap, operation index).
    pub fn lone(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.gaps.len()).filter_map(|g| self.alone(g).map(|i| (g, i)))
    }

    /// Each counted (not scoped) quota that both snapshots around gap `g` list, with how
    /// it moved across the gap.
    pub fn rises<'h>(
        &'h self,
        h: &'h History,
        g: usize,
    ) -> impl Iterator<Item = (&'h QuotaDecl, i64)> + 'h {
        h.header
            .quotas
            .iter()
            .filter(|q| q.kind != QuotaKind::Scoped)
            .filter_map(move |q| self.rise(g, g + 1, &q.name).map(|r| (q, r)))
    }

    /// How `quota` moved from snapshot `a` to snapshot `b`, when both list it.
    pub fn rise(&self, a: usize, b: usize, quota: &str) -> Option<i64> {
        let (ra, rb) = (self.snapshots[a].get(quota)?, self.snapshots[b].get(quota)?);
        Some(rb.consumed as i64 - ra.consumed as i64)
    }
}

/// Whether quota `q` can be compared between read `a` and read `b` (taken as at `t2`):
/// no clock move in between, and for a period quota one window instance at both ends:
/// the same calendar window; for first-hit windows, what the two reads list
/// (`windows::same_first_hit`). A sliding window never holds still between two reads.
pub fn comparable(h: &History, f: &Facts, q: &QuotaDecl, a: Seen, b: Seen, t2: u64) -> bool {
    if f.clock_moved(h, a.done, t2) {
        return false;
    }
    match &q.period {
        Some(PeriodDecl::FirstHit(len)) if q.kind == QuotaKind::Period => {
            let tol = h.header.capabilities.reset_tolerance.0.as_micros() as u64;
            super::windows::same_first_hit(a, b, len.0.as_micros() as u64, tol)
        }
        Some(p) if q.kind == QuotaKind::Period => {
            let a = f.window_at(h, p, a.done);
            a.is_some() && a == f.window_at(h, p, t2)
        }
        _ => true,
    }
}

/// Whose time a history's periods are judged in, for the report: the target's (its
/// clock read answered), unknown (it never answered), or the wall clock's, assumed.
pub fn time_source(h: &History) -> String {
    let reads: Vec<&OpRecord> = h
        .ops
        .iter()
        .filter(|o| kind_of(h, o) == Some(OpKind::Clock))
        .collect();
    let name = |o: &OpRecord| o.name.to_string();
    if let Some(o) = reads
        .iter()
        .find(|o| o.outcome == Outcome::Accepted && o.amount > 0)
    {
        return format!("read from the target ({})", name(o));
    }
    match reads.first() {
        None => "wall clock (assumed: the profile declares no clock read)".into(),
        Some(o)
            if reads
                .iter()
                .all(|o| !o.outcome.definite() || o.outcome == Outcome::RejectedRate) =>
        {
            format!(
                "unknown: the clock read {} got no definite answer (op #{}), so periods near a boundary are undecided",
                name(o),
                o.id
            )
        }
        Some(o) => format!(
            "wall clock (assumed: the clock read {} answered {} (op #{}){})",
            name(o),
            o.status
                .map_or_else(|| o.outcome.as_str().to_string(), |s| s.to_string()),
            o.id,
            o.note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ),
    }
}

/// Why intervals were left out as not within one window instance, for a rule that
/// judged none: names the quotas and their periods (a true reason, never "nothing").
pub fn crossed_reason(h: &History, crossed: &[&str], what: &str) -> Option<String> {
    if crossed.is_empty() {
        return None;
    }
    let mut names: Vec<String> = Vec::new();
    for n in crossed {
        let p = h
            .header
            .quotas
            .iter()
            .find(|q| q.name == *n)
            .and_then(|q| q.period.as_ref())
            .map_or(String::new(), |p| format!(" ({p})"));
        let s = format!("{n}{p}");
        if !names.contains(&s) {
            names.push(s);
        }
    }
    Some(format!(
        "{} {what} crossed a window edge or a clock move (or a window the reads do not place): none lay within one window instance of {}",
        crossed.len(),
        names.join(", ")
    ))
}

#[cfg(test)]
mod month_tests {
    use super::utc_month;

    fn by_jiff(s: i64) -> i64 {
        let d = jiff::Timestamp::from_second(s)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        d.year() as i64 * 12 + d.month() as i64 - 1
    }

    #[test]
    fn the_month_by_arithmetic_is_the_calendars_at_every_month_edge() {
        // Each month's first second and the one before it, 1600 to 2400 (leap
        // centuries and not), and the ends of jiff's range.
        for year in 1600i16..2400 {
            for month in 1i8..=12 {
                let start = jiff::civil::date(year, month, 1)
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .as_second();
                for s in [start - 1, start, start + 86_399, start + 86_400 * 27] {
                    assert_eq!(utc_month(s), by_jiff(s), "at {s}");
                }
            }
        }
        for s in [
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
            -1,
            0,
        ] {
            assert_eq!(utc_month(s), by_jiff(s), "at {s}");
        }
    }
}
