//! Segmented judging's own refusals: what it cannot place or carry makes every verdict
//! unknown with the reason, never a verdict on a history it did not judge as it is.
//! (That segments agree with the whole history is proved by every rule test:
//! `roundtrip::segmented_agrees`.)

use super::segment::{judge_segmented, SegmentOpts};
use super::Verdict;
use crate::history::{Header, History, OpRecord};
use crate::vocab::{Outcome, Reading, COORDINATOR};

fn header() -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": crate::history::HISTORY_VERSION,
        "scenario": "seg", "profile": "p", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["a"],
        "quotas": [{"name": "daily", "kind": "period", "period": "daily"}],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily"]},
            "list": {"kind": "list"}
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": false
    }))
    .expect("a valid header")
}

fn rec(id: u64, worker: u32, name: &str, t: u64, outcome: Outcome) -> OpRecord {
    OpRecord {
        id,
        phase: 0,
        worker,
        op: name.into(),
        name: name.into(),
        tenant: "org".into(),
        amount: 1,
        intended_us: t,
        sent_us: t,
        done_us: t + 10,
        outcome,
        status: Some(201),
        object: None,
        parent: None,
        snapshot: None,
        note: None,
    }
}

/// `rounds` of a quiescent snapshot and four orders, each order `outcome(k)`, and a
/// closing snapshot: the counters follow the accepted orders.
fn history(rounds: u64, outcome: impl Fn(u64) -> Outcome) -> History {
    let (mut ops, mut id, mut t, mut consumed) = (Vec::new(), 0u64, 1_000u64, 0u64);
    let snap = |ops: &mut Vec<OpRecord>, id: &mut u64, t: &mut u64, consumed: u64| {
        *id += 1;
        let mut s = rec(*id, COORDINATOR, "list", *t, Outcome::Accepted);
        s.amount = 0;
        s.snapshot = Some(vec![Reading::new("daily", 1_000, consumed)].into());
        ops.push(s);
        *t += 100;
    };
    for _ in 0..rounds {
        snap(&mut ops, &mut id, &mut t, consumed);
        for _ in 0..4 {
            id += 1;
            let o = outcome(id);
            if o == Outcome::Accepted {
                consumed += 1;
            }
            ops.push(rec(id, 0, "order", t, o));
            t += 100;
        }
    }
    snap(&mut ops, &mut id, &mut t, consumed);
    History {
        header: header(),
        ops,
    }
}

#[test]
fn a_history_of_many_segments_is_judged_with_verdicts() {
    let h = history(20, |_| Outcome::Accepted);
    let s = judge_segmented(&h, &[], 0.05, SegmentOpts::with_records(5));
    assert!(s.segments > 5, "{}", s.segments);
    let exact = s.rules.iter().find(|r| r.id == "accounting.exact").unwrap();
    assert_eq!(exact.verdict, Verdict::Pass, "{exact:?}");
}

#[test]
fn a_record_that_overlaps_a_cut_already_judged_leaves_every_verdict_unknown() {
    let mut h = history(20, |_| Outcome::Accepted);
    // The last order was sent before the fourth snapshot completed: it overlaps a cut
    // judged long before it arrives, so the segment before that cut lacked it.
    let at = h.ops[15].done_us;
    let last = h.ops.len() - 2;
    h.ops[last].sent_us = at - 1;
    let s = judge_segmented(&h, &[], 0.05, SegmentOpts::with_records(5));
    for r in &s.rules {
        assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
        let w = r.witness.as_deref().unwrap_or("");
        assert!(w.contains("in flight across snapshot"), "{w}");
        assert!(w.contains("QB_SEGMENT_RECORDS"), "{w}");
    }
}

#[test]
fn context_past_its_bound_leaves_every_verdict_unknown_with_why() {
    // Every other order gets no answer, each under its own parent: none folds into
    // another, so each is carried to every later segment.
    let mut h = history(20, |id| {
        if id % 2 == 0 {
            Outcome::Indeterminate
        } else {
            Outcome::Accepted
        }
    });
    for o in &mut h.ops {
        if o.outcome == Outcome::Indeterminate {
            o.parent = Some(format!("p{}", o.id).into());
        }
    }
    let opts = SegmentOpts {
        records: 5,
        later: 5,
        context: 6,
    };
    let s = judge_segmented(&h, &[], 1.0, opts);
    for r in &s.rules {
        assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
        let w = r.witness.as_deref().unwrap_or("");
        assert!(w.contains("would have to be carried"), "{w}");
    }
    // With room for them, judged.
    let s = judge_segmented(&h, &[], 1.0, SegmentOpts::with_records(5));
    assert!(s.rules.iter().any(|r| r.verdict == Verdict::Pass));
}

