//! Rules judged on small hand-built histories: each rule can fail, and indeterminate
//! evidence never proves a pass or a fail.

use super::{RuleVerdict, Verdict};
use crate::history::{Header, History, OpRecord};
use crate::vocab::COORDINATOR;
use crate::vocab::{Outcome, Reading};

const LIMIT: u64 = 100;

fn header(clock_control: bool) -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": crate::history::HISTORY_VERSION,
        "scenario": "t", "profile": "p", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["a"],
        "quotas": [
            {"name": "daily", "kind": "period", "period": "daily"},
            {"name": "monthly", "kind": "period", "period": "monthly"},
            {"name": "zero", "kind": "period", "period": "monthly"}
        ],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily", "monthly"]},
            "update": {"kind": "consume", "touches": ["zero"]},
            "clock": {"kind": "advance_clock"},
            "list": {"kind": "list"},
            "list_daily": {"kind": "list", "filter": "daily"},
            "list_nonsense": {"kind": "list_invalid", "reason": "an unknown quota type"}
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": clock_control
    }))
    .unwrap()
}

/// A history built step by step; every step takes 10 µs, in sequence.
struct B {
    ops: Vec<OpRecord>,
    t: u64,
    clock_control: bool,
}

impl B {
    fn new() -> B {
        B {
            ops: Vec::new(),
            t: 0,
            clock_control: false,
        }
    }
    fn push(&mut self, name: &str, amount: u64, outcome: Outcome) -> &mut OpRecord {
        self.t += 10;
        let id = self.ops.len() as u64 + 1;
        self.ops.push(OpRecord {
            tenant: "org".into(),
            amount,
            outcome,
            status: None,
            ..OpRecord::sample(id, name, self.t, self.t + 5)
        });
        self.ops.last_mut().unwrap()
    }
    fn order(&mut self, amount: u64, outcome: Outcome) -> &mut Self {
        self.push("order", amount, outcome);
        self
    }
    /// A quiescent snapshot: daily and monthly at these values, `zero` at limit 0.
    fn snap(&mut self, daily: u64, monthly: u64) -> &mut Self {
        self.snap_with(vec![
            r("daily", LIMIT, daily),
            r("monthly", 10 * LIMIT, monthly),
            r("zero", 0, 0),
        ])
    }
    fn snap_with(&mut self, readings: Vec<Reading>) -> &mut Self {
        let o = self.push("list", 0, Outcome::Accepted);
        o.worker = COORDINATOR;
        o.snapshot = Some(readings.into());
        self
    }
    fn clock(&mut self, seconds: u64, outcome: Outcome) -> &mut Self {
        self.clock_control = true;
        self.push("clock", seconds, outcome);
        self
    }
    /// A filtered list read by a worker: `list_daily` answered with these readings
    /// (`None`: not accepted, no readings).
    fn filtered(&mut self, outcome: Outcome, readings: Option<Vec<Reading>>) -> &mut Self {
        let o = self.push("list_daily", 0, outcome);
        o.snapshot = readings.map(Into::into);
        o.status = Some(if outcome == Outcome::Accepted {
            200
        } else {
            400
        });
        self
    }
    /// A list with an unknown filter, answered with this status and class.
    fn unknown_filter(&mut self, outcome: Outcome, status: Option<u16>) -> &mut Self {
        self.push("list_nonsense", 0, outcome).status = status;
        self
    }
    fn judge(&self, id: &str) -> RuleVerdict {
        self.judge_with(id, false)
    }
    /// Judges with the target declaring a list filter (`list_filter: true`).
    fn judge_filtered(&self, id: &str) -> RuleVerdict {
        self.judge_with(id, true)
    }
    fn judge_with(&self, id: &str, list_filter: bool) -> RuleVerdict {
        let mut header = header(self.clock_control);
        header.capabilities.list_filter = list_filter;
        let h = History {
            header,
            ops: self.ops.clone(),
        };
        // The rules alone: the share of indefinite answers a phase may hold is tested on
        // its own (`a_phase_thin_on_definite_answers_passes_nothing`).
        super::roundtrip::judged_both_ways(&h, &[id.to_string()], 1.0).remove(0)
    }
    /// Judged as a run would be, with the default `max_indefinite` of 5 %.
    fn judge_default(&self, id: &str) -> RuleVerdict {
        let h = History {
            header: header(self.clock_control),
            ops: self.ops.clone(),
        };
        super::roundtrip::judged_both_ways(&h, &[id.to_string()], super::DEFAULT_MAX_INDEFINITE)
            .remove(0)
    }
}

