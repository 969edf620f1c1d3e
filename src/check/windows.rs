//! Windows the calendar cannot place: fixed windows opened by the first hit (placed from
//! the window ends the target's own list answers report, `read.expires_in`) and sliding
//! windows. Times are run offsets in µs, like the history's.

use crate::history::{History, OpRecord};
use crate::vocab::{Outcome, Reading};

/// Slack around a listed window end: the listed seconds are rounded (to the millisecond
/// by window_service.py, coarser by others) and the two clocks tick apart slightly.
const END_SLACK_US: u64 = 2_000;

/// One instance of a first-hit window, as list reads saw it: the window's end lies in
/// `end`, its start `length` earlier.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Earliest and latest possible end (µs, run offsets; may precede the run).
    pub end: (i64, i64),
    /// Earliest and latest possible start.
    pub start: (i64, i64),
    /// The list reads that showed it.
    pub reads: Vec<u64>,
    /// From this instant on, until the window ends, no other window of the counter can
    /// be open: the previous window had ended, or a read showed none open, too shortly
    /// before this one for a whole window to fit in between. So an accepted hit sent at
    /// or after it and done before the end is in this window, its opening hit included.
    pub alone_from: i64,
    /// Whether every read of it agreed on one end (the spacing check needs that).
    pub agreed: bool,
}

impl Instance {
    /// Whether an effect somewhere in `[sent, done]` is certainly inside this window.
    pub fn surely_holds(&self, sent: u64, done: u64) -> bool {
        let (sent, done) = (sent as i64, done as i64);
        (sent > self.start.1 || sent >= self.alone_from) && done < self.end.0
    }

    /// A name for witnesses: where the window ends.
    pub fn name(&self) -> String {
        format!("window ending at t≈{:.3}s", self.end.0 as f64 / 1e6)
    }
}

/// Where the window a reading shows ends, if the reading says: `[sent + e, done + e]`
/// widened by the slack and the declared tolerance.
pub fn end_of(sent: u64, done: u64, r: &Reading, tolerance_us: u64) -> Option<(i64, i64)> {
    let e = r.ends_in_us? as i64;
    let slack = (END_SLACK_US + tolerance_us) as i64;
    Some((sent as i64 + e - slack, done as i64 + e + slack))
}

/// The instances of `quota`'s first-hit windows of `len_us` that the main tenant's list
/// reads saw, in time order. Reads whose end intervals overlap saw the same window: two
/// windows of one counter end at least a window length apart. A read that took longer
/// than half a window is too vague to place one.
pub fn instances(h: &History, quota: &str, len_us: u64) -> Vec<Instance> {
    let tol = h.header.capabilities.reset_tolerance.0.as_micros() as u64;
    let reads = || {
        h.ops
            .iter()
            .filter(|o| o.tenant == h.header.tenant && o.outcome == Outcome::Accepted)
            .filter_map(|o| Some((o, o.snapshot.as_ref()?.iter().find(|r| r.name == quota)?)))
    };
    // Reads that showed no window open, as (sent, done).
    let mut none_open: Vec<(i64, i64)> = reads()
        .filter(|(_, r)| r.absent)
        .map(|(o, _)| (o.sent_us as i64, o.done_us as i64))
        .collect();
    none_open.sort_unstable();
    let mut ends: Vec<(i64, i64, u64)> = reads()
        .filter(|(o, _)| o.done_us.saturating_sub(o.sent_us) < len_us / 2)
        .filter_map(|(o, r)| {
            // An absent counter shows no window.
            let (lo, hi) = end_of(o.sent_us, o.done_us, r, tol).filter(|_| !r.absent)?;
            Some((lo, hi, o.id))
        })
        .collect();
    ends.sort_unstable();
    let mut out: Vec<Instance> = Vec::new();
    // Per instance: the hull of its reads' end intervals (which reads overlap), and
    // their intersection, where the true end lies (empty if the reads disagree).
    let mut hulls: Vec<(i64, i64)> = Vec::new();
    for (lo, hi, id) in ends {
        match (out.last_mut(), hulls.last_mut()) {
            (Some(last), Some(hull)) if lo <= hull.1 => {
                hull.1 = hull.1.max(hi);
                last.end = (last.end.0.max(lo), last.end.1.min(hi));
                last.reads.push(id);
            }
            _ => {
                hulls.push((lo, hi));
                out.push(Instance {
                    end: (lo, hi),
                    start: (0, 0),
                    reads: vec![id],
                    alone_from: i64::MAX,
                    agreed: true,
                })
            }
        }
    }
    for (i, hull) in out.iter_mut().zip(&hulls) {
        if i.end.0 > i.end.1 {
            // Reads that chain without one common end: keep the hull, the safe bound.
            i.agreed = false;
            i.end = *hull;
        }
    }
    let len = len_us as i64;
    let mut prev_end: Option<(i64, i64)> = None;
    for i in &mut out {
        i.start = (i.end.0 - len, i.end.1 - len);
        // No whole window fits between an instant and this start: nothing else is open
        // from that instant on.
        let no_room = |at: i64| i.start.1 - at < len;
        let after_prev = prev_end.filter(|p| no_room(p.0)).map(|p| p.1);
        let after_none = none_open
            .iter()
            .filter(|(sent, done)| *done < i.end.0 && no_room(*sent))
            .map(|(_, done)| *done)
            .next();
        i.alone_from = [after_prev, after_none]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(i64::MAX);
        prev_end = Some(i.end);
    }
    out
}

