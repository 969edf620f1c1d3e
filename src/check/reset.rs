//! Reset rules: period counters reset at their boundary (not before, not later than the
//! declared tolerance), monthly counters do not reset daily, concurrent counters never
//! reset, and admission resumes after a reset. Judged at each clock move that was alone
//! between two quiescent snapshots, and at each boundary the target's own clock crossed
//! while nothing was sent between two snapshots (the reset probe makes both), in the
//! target's time (its clock reads) or, without a clock read, the wall clock's.

use super::facts::{thousands, window, window_name, window_start, Facts};
use super::{Judgement, Level, Rule, RuleInfo, Tally};
use crate::history::{History, OpRecord, ResetWait};
use crate::vocab::boundary;
use crate::vocab::Outcome;
use crate::vocab::{OpKind, PeriodDecl, QuotaKind};

/// Concurrent work never resets; but a clock moved by a day or more may legitimately end
/// work that was due (a dataset expiration executing), so only shorter moves judge it.
const CONCURRENT_MOVE_MAX_S: u64 = 86_400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Boundary,
    MonthlyNotDaily,
}

/// A crossing to judge: the counters of snapshots `g` and `g + 1` around either one
/// clock move alone between them, or nothing at all while the run waited for a real
/// boundary (`probe: reset` with `wait:`).
struct Crossing<'h> {
    g: usize,
    /// The clock move, when the clock was moved.
    moved: Option<&'h OpRecord>,
}

impl Crossing<'_> {
    /// How the time passed, for witnesses.
    fn how(&self) -> String {
        match self.moved {
            Some(m) => format!("when the clock moved {}s (op #{})", m.amount, m.id),
            None => "while the run waited for the target's clock".into(),
        }
    }
}

/// Whether the period window of some declared quota changed across gap `g`.
fn window_changed(h: &History, f: &Facts, g: usize) -> bool {
    let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
    h.header.quotas.iter().any(|q| match (&q.kind, &q.period) {
        (QuotaKind::Period, Some(p)) => matches!(
            (f.window_at(h, p, a.done), f.window_at(h, p, b.sent)),
            (Some(x), Some(y)) if x != y
        ),
        _ => false,
    })
}

/// The crossings of a history: lone accepted clock moves, and gaps in which nothing
/// was sent while the target's clock crossed a period boundary on its own.
fn crossings<'h>(h: &'h History, f: &Facts) -> Vec<Crossing<'h>> {
    let mut out = Vec::new();
    for g in 0..f.gaps.len() {
        if let Some(i) = f.alone(g) {
            let m = &h.ops[i];
            if f.decl(i).map(|d| d.kind) == Some(OpKind::AdvanceClock)
                && m.outcome == Outcome::Accepted
            {
                out.push(Crossing { g, moved: Some(m) });
            }
            continue;
        }
        let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
        let gap = &f.gaps[g];
        if gap.ops.is_empty()
            && !gap.dirty
            && f.late_before(b.sent).is_none()
            && !f.clock_moved(h, a.done, b.sent)
            && window_changed(h, f, g)
        {
            out.push(Crossing { g, moved: None });
        }
    }
    out
}