fn r(name: &str, limit: u64, consumed: u64) -> Reading {
    Reading::new(name, limit, consumed)
}

fn verdict(b: &B, id: &str) -> Verdict {
    b.judge(id).verdict
}

#[test]
fn over_admission_fails_and_indeterminate_orders_never_prove_it() {
    let mut b = B::new();
    b.snap(90, 90)
        .order(8, Outcome::Accepted)
        .order(5, Outcome::Accepted);
    let v = b.judge("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("103 > quota 100"));
    assert_eq!(v.ops, vec![3]);

    let mut b = B::new();
    b.snap(90, 90)
        .order(8, Outcome::Accepted)
        .order(5, Outcome::Indeterminate);
    assert_eq!(verdict(&b, "limit.never-exceeded"), Verdict::Pass);
}

#[test]
fn accounting_is_exact_or_undecided_when_indeterminate() {
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(6, 6);
    assert_eq!(verdict(&b, "accounting.exact"), Verdict::Fail);

    // Only the quotas the orders draw on are listed: nothing else can be decided.
    let two = |d| vec![r("daily", LIMIT, d), r("monthly", 10 * LIMIT, d)];
    let mut b = B::new();
    b.snap_with(two(0))
        .order(5, Outcome::Accepted)
        .order(1, Outcome::Indeterminate)
        .snap_with(two(6));
    let v = b.judge("accounting.exact");
    assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
    // Outside the range the indeterminate order allows, it is a failure all the same.
    let mut b = B::new();
    b.snap_with(two(0))
        .order(5, Outcome::Accepted)
        .order(1, Outcome::Indeterminate)
        .snap_with(two(7));
    assert_eq!(verdict(&b, "accounting.exact"), Verdict::Fail);

    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(5, 5);
    assert_eq!(verdict(&b, "accounting.exact"), Verdict::Pass);
}

#[test]
fn a_rejection_with_room_is_unjustified_unless_an_indeterminate_order_may_have_filled_it() {
    let mut b = B::new();
    b.snap(50, 50).order(10, Outcome::RejectedQuota);
    assert_eq!(verdict(&b, "limit.rejection-justified"), Verdict::Fail);

    let mut b = B::new();
    b.snap(50, 50)
        .order(45, Outcome::Indeterminate)
        .order(10, Outcome::RejectedQuota);
    assert_eq!(verdict(&b, "limit.rejection-justified"), Verdict::Pass);
}

#[test]
fn a_quota_of_zero_admits_nothing() {
    let mut b = B::new();
    b.snap(0, 0);
    assert_eq!(verdict(&b, "quota.zero-admits-nothing"), Verdict::Skipped);
    b.push("update", 1, Outcome::Accepted);
    let v = b.judge("quota.zero-admits-nothing");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
}

#[test]
fn the_list_must_show_every_quota_with_stable_limits() {
    let mut b = B::new();
    b.snap_with(vec![r("daily", LIMIT, 0), r("monthly", 1000, 0)]);
    let v = b.judge("listing.complete");
    assert_eq!(v.verdict, Verdict::Fail);
    assert!(v.witness.unwrap().contains("zero"));

    let mut b = B::new();
    b.snap(0, 0).snap_with(vec![
        r("daily", 7, 0),
        r("monthly", 1000, 0),
        r("zero", 0, 0),
    ]);
    assert_eq!(verdict(&b, "listing.values"), Verdict::Fail);

    // Daily and monthly are drawn on by the same orders: they move together.
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(5, 4);
    assert_eq!(verdict(&b, "listing.values"), Verdict::Fail);
}

#[test]
fn reset_rules_are_skipped_without_clock_control_or_when_the_hook_refuses() {
    let mut b = B::new();
    b.snap(0, 0);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Skipped);
    b.clock(3600, Outcome::RejectedInvalid);
    let v = b.judge("reset.period-boundary");
    assert_eq!(v.verdict, Verdict::Skipped, "{v:?}");
    assert_eq!(verdict(&b, "listing.filter"), Verdict::Skipped);
}