/// A read of one quota at `[sent, done]`: its reading, if it listed the quota.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// Send time, µs.
    pub sent: u64,
    /// Completion time, µs.
    pub done: u64,
    /// The reading.
    pub reading: Option<&'a Reading>,
}

/// Whether two reads of a first-hit window quota of `len_us` count within one window
/// instance (so the counter moved by exactly what took effect between them): both show
/// the same window end; or the first shows no window and the second was answered less
/// than a window after it (a window opened in between is still open then).
pub fn same_first_hit(a: Seen, b: Seen, len_us: u64, tolerance_us: u64) -> bool {
    let (Some(ra), Some(rb)) = (a.reading, b.reading) else {
        return false;
    };
    let short = b.done.saturating_sub(a.sent) < len_us;
    match (ra.absent, rb.absent) {
        (true, _) => short,
        (false, true) => false,
        (false, false) => {
            match (
                end_of(a.sent, a.done, ra, tolerance_us),
                end_of(b.sent, b.done, rb, tolerance_us),
            ) {
                (Some(x), Some(y)) => x.0 <= y.1 && y.0 <= x.1,
                _ => false,
            }
        }
    }
}

/// Sliding windows of `len_us`: the largest total of accepted orders (`ops`, effect
/// somewhere in `[sent, done]`) that certainly took effect within one window length of
/// each other, as (total, the orders). Orders are grouped by the earliest send: each
/// group holds the orders sent at or after it and completed less than `len_us` after it.
pub fn sliding_peak(ops: &[&OpRecord], len_us: u64) -> (u64, Vec<u64>) {
    let mut by_sent: Vec<&OpRecord> = ops.to_vec();
    by_sent.sort_by_key(|o| (o.sent_us, o.id));
    // Fenwick tree over completion ranks: the amount completed before a bound among
    // the orders sent inside the current range.
    let mut dones: Vec<u64> = by_sent.iter().map(|o| o.done_us).collect();
    dones.sort_unstable();
    dones.dedup();
    let rank = |d: u64| dones.partition_point(|&x| x < d);
    let mut tree = vec![0u64; dones.len() + 1];
    let add = |tree: &mut Vec<u64>, i: usize, v: i64| {
        let mut i = i + 1;
        while i < tree.len() {
            tree[i] = (tree[i] as i64 + v) as u64;
            i += i & i.wrapping_neg();
        }
    };
    let below = |tree: &Vec<u64>, r: usize| {
        let (mut i, mut s) = (r, 0u64);
        while i > 0 {
            s += tree[i];
            i -= i & i.wrapping_neg();
        }
        s
    };
    let (mut best, mut best_at) = (0u64, 0usize);
    let mut end = 0usize;
    for (j, first) in by_sent.iter().enumerate() {
        let bound = first.sent_us.saturating_add(len_us);
        while end < by_sent.len() && by_sent[end].sent_us < bound {
            add(
                &mut tree,
                rank(by_sent[end].done_us),
                by_sent[end].amount as i64,
            );
            end += 1;
        }
        let total = below(&tree, rank(bound));
        if total > best {
            (best, best_at) = (total, j);
        }
        add(&mut tree, rank(first.done_us), -(first.amount as i64));
    }
    if best == 0 {
        return (0, Vec::new());
    }
    let s = by_sent[best_at].sent_us;
    let ids = by_sent[best_at..]
        .iter()
        .filter(|o| o.sent_us < s + len_us && o.done_us < s + len_us)
        .map(|o| o.id)
        .collect();
    (best, ids)
}