/// Why nothing was judged when the reset probe waited for a real boundary: the one it
/// would have waited for was further than its wait (skipped, naming it), or it was
/// within the wait and no snapshots around it were taken (unknown).
fn wait_reason(h: &History, f: &Facts, rw: ResetWait) -> Judgement {
    // The target's time when the probe decided: its first clock read, else the phase's
    // opening snapshot on the wall clock.
    let read = f
        .reads
        .iter()
        .map(|&i| &h.ops[i])
        .find(|o| o.phase == rw.phase);
    let opening = f
        .snapshots
        .iter()
        .find(|s| h.ops[s.index].phase == rw.phase);
    let now = match (read, opening) {
        (Some(r), _) => (r.amount / 1_000_000) as i64,
        (None, Some(s)) if !f.clock_read => f.started + (s.done / 1_000_000) as i64,
        _ => {
            return Judgement::unknown(format!(
                "the reset probe (phase {}) has no reading of the target's time: whether a boundary fell within its wait is unknown",
                rw.phase
            ))
        }
    };
    match boundary::next_of(&h.header.quotas, now) {
        None => Judgement::skipped("no declared period has a boundary the reset probe can wait for"),
        Some((b, p)) if b - now > rw.wait_s as i64 => {
            let assumed = if f.clock_read {
                ""
            } else {
                " (target time assumed to be the wall clock: the profile declares no clock read)"
            };
            Judgement::skipped(format!("{}{assumed}", boundary::beyond_wait(&p, b, now, rw.wait_s)))
        }
        Some((b, p)) => Judgement::unknown(format!(
            "the next {p} boundary {} fell within wait: {}, but no two snapshots around it show the crossing (was the run stopped?)",
            jiff::Timestamp::from_second(b).map(|t| t.to_string()).unwrap_or_default(),
            boundary::human(rw.wait_s as i64)
        )),
    }
}