#[test]
fn a_daily_counter_must_reset_across_midnight_and_a_monthly_one_must_not() {
    // started_at 05:00 UTC on the 21st: +20h crosses midnight, not a month.
    let day = 20 * 3600;
    let mut b = B::new();
    b.snap(40, 40).clock(day, Outcome::Accepted).snap(0, 40);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Pass);
    assert_eq!(verdict(&b, "reset.monthly-not-daily"), Verdict::Pass);

    let mut b = B::new();
    b.snap(40, 40).clock(day, Outcome::Accepted).snap(40, 40);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Fail);

    let mut b = B::new();
    b.snap(40, 40).clock(day, Outcome::Accepted).snap(0, 0);
    assert_eq!(verdict(&b, "reset.monthly-not-daily"), Verdict::Fail);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Pass);

    // Within the day (+1h): a reset is early.
    let mut b = B::new();
    b.snap(40, 40).clock(3600, Outcome::Accepted).snap(0, 40);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Fail);
}

#[test]
fn a_fresh_window_after_a_clock_move_is_judged_from_zero() {
    let day = 20 * 3600;
    let mut b = B::new();
    b.snap(100, 100).clock(day, Outcome::Accepted);
    for _ in 0..3 {
        b.order(40, Outcome::Accepted);
    }
    let v = b.judge("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("2026-11-22"));
}

#[test]
fn a_should_failure_alone_does_not_gate_the_run() {
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(5, 4);
    let v = b.judge("listing.values");
    assert_eq!((v.level, v.verdict), (super::Level::Should, Verdict::Fail));
    assert_eq!(v.gating(), Verdict::Pass);
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(6, 6);
    assert_eq!(b.judge("accounting.exact").gating(), Verdict::Fail);
}

#[test]
fn a_filtered_list_must_show_exactly_the_quota_it_asked_for() {
    let daily = || Some(vec![r("daily", LIMIT, 3)]);
    let mut b = B::new();
    b.snap(3, 3).filtered(Outcome::Accepted, daily());
    assert_eq!(b.judge_filtered("listing.filter").verdict, Verdict::Pass);
    // Without the capability the rule is not exercised, never passed.
    assert_eq!(verdict(&b, "listing.filter"), Verdict::Skipped);

    // The filter ignored: every quota listed.
    let mut b = B::new();
    b.snap(3, 3).filtered(
        Outcome::Accepted,
        Some(vec![r("daily", LIMIT, 3), r("monthly", 10 * LIMIT, 3)]),
    );
    let v = b.judge_filtered("listing.filter");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    let w = v.witness.unwrap();
    assert!(
        w.contains("asked for daily and showed daily, monthly"),
        "{w}"
    );
    assert_eq!(v.ops, vec![2]);

    // Another quota, nothing, or another limit than the full list's.
    for wrong in [
        vec![r("monthly", 10 * LIMIT, 3)],
        vec![],
        vec![r("daily", LIMIT + 1, 3)],
    ] {
        let mut b = B::new();
        b.snap(3, 3)
            .filtered(Outcome::Accepted, Some(wrong.clone()));
        assert_eq!(
            b.judge_filtered("listing.filter").verdict,
            Verdict::Fail,
            "{wrong:?}"
        );
    }

    // A declared filter refused is a failure; no answer at all decides nothing.
    let mut b = B::new();
    b.snap(3, 3).filtered(Outcome::RejectedInvalid, None);
    assert_eq!(b.judge_filtered("listing.filter").verdict, Verdict::Fail);
    let mut b = B::new();
    b.snap(3, 3).filtered(Outcome::Indeterminate, None);
    assert_eq!(b.judge_filtered("listing.filter").verdict, Verdict::Unknown);
}

#[test]
fn a_list_with_an_unknown_filter_must_be_rejected_by_validation() {
    let mut b = B::new();
    b.snap(0, 0)
        .unknown_filter(Outcome::RejectedInvalid, Some(400));
    assert_eq!(
        b.judge_filtered("listing.unknown-filter").verdict,
        Verdict::Pass
    );
    assert_eq!(verdict(&b, "listing.unknown-filter"), Verdict::Skipped);

    for (outcome, status, says) in [
        (Outcome::Accepted, Some(200), "as a success (status 200)"),
        (Outcome::Error, Some(500), "error (status 500)"),
        (
            Outcome::RejectedAuth,
            Some(403),
            "rejected_auth (status 403)",
        ),
    ] {
        let mut b = B::new();
        b.snap(0, 0)
            .unknown_filter(Outcome::RejectedInvalid, Some(400))
            .unknown_filter(outcome, status);
        let v = b.judge_filtered("listing.unknown-filter");
        assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
        let w = v.witness.unwrap();
        assert!(
            w.contains("(an unknown quota type)") && w.contains(says),
            "{w}"
        );
        assert_eq!(v.ops, vec![3]);
    }

    // No answer decides nothing; no such operation at all is not exercised.
    let mut b = B::new();
    b.snap(0, 0).unknown_filter(Outcome::Indeterminate, None);
    assert_eq!(
        b.judge_filtered("listing.unknown-filter").verdict,
        Verdict::Unknown
    );
    let mut b = B::new();
    b.snap(0, 0);
    assert_eq!(
        b.judge_filtered("listing.unknown-filter").verdict,
        Verdict::Skipped
    );
}

// ---- Only definite outcomes decide (issue #12) ----

#[test]
fn rejection_shape_judges_only_definite_refusals() {
    // 95 consumed of 100: an order of 10 must be over quota.
    for no_decision in [
        Outcome::RejectedRate,
        Outcome::NotSent,
        Outcome::Indeterminate,
    ] {
        let mut b = B::new();
        b.snap(95, 95).order(10, no_decision);
        let v = b.judge("limit.rejection-shape");
        assert_ne!(v.verdict, Verdict::Fail, "{no_decision:?}: {v:?}");
    }
    // An error without any status is no answer either (a transport failure).
    let mut b = B::new();
    b.snap(95, 95).order(10, Outcome::Error);
    assert_ne!(verdict(&b, "limit.rejection-shape"), Verdict::Fail);
    // A definite 500 to an order certainly over quota is the wrong shape.
    let mut b = B::new();
    b.snap(95, 95).order(10, Outcome::Error);
    b.ops.last_mut().unwrap().status = Some(500);
    let v = b.judge("limit.rejection-shape");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("500"));
    let mut b = B::new();
    b.snap(95, 95).order(10, Outcome::RejectedQuota);
    let v = b.judge("limit.rejection-shape");
    assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
    assert_eq!(v.evidence.definite, 1);
}