/// `reset.period-boundary` for first-hit windows, from the list reads alone: the next
/// window of a counter opens at a hit after the previous one ended, so two windows end
/// at least a window length apart. List reads that place window ends closer than that
/// (beyond the slack and the declared tolerance) show a counter still counting past the
/// end it listed. Returns the failure, or how many consecutive windows were checked.
pub fn first_hit_resets(h: &History) -> Result<usize, (String, Vec<u64>)> {
    let mut checked = 0;
    for q in &h.header.quotas {
        let Some(crate::vocab::PeriodDecl::FirstHit(len)) = &q.period else {
            continue;
        };
        let len_us = len.0.as_micros() as i64;
        let w = instances(h, &q.name, len_us as u64);
        for pair in w.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            // Even at their farthest (a's earliest end, b's latest) closer than a length.
            if a.agreed && b.agreed && b.end.1 - a.end.0 < len_us {
                let mut ids: Vec<u64> = a.reads.iter().rev().take(3).rev().copied().collect();
                ids.extend(b.reads.iter().take(3));
                return Err((
                    format!(
                        "{}: list reads #{} and #{} show windows ending at t≈{:.3}s and t≈{:.3}s, at most {:.3}s apart: with windows of {len} from the first hit the next can end no sooner than {len} after the last, so the counter was still counting past the end it listed",
                        q.name,
                        a.reads.last().copied().unwrap_or_default(),
                        b.reads.first().copied().unwrap_or_default(),
                        a.end.0 as f64 / 1e6,
                        b.end.1 as f64 / 1e6,
                        (b.end.1 - a.end.0) as f64 / 1e6,
                    ),
                    ids,
                ));
            }
            checked += 1;
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::RuleVerdict;
    use crate::history::Header;
    use crate::vocab::{Verdict, COORDINATOR};

    const S: u64 = 1_000_000;

    fn header() -> Header {
        serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": crate::history::HISTORY_VERSION,
            "scenario": "t", "profile": "p", "target": "http://127.0.0.1:1",
            "tenant": "ns", "started_at": "2026-11-21T05:00:00Z", "phases": ["a"],
            "quotas": [{"name": "calls", "kind": "period", "period": "fixed 3s from first hit"}],
            "operations": {
                "hit": {"kind": "consume", "touches": ["calls"]},
                "list": {"kind": "list"}
            },
            "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
            "clock_control": false
        }))
        .unwrap()
    }

    /// A history of a first-hit window service, 1 ms per operation.
    #[derive(Default)]
    struct W {
        ops: Vec<OpRecord>,
    }

    impl W {
        fn push(&mut self, name: &str, at: u64, amount: u64, outcome: Outcome) -> &mut OpRecord {
            let id = self.ops.len() as u64 + 1;
            self.ops.push(OpRecord {
                id,
                phase: 0,
                worker: 0,
                op: name.into(),
                name: name.into(),
                tenant: "ns".into(),
                amount,
                intended_us: at,
                sent_us: at,
                done_us: at + 1_000,
                outcome,
                status: Some(200),
                object: None,
                parent: None,
                snapshot: None,
                note: None,
            });
            self.ops.last_mut().unwrap()
        }
        fn hit(&mut self, at: u64, amount: u64) -> &mut Self {
            self.push("hit", at, amount, Outcome::Accepted);
            self
        }
        /// A quiescent list at `at`: `consumed` in a window ending `ends_in` after it
        /// (`None`: the counter is absent).
        fn list(&mut self, at: u64, reading: Option<(u64, u64)>) -> &mut Self {
            let mut r = Reading::new("calls", 100, 0);
            match reading {
                Some((consumed, ends_in)) => {
                    r.consumed = consumed;
                    r.ends_in_us = Some(ends_in);
                }
                None => r.absent = true,
            }
            let o = self.push("list", at, 0, Outcome::Accepted);
            o.worker = COORDINATOR;
            o.snapshot = Some(vec![r].into());
            self
        }
        fn judge(&self, id: &str) -> RuleVerdict {
            let h = History {
                header: header(),
                ops: self.ops.clone(),
            };
            crate::check::roundtrip::judged_both_ways(&h, &[id.to_string()], 1.0).remove(0)
        }
    }

    /// Three windows of 100, each opened by a hit at 3.5 s intervals, each full: judged
    /// as three windows (the old checker summed them: "300 > quota 100").
    fn three_full_windows(last: u64) -> W {
        let mut w = W::default();
        w.list(0, None);
        for k in 0..3u64 {
            let open = S + k * 3_500_000;
            let amounts = if k == 2 { last } else { 50 };
            w.hit(open, 50).hit(open + 10_000, amounts);
            // Listed 1 s after the opening hit: the window ends 2 s later.
            let at = open + S;
            w.list(at, Some((50 + amounts, open + 3 * S - at)));
        }
        w
    }

    #[test]
    fn first_hit_windows_are_judged_one_instance_at_a_time() {
        let w = three_full_windows(50);
        let v = w.judge("limit.never-exceeded");
        assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
        assert!(format!("{v:?}").contains("window ending at"), "{v:?}");
        // Absent, then a window less than 3 s later: one instance, so compared exactly.
        let v = w.judge("accounting.exact");
        assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
        assert_eq!(w.judge("reset.period-boundary").verdict, Verdict::Pass);
    }

    #[test]
    fn a_first_hit_window_over_its_limit_fails_with_that_window() {
        let w = three_full_windows(51);
        let v = w.judge("limit.never-exceeded");
        assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
        let witness = format!("{v:?}");
        assert!(witness.contains("101 > quota 100"), "{witness}");
    }

    #[test]
    fn a_hit_straddling_a_window_edge_is_counted_in_neither_window() {
        // Window 1 ends at 4 s; a slow hit from 3.9 s to 4.2 s may fall on either side.
        let mut w = W::default();
        w.list(0, None);
        w.hit(S, 100);
        w.list(2 * S, Some((100, 2 * S - 1_000)));
        w.push("hit", 3_900_000, 60, Outcome::Accepted).done_us = 4_200_000;
        w.hit(4_300_000, 40);
        w.list(5 * S, Some((100, 2_300_000 - 1_000)));
        let v = w.judge("limit.never-exceeded");
        assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
        assert!(format!("{v:?}").contains("near a window edge"), "{v:?}");
    }

    #[test]
    fn a_window_listed_as_ended_that_keeps_counting_fails_the_reset_rule() {
        let mut w = W::default();
        w.list(0, None);
        w.hit(S, 100);
        w.list(2 * S, Some((100, 2 * S - 1_000)));
        // Past its end (4 s) it is still listed, ending "now", twice.
        w.list(5 * S, Some((100, 0)));
        w.list(6 * S, Some((100, 0)));
        let v = w.judge("reset.period-boundary");
        assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
        assert!(format!("{v:?}").contains("still counting"), "{v:?}");
    }

    #[test]
    fn without_a_listed_window_end_first_hit_windows_are_undecided_not_summed() {
        let mut w = W::default();
        // Listed, but with no window end: the profile declares no `expires_in`.
        let bare = Reading::new("calls", 100, 0);
        w.push("list", 0, 0, Outcome::Accepted).snapshot = Some(vec![bare].into());
        w.ops[0].worker = COORDINATOR;
        for k in 0..3 {
            w.hit(S + k * 3_500_000, 100);
        }
        let v = w.judge("limit.never-exceeded");
        assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
        assert!(format!("{v:?}").contains("read.expires_in"), "{v:?}");
    }

    #[test]
    fn the_sliding_peak_counts_only_orders_certainly_within_one_length() {
        let mut w = W::default();
        w.hit(0, 60)
            .hit(500_000, 30)
            .hit(900_000, 20)
            .hit(2_000_000, 90);
        let ops: Vec<&OpRecord> = w.ops.iter().collect();
        // Within 1 s: 60 + 30 (the third completes at 901 ms < 1 s: 110).
        let (peak, ids) = sliding_peak(&ops, S);
        assert_eq!((peak, ids), (110, vec![1, 2, 3]));
        // Within 0.5 s nothing pairs up: the largest single order.
        assert_eq!(sliding_peak(&ops, 500_000).0, 90);
    }
}