/// Judges every crossing for one of the two rules.
fn judge(h: &History, f: &Facts, which: Which) -> Judgement {
    let moves: Vec<usize> = (0..h.ops.len())
        .filter(|&i| f.decl(i).is_some_and(|d| d.kind == OpKind::AdvanceClock))
        .collect();
    let found = crossings(h, f);
    let waited = found.iter().any(|c| c.moved.is_none());
    if moves.is_empty() && !waited {
        if let Some(rw) = h.header.reset_wait.filter(|_| !h.header.clock_control) {
            return wait_reason(h, f, rw);
        }
        return Judgement::skipped(if h.header.clock_control {
            "no clock move was made (add `probe: reset`)"
        } else {
            "the target's clock cannot be moved (no clock control): resets are not exercised (`probe: reset` with `wait:` waits for a real boundary)"
        });
    }
    if !waited && !moves.iter().any(|&i| h.ops[i].outcome == Outcome::Accepted) {
        let o = &h.ops[moves[0]];
        if super::no_answer(o) || o.outcome == Outcome::RejectedRate {
            return Judgement::unknown(format!(
                "the clock hook got no definite answer (op #{}, {}: {}): whether the clock moved is unknown",
                o.id,
                o.outcome.as_str(),
                o.note.as_deref().unwrap_or("no answer")
            ));
        }
        return Judgement::skipped(format!(
            "the clock hook answered {} (op #{}): resets are not exercised",
            o.status
                .map_or_else(|| o.outcome.as_str().to_string(), |s| s.to_string()),
            o.id
        ));
    }
    let tolerance = h.header.capabilities.reset_tolerance.0.as_secs() as i64;
    let mut t = Tally::default();
    for c in &found {
        let g = c.g;
        let (a, b) = (&f.snapshots[g], &f.snapshots[g + 1]);
        let day = |at: u64| f.window_at(h, &PeriodDecl::Daily, at);
        let day_crossed = matches!((day(a.done), day(b.sent)), (Some(x), Some(y)) if x != y);
        let cite: Vec<u64> = c
            .moved
            .map(|m| m.id)
            .into_iter()
            .chain([a.id, b.id])
            .collect();
        let how = c.how();
        let mut crossed_any = false;
        for q in &h.header.quotas {
            let (Some(ra), Some(rb)) = (a.get(&q.name), b.get(&q.name)) else {
                continue;
            };
            let (c1, c2) = (ra.consumed, rb.consumed);
            match (q.kind, &q.period) {
                (QuotaKind::Concurrent, _) if which == Which::Boundary => {
                    // While waiting, work may really end (an expiration executes): only
                    // a short clock move judges a concurrent counter.
                    let Some(m) = c.moved.filter(|m| m.amount < CONCURRENT_MOVE_MAX_S) else {
                        continue;
                    };
                    if c2 < c1 {
                        return Judgement::fail(
                            format!(
                                "{} is concurrent and must never reset, yet it fell from {} to {} when the clock moved {}s (op #{}; snapshots #{}, #{})",
                                q.name, c1, c2, m.amount, m.id, a.id, b.id
                            ),
                            cite,
                        );
                    }
                    t.held();
                }
                (QuotaKind::Period, Some(p)) => {
                    if window(p, 0).is_none() {
                        continue;
                    }
                    let (Some(w1), Some(w2)) =
                        (f.window_at(h, p, a.done), f.window_at(h, p, b.sent))
                    else {
                        t.undecided(|| {
                            format!(
                                "{}: the target's time near a boundary is uncertain (snapshots #{}, #{})",
                                q.name, a.id, b.id
                            )
                        });
                        continue;
                    };
                    let monthly_rule = *p == PeriodDecl::Monthly && day_crossed;
                    if w1 == w2 {
                        // No boundary of this quota was crossed: the counter must stay.
                        let mine = if monthly_rule {
                            Which::MonthlyNotDaily
                        } else {
                            Which::Boundary
                        };
                        if mine != which {
                            continue;
                        }
                        if c2 < c1 {
                            let what = if monthly_rule {
                                "a monthly counter reset at a daily boundary"
                            } else {
                                "reset before its boundary"
                            };
                            return Judgement::fail(
                                format!(
                                    "{}: {what}: it fell from {} to {} {how} within window {} (snapshots #{}, #{})",
                                    q.name,
                                    thousands(c1),
                                    thousands(c2),
                                    window_name(p, w1),
                                    a.id,
                                    b.id
                                ),
                                cite,
                            );
                        }
                        if c1 > 0 {
                            t.held();
                        }
                        continue;
                    }
                    crossed_any = true;
                    if which != Which::Boundary {
                        continue;
                    }
                    let start = window_start(p, w2).unwrap_or(i64::MIN);
                    if f.target_time(h, b.sent).0 < start + tolerance {
                        t.undecided(|| {
                            format!(
                                "{}: snapshot #{} is within the reset tolerance",
                                q.name, b.id
                            )
                        });
                        continue;
                    }
                    if c1 == 0 {
                        // A counter at 0 looks the same reset or not.
                        continue;
                    }
                    if c2 > 0 {
                        return Judgement::fail(
                            format!(
                                "{}: not reset at the {} boundary: {} before (snapshot #{}), still {} in window {} after the target's clock crossed it {how} (snapshot #{})",
                                q.name,
                                p,
                                thousands(c1),
                                a.id,
                                thousands(c2),
                                window_name(p, w2),
                                b.id
                            ),
                            cite,
                        );
                    }
                    t.held();
                }
                _ => {}
            }
        }
        // Admission resumes: the order right after a crossing is refused only if a quota
        // it draws on is still full.
        if which == Which::Boundary && crossed_any {
            if let Some(j) = f.alone(g + 1) {
                let (o, d) = (&h.ops[j], f.decl(j));
                if let (Some(d), Outcome::RejectedQuota) = (d, o.outcome) {
                    if d.kind == OpKind::Consume {
                        let room = h.header.quotas.iter().enumerate().all(|(qi, q)| {
                            d.touches & (1u64 << qi.min(63)) == 0
                                || b.get(&q.name)
                                    .is_some_and(|r| r.consumed + o.amount <= r.limit)
                        });
                        if room {
                            return Judgement::fail(
                                format!(
                                    "admission did not resume after the reset: order #{} of {} was rejected as over quota though snapshot #{} shows room in every quota it draws on",
                                    o.id, o.amount, b.id
                                ),
                                vec![o.id, b.id],
                            );
                        }
                    }
                }
            }
        }
    }
    let nothing = if f.clock_read {
        "no clock move was alone between two snapshots"
    } else {
        "no clock move was alone between two snapshots (target time assumed to be the wall clock: the profile declares no clock read)"
    };
    t.finish("counters across boundaries", nothing)
}

/// `reset.period-boundary`.
pub struct PeriodBoundary;