#[test]
fn an_order_indeterminate_before_a_snapshot_may_fill_the_quota_after_it() {
    // #2 of 45 got a gateway timeout but was applied after the snapshot #3 read 50: the
    // refusal of 10 is justified (95 + 10 > 100) and must not be condemned.
    let mut b = B::new();
    b.snap(50, 50)
        .order(45, Outcome::Indeterminate)
        .snap(50, 50)
        .order(10, Outcome::RejectedQuota);
    let v = b.judge("limit.rejection-justified");
    assert_ne!(v.verdict, Verdict::Fail, "{v:?}");
    // Without the indeterminate order the same refusal is unjustified.
    let mut b = B::new();
    b.snap(50, 50)
        .order(45, Outcome::RejectedInvalid)
        .snap(50, 50)
        .order(10, Outcome::RejectedQuota);
    assert_eq!(verdict(&b, "limit.rejection-justified"), Verdict::Fail);
}

#[test]
fn a_late_effect_of_an_indeterminate_order_is_no_accounting_failure() {
    // #2 timed out; its effect shows only between snapshots #4 and #6.
    let mut b = B::new();
    b.snap(0, 0)
        .order(5, Outcome::Indeterminate)
        .snap(0, 0)
        .order(1, Outcome::Accepted)
        .snap(6, 6);
    let v = b.judge("accounting.exact");
    assert_ne!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.evidence.indeterminate > 0, "{v:?}");
    let v = b.judge("rejected.quota-not-counted");
    assert_ne!(v.verdict, Verdict::Fail, "{v:?}");
    // A rise beyond even the late effect still fails.
    let mut b = B::new();
    b.snap(0, 0)
        .order(5, Outcome::Indeterminate)
        .snap(0, 0)
        .order(1, Outcome::Accepted)
        .snap(7, 7);
    assert_eq!(verdict(&b, "accounting.exact"), Verdict::Fail);
}