#[test]
fn orders_with_no_answer_fold_so_a_long_history_keeps_its_verdicts() {
    // Every other order of 60 rounds gets no answer: 120 of them, far more than the
    // 6 context records a segment may carry. Folded per (operation, parent) into one
    // record with their amounts summed, they are carried as one, and every segment is
    // judged as the whole history is.
    let h = history(60, |id| {
        if id % 2 == 0 {
            Outcome::Indeterminate
        } else {
            Outcome::Accepted
        }
    });
    let whole = super::judge_with(&h, &[], 1.0);
    let opts = SegmentOpts {
        records: 5,
        later: 5,
        context: 6,
    };
    let s = judge_segmented(&h, &[], 1.0, opts);
    assert!(s.segments > 20, "{}", s.segments);
    for (a, b) in whole.iter().zip(&s.rules) {
        let w = b.witness.as_deref().unwrap_or("");
        assert!(!w.contains("would have to be carried"), "{b:?}");
        assert_eq!((&a.id, a.verdict), (&b.id, b.verdict), "{a:?}\n{b:?}");
    }
    assert!(s.rules.iter().any(|r| r.verdict == Verdict::Pass));
}

#[test]
fn a_fold_of_orders_with_no_answer_still_bounds_what_they_may_have_consumed() {
    // 32 orders with no answer early on (8 rounds of 4), then the counter rises by all
    // of them at once far later, in another segment: only their sum explains it. A
    // fold that kept one order's amount would call the rise an over-count.
    let mut h = history(30, |id| {
        if id <= 41 && id % 5 != 1 {
            Outcome::Indeterminate
        } else {
            Outcome::Accepted
        }
    });
    let opts = SegmentOpts {
        records: 5,
        later: 5,
        context: 6,
    };
    let whole = super::judge_with(&h, &[], 1.0);
    let s = judge_segmented(&h, &[], 1.0, opts);
    for (a, b) in whole.iter().zip(&s.rules) {
        assert_eq!((&a.id, a.verdict), (&b.id, b.verdict), "{a:?}\n{b:?}");
    }
    let unanswered = h
        .ops
        .iter()
        .filter(|o| o.outcome == Outcome::Indeterminate)
        .count() as u64;
    assert_eq!(unanswered, 32);
    // Each later snapshot counts the 32 as taken effect (the history above counted only
    // the accepted): the rise from the indeterminate orders lands late.
    let late = h.ops.len() - 20;
    for o in &mut h.ops[late..] {
        if let Some(r) = o.snapshot.as_mut() {
            let mut v: Vec<Reading> = r.iter().cloned().collect();
            v[0].consumed += unanswered;
            *r = v.into();
        }
    }
    let whole = super::judge_with(&h, &[], 1.0);
    let s = judge_segmented(&h, &[], 1.0, opts);
    for (a, b) in whole.iter().zip(&s.rules) {
        assert_eq!((&a.id, a.verdict), (&b.id, b.verdict), "{a:?}\n{b:?}");
    }
    let exact = s.rules.iter().find(|r| r.id == "accounting.exact");
    assert!(
        exact.is_some_and(|r| r.verdict != Verdict::Fail),
        "{exact:?}"
    );
    // One more than they could have consumed is an over-count, seen across the fold.
    for o in &mut h.ops[late..] {
        if let Some(r) = o.snapshot.as_mut() {
            let mut v: Vec<Reading> = r.iter().cloned().collect();
            v[0].consumed += 1;
            *r = v.into();
        }
    }
    let whole = super::judge_with(&h, &[], 1.0);
    let s = judge_segmented(&h, &[], 1.0, opts);
    for (a, b) in whole.iter().zip(&s.rules) {
        assert_eq!((&a.id, a.verdict), (&b.id, b.verdict), "{a:?}\n{b:?}");
    }
    assert!(
        s.rules.iter().any(|r| r.verdict == Verdict::Fail),
        "{:?}",
        s.rules
    );
    // What a failure cites is each record as it was written. (No rule here fails
    // citing a folded order first, so the fold's own citation is not reached.)
    assert!(!s.cited.is_empty());
    for c in &s.cited {
        let written = h
            .ops
            .iter()
            .find(|o| o.id == c.id)
            .expect("a record of the file");
        assert_eq!(format!("{c:?}"), format!("{written:?}"));
    }
}