impl Rule for PeriodBoundary {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "reset.period-boundary",
            level: Level::Must,
            title:
                "period counters reset at their boundary, not before, not later than the tolerance",
        }
    }
    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        // First-hit windows reset as their listed end passes, clock moves or not.
        let windows = match super::windows::first_hit_resets(h) {
            Ok(n) => n,
            Err((witness, ops)) => return Judgement::fail(witness, ops),
        };
        let j = judge(h, f, Which::Boundary);
        if windows > 0 && j.verdict == crate::vocab::Verdict::Skipped {
            return Judgement::pass(format!(
                "{windows} first-hit window(s) ended and the next opened a window length later, as listed; clock: {}",
                j.witness.unwrap_or_default()
            ));
        }
        j
    }
}

/// `reset.monthly-not-daily`.
pub struct MonthlyNotDaily;

impl Rule for MonthlyNotDaily {
    fn info(&self) -> RuleInfo {
        RuleInfo {
            id: "reset.monthly-not-daily",
            level: Level::Must,
            title: "monthly counters keep their value across a daily boundary",
        }
    }
    fn judge(&self, h: &History, f: &Facts) -> Judgement {
        judge(h, f, Which::MonthlyNotDaily)
    }
}

#[cfg(test)]
mod tests {
    //! The reset rules in the target's time: clock reads place the counters, and a
    //! reset probe that waited for a real boundary is judged like a clock move.
    use crate::check::Verdict;
    use crate::history::{Header, History, OpRecord};
    use crate::vocab::{Outcome, Reading, COORDINATOR};