#[test]
fn rate_limited_and_unsent_orders_count_nowhere() {
    let mut b = B::new();
    b.snap(0, 0)
        .order(5, Outcome::Accepted)
        .order(7, Outcome::RejectedRate)
        .order(9, Outcome::NotSent)
        .snap(5, 5);
    let v = b.judge("accounting.exact");
    assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
    // Counting a rate-limited order is an accounting failure.
    let mut b = B::new();
    b.snap(0, 0)
        .order(5, Outcome::Accepted)
        .order(7, Outcome::RejectedRate)
        .snap(12, 12);
    assert_eq!(verdict(&b, "accounting.exact"), Verdict::Fail);
    // A rate-limited order is no quota rejection to justify.
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::RejectedRate);
    assert_eq!(
        verdict(&b, "limit.rejection-justified"),
        Verdict::Skipped,
        "nothing was rejected as over quota"
    );
}

#[test]
fn auth_without_a_definite_answer_is_unknown_with_the_reason() {
    let mut b = B::new();
    b.snap(0, 0);
    let o = b.push("order", 1, Outcome::NotSent);
    o.op = super::auth::PROBE.into();
    o.note = Some("connection refused".into());
    b.snap(0, 0);
    let v = b.judge("auth.required");
    assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
    assert!(v.witness.unwrap().contains("connection refused"));
    // A definite success without credentials fails.
    let mut b = B::new();
    b.snap(0, 0);
    let o = b.push("order", 1, Outcome::Accepted);
    o.op = super::auth::PROBE.into();
    o.status = Some(201);
    b.snap(1, 1);
    assert_eq!(verdict(&b, "auth.required"), Verdict::Fail);
}

#[test]
fn an_indeterminate_clock_move_leaves_resets_unknown_not_failed() {
    let mut b = B::new();
    b.snap(40, 40)
        .clock(86_400, Outcome::Indeterminate)
        .snap(40, 40);
    let v = b.judge("reset.period-boundary");
    assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
    // The counter did not reset: were the move certain, that would fail; uncertain, the
    // accounting across it is not judged either.
    let v = b.judge("accounting.exact");
    assert_ne!(v.verdict, Verdict::Fail, "{v:?}");
    assert_ne!(v.verdict, Verdict::Pass, "{v:?}");
    let mut b = B::new();
    b.snap(40, 40).clock(86_400, Outcome::Accepted).snap(40, 40);
    assert_eq!(verdict(&b, "reset.period-boundary"), Verdict::Fail);
}

#[test]
fn listed_values_out_of_range_fail_listing_with_the_value() {
    let mut b = B::new();
    b.snap(0, 0);
    b.ops.last_mut().unwrap().note = Some(
        format!(
            "{}item 1 (daily): remaining 250 at /quota is above the limit 100",
            super::listing::OUT_OF_RANGE_NOTE
        )
        .into(),
    );
    let v = b.judge("listing.complete");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("remaining 250"));
}

#[test]
fn a_phase_thin_on_definite_answers_passes_nothing() {
    // 1 indeterminate of 4 operations (25 % > 5 %): the pass turns unknown, and says why.
    let mut b = B::new();
    b.snap(0, 0)
        .order(5, Outcome::Accepted)
        .order(1, Outcome::Indeterminate)
        .snap(5, 5);
    let v = b.judge_default("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Unknown, "{v:?}");
    assert!(v.witness.unwrap().contains("no definite answer"));
    // Interrupted operations are not held against the run.
    let mut b = B::new();
    b.snap(0, 0).order(5, Outcome::Accepted).snap(5, 5);
    b.order(1, Outcome::Indeterminate)
        .ops
        .last_mut()
        .unwrap()
        .note = Some(crate::vocab::INTERRUPTED_NOTE.into());
    let v = b.judge_default("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Pass, "{v:?}");
    // Nothing definite at all: never a pass.
    let mut b = B::new();
    b.order(1, Outcome::NotSent).order(1, Outcome::NotSent);
    let h = History {
        header: header(false),
        ops: b.ops.clone(),
    };
    assert!(super::too_indefinite(&h, 0.05)
        .unwrap()
        .contains("never passes on nothing"));
}