#[test]
fn a_bad_segment_size_is_refused_by_name() {
    // SegmentOpts::from_env reads the variable; the parse rule is what it applies.
    std::env::set_var("QB_SEGMENT_RECORDS", "lots");
    let e = SegmentOpts::from_env().unwrap_err().to_string();
    std::env::remove_var("QB_SEGMENT_RECORDS");
    assert!(
        e.contains("QB_SEGMENT_RECORDS") && e.contains("expected a number"),
        "{e}"
    );
}

/// A sliding-window quota of 100 a second: quiescent snapshots every 100 ms (where
/// segments are cut), and between them orders of `amount` each, one per snapshot.
fn sliding_history(amounts: &[u64]) -> History {
    let mut header = header();
    header.quotas[0].period = Some("sliding 1s".parse().expect("a sliding period"));
    let (mut ops, mut t) = (Vec::new(), 1_000u64);
    for (k, &amount) in amounts.iter().enumerate() {
        let id = ops.len() as u64 + 1;
        let mut s = rec(id, COORDINATOR, "list", t, Outcome::Accepted);
        s.amount = 0;
        s.snapshot = Some(vec![Reading::new("daily", 100, 0)].into());
        ops.push(s);
        let mut o = rec(id + 1, 0, "order", t + 50_000, Outcome::Accepted);
        o.amount = amount;
        ops.push(o);
        t += 100_000;
        let _ = k;
    }
    History { header, ops }
}

#[test]
fn a_sliding_window_across_segment_cuts_is_counted_whole() {
    // Five orders of 30 within 0.5 s: 150 in one window, over the quota of 100, though
    // no segment of two records holds more than one of them.
    let over = sliding_history(&[30, 30, 30, 30, 30]);
    let whole = crate::check::judge_with(&over, &["limit.never-exceeded".into()], 1.0);
    assert_eq!(whole[0].verdict, Verdict::Fail, "{:?}", whole[0]);
    let s = judge_segmented(
        &over,
        &["limit.never-exceeded".into()],
        1.0,
        SegmentOpts::with_records(1),
    );
    assert!(s.segments >= 4, "{}", s.segments);
    // Failed on orders of several segments (each holds one order): the first window
    // over the quota, 4 x 30 = 120 > 100.
    let v = &s.rules[0];
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.ops.len() >= 4, "{v:?}");
    assert!(
        v.witness.as_deref().unwrap_or("").contains("> quota 100"),
        "{v:?}"
    );
    // Within the quota, the segments pass it as the whole does: the carry makes it proof.
    let within = sliding_history(&[20, 20, 20, 20, 20]);
    let s = judge_segmented(
        &within,
        &["limit.never-exceeded".into()],
        1.0,
        SegmentOpts::with_records(1),
    );
    assert_eq!(s.rules[0].verdict, Verdict::Pass, "{:?}", s.rules[0]);
}

#[test]
fn sliding_orders_past_the_context_bound_leave_the_pass_unproven_never_a_guess() {
    let within = sliding_history(&[20, 20, 20, 20, 20]);
    let opts = SegmentOpts {
        records: 1,
        later: 1,
        context: 1,
    };
    let s = judge_segmented(&within, &["limit.never-exceeded".into()], 1.0, opts);
    let v = &s.rules[0];
    assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
    assert!(
        v.witness
            .as_deref()
            .unwrap_or("")
            .contains("counted in parts"),
        "{v:?}"
    );
    // A failure a segment sees alone still stands.
    let over = sliding_history(&[120, 20]);
    let s = judge_segmented(&over, &["limit.never-exceeded".into()], 1.0, opts);
    assert_eq!(s.rules[0].verdict, Verdict::Fail, "{:?}", s.rules[0]);
}