    /// Wall-clock start 2026-11-21T05:00Z; `reset_wait` as `(phase, seconds)`.
    fn header(clock_control: bool, reset_wait: Option<(u32, u64)>) -> Header {
        let mut h: Header = serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": crate::history::HISTORY_VERSION,
            "scenario": "t", "profile": "p", "target": "http://127.0.0.1:1",
            "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["reset"],
            "quotas": [
                {"name": "daily", "kind": "period", "period": "daily"},
                {"name": "monthly", "kind": "period", "period": "monthly"}
            ],
            "operations": {
                "order": {"kind": "consume", "touches": ["daily", "monthly"]},
                "move": {"kind": "advance_clock"},
                "now": {"kind": "clock"},
                "list": {"kind": "list"}
            },
            "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
            "clock_control": clock_control
        }))
        .unwrap();
        h.reset_wait =
            reset_wait.map(|(phase, wait_s)| crate::history::ResetWait { phase, wait_s });
        h
    }

    /// Operations in sequence, 10 µs each unless `pass` lets time go by.
    #[derive(Default)]
    struct B {
        ops: Vec<OpRecord>,
        t: u64,
    }

    impl B {
        fn push(&mut self, name: &str, amount: u64) -> &mut OpRecord {
            self.t += 10;
            let id = self.ops.len() as u64 + 1;
            self.ops.push(OpRecord {
                worker: COORDINATOR,
                tenant: "org".into(),
                amount,
                ..OpRecord::sample(id, name, self.t, self.t + 5)
            });
            self.ops.last_mut().unwrap()
        }
        fn snap(&mut self, daily: u64, monthly: u64) -> &mut Self {
            let rs = vec![
                Reading::new("daily", 100, daily),
                Reading::new("monthly", 1000, monthly),
            ];
            self.push("list", 0).snapshot = Some(rs.into());
            self
        }
        /// A clock read answering `at` (RFC 3339).
        fn read(&mut self, at: &str) -> &mut Self {
            let us = at.parse::<jiff::Timestamp>().unwrap().as_microsecond() as u64;
            self.push("now", us);
            self
        }
        fn moved(&mut self, seconds: u64) -> &mut Self {
            self.push("move", seconds);
            self
        }
        fn pass(&mut self, seconds: u64) -> &mut Self {
            self.t += seconds * 1_000_000;
            self
        }
        fn judge(&self, header: Header, id: &str) -> (Verdict, String) {
            let h = History {
                header,
                ops: self.ops.clone(),
            };
            let v = crate::check::roundtrip::judged_both_ways(&h, &[id.to_string()], 1.0).remove(0);
            (v.verdict, v.witness.unwrap_or_default())
        }
    }

    const BOUNDARY: &str = "reset.period-boundary";
    const MONTHLY: &str = "reset.monthly-not-daily";

    #[test]
    fn clock_moves_are_judged_from_the_targets_clock_not_the_wall_clock() {
        // The wall clock says 05:00 on the 21st, where +1h stays in the day; the target
        // says 23:30 on 31 January, where +1h crosses a day and a month.
        let mut b = B::default();
        b.read("2025-01-31T23:30:00Z")
            .snap(40, 40)
            .moved(3600)
            .snap(0, 0);
        let (v, w) = b.judge(header(true, None), BOUNDARY);
        assert_eq!(v, Verdict::Pass, "{w}");
        assert_eq!(b.judge(header(true, None), MONTHLY).0, Verdict::Skipped);
        // The same counters without the read: placed on the wall clock, the reset is
        // early (this is how a correct fake on a virtual clock used to fail).
        let mut b = B::default();
        b.snap(40, 40).moved(3600).snap(0, 0);
        let (v, w) = b.judge(header(true, None), BOUNDARY);
        assert_eq!(v, Verdict::Fail, "{w}");
        assert!(w.contains("reset before its boundary"), "{w}");
    }

    #[test]
    fn a_wait_across_the_targets_midnight_is_judged_like_a_clock_move() {
        let reset = |daily, monthly| {
            let mut b = B::default();
            b.read("2026-06-15T23:59:57Z")
                .snap(40, 40)
                .pass(4)
                .read("2026-06-16T00:00:01Z")
                .snap(daily, monthly);
            b
        };
        let h = || header(false, Some((0, 30)));
        let (v, w) = reset(0, 40).judge(h(), BOUNDARY);
        assert_eq!(v, Verdict::Pass, "{w}");
        assert_eq!(reset(0, 40).judge(h(), MONTHLY).0, Verdict::Pass);
        let (v, w) = reset(40, 40).judge(h(), BOUNDARY);
        assert_eq!(v, Verdict::Fail, "{w}");
        assert!(w.contains("while the run waited"), "{w}");
        let (v, w) = reset(0, 0).judge(h(), MONTHLY);
        assert_eq!(v, Verdict::Fail, "{w}");
    }

    #[test]
    fn a_boundary_beyond_the_wait_is_named_in_the_skip() {
        let mut b = B::default();
        b.read("2026-12-01T23:03:00Z").snap(0, 0);
        let (v, w) = b.judge(header(false, Some((0, 900))), BOUNDARY);
        assert_eq!(v, Verdict::Skipped);
        assert_eq!(
            w,
            "next daily boundary 2026-12-02T00:00:00Z is in 57m, beyond wait: 15m"
        );
        // On the wall clock (no read): the same, said as an assumption.
        let mut b = B::default();
        b.snap(0, 0);
        let (v, w) = b.judge(header(false, Some((0, 900))), BOUNDARY);
        assert_eq!(v, Verdict::Skipped);
        assert!(
            w.contains("next daily boundary 2026-11-22T00:00:00Z is in 19h00m"),
            "{w}"
        );
        assert!(w.contains("assumed to be the wall clock"), "{w}");
    }

    #[test]
    fn a_clock_read_that_never_answers_leaves_the_targets_time_unknown() {
        let mut b = B::default();
        b.read("2025-01-31T23:30:00Z");
        b.ops[0].outcome = Outcome::Indeterminate;
        b.ops[0].amount = 0;
        b.snap(40, 40).moved(3600).snap(0, 0);
        let (v, w) = b.judge(header(true, None), BOUNDARY);
        assert_eq!(v, Verdict::Unknown, "{w}");
    }
}
