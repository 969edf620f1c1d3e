//! Scoped quotas judged per parent, and isolation of admission on the main tenant, on
//! small hand-built histories shaped like the Didomi suite: configurations (parents) are
//! created, destinations attached inside them (`exports_destinations`, 2 per parent) and
//! detached; snapshots list each parent's count.

use std::collections::BTreeMap;

use super::{RuleVerdict, Verdict};
use crate::history::{Header, History, OpRecord};
use crate::vocab::COORDINATOR;
use crate::vocab::{Outcome, Reading};

const DESTS: &str = "exports_destinations";
const CFGS: &str = "exports_configs";

fn header() -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": crate::history::HISTORY_VERSION,
        "scenario": "t", "profile": "p", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["a"],
        "quotas": [
            {"name": CFGS, "kind": "concurrent"},
            {"name": DESTS, "kind": "scoped"}
        ],
        "operations": {
            "create": {"kind": "setup"},
            "enable": {"kind": "consume", "touches": [CFGS]},
            "disable": {"kind": "release", "releases": "enable"},
            "attach": {"kind": "consume", "touches": [DESTS]},
            "detach": {"kind": "release", "releases": "attach"},
            "list": {"kind": "list"}
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": false
    }))
    .unwrap()
}

/// A history built step by step; every step takes 10 µs, in sequence unless overlapped.
#[derive(Default)]
struct B {
    ops: Vec<OpRecord>,
    t: u64,
}

impl B {
    fn push(&mut self, name: &str, tenant: &str, outcome: Outcome) -> &mut OpRecord {
        self.t += 10;
        let id = self.ops.len() as u64 + 1;
        self.ops.push(OpRecord {
            tenant: tenant.into(),
            outcome,
            status: None,
            ..OpRecord::sample(id, name, self.t, self.t + 5)
        });
        self.ops.last_mut().unwrap()
    }
    fn create(&mut self, id: &str) -> &mut Self {
        let o = self.push("create", "org", Outcome::Accepted);
        o.object = Some(id.into());
        o.amount = 0;
        self
    }
    fn attach(&mut self, parent: &str, outcome: Outcome) -> &mut Self {
        let n = self.ops.len();
        let o = self.push("attach", "org", outcome);
        o.parent = Some(parent.into());
        o.object = (outcome == Outcome::Accepted).then(|| format!("dst-{n}").into());
        self
    }
    /// `n` attaches in `parent`, all in flight at once (a race).
    fn race(&mut self, parent: &str, n: usize, outcome: Outcome) -> &mut Self {
        let t = self.t + 10;
        for _ in 0..n {
            self.attach(parent, outcome);
            let o = self.ops.last_mut().unwrap();
            (o.sent_us, o.done_us) = (t, t + 50);
        }
        self.t = t + 50;
        self
    }
    fn detach(&mut self, parent: &str, outcome: Outcome) -> &mut Self {
        let o = self.push("detach", "org", outcome);
        o.parent = Some(parent.into());
        o.amount = 0;
        self
    }
    fn op_on(&mut self, name: &str, tenant: &str, outcome: Outcome) -> &mut Self {
        let o = self.push(name, tenant, outcome);
        o.worker = COORDINATOR;
        self
    }
    /// A quiescent snapshot of `tenant`: `cfgs` enabled, and these parents' counts.
    fn snap_of(&mut self, tenant: &str, cfgs: u64, parents: &[(&str, u64)]) -> &mut Self {
        let map: BTreeMap<String, u64> = parents.iter().map(|(p, n)| (p.to_string(), *n)).collect();
        let max = map.values().copied().max().unwrap_or(0);
        let mut d = Reading::new(DESTS, 2, max);
        d.parents = Some(Box::new(map));
        let o = self.push("list", tenant, Outcome::Accepted);
        o.worker = COORDINATOR;
        o.amount = 0;
        o.snapshot = Some(vec![Reading::new(CFGS, 3, cfgs), d].into());
        self
    }
    fn snap(&mut self, parents: &[(&str, u64)]) -> &mut Self {
        self.snap_of("org", 0, parents)
    }
    fn judge(&self, id: &str) -> RuleVerdict {
        let h = History {
            header: header(),
            ops: self.ops.clone(),
        };
        super::roundtrip::judged_both_ways(&h, &[id.to_string()], 1.0).remove(0)
    }
}

#[test]
fn a_race_on_one_parent_over_its_limit_fails_never_exceeded_in_that_parent() {
    let mut b = B::default();
    b.snap(&[]).create("c1").race("c1", 3, Outcome::Accepted);
    let v = b.judge("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    let w = v.witness.unwrap();
    assert!(
        w.contains("exports_destinations in c1") && w.contains("3 active > quota 2"),
        "{w}"
    );
    assert!(w.contains("its creation #2"), "{w}");

    // Spread over two parents, three attaches stay within 2 in each.
    let mut b = B::default();
    b.snap(&[]).create("c1").create("c2");
    b.race("c1", 2, Outcome::Accepted)
        .race("c2", 1, Outcome::Accepted);
    assert_eq!(b.judge("limit.never-exceeded").verdict, Verdict::Pass);
}

#[test]
fn a_parent_listed_before_is_judged_from_its_listed_count_not_from_zero() {
    // c0 was not created by the run: its count comes from the snapshot (1 of 2).
    let mut b = B::default();
    b.snap(&[("c0", 1)]).race("c0", 2, Outcome::Accepted);
    let v = b.judge("limit.never-exceeded");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("baseline 1 from snapshot #1"));
    // Never listed and not created by the run: undecided, not assumed empty.
    let mut b = B::default();
    b.snap(&[]).race("c9", 2, Outcome::Accepted);
    assert_eq!(b.judge("limit.never-exceeded").verdict, Verdict::Unknown);
}

#[test]
fn a_refusal_in_a_parent_with_room_fails_rejection_justified_even_if_another_parent_is_full() {
    // c1 is full (2 of 2), c2 empty: the quota-wide maximum says "full", the parent not.
    let mut b = B::default();
    b.snap(&[("c1", 2), ("c2", 0)])
        .attach("c2", Outcome::RejectedQuota);
    let v = b.judge("limit.rejection-justified");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    let w = v.witness.unwrap();
    assert!(
        w.contains("exports_destinations in c2 had at most 0 of 2"),
        "{w}"
    );

    // Refused in the full parent: justified.
    let mut b = B::default();
    b.snap(&[("c1", 2), ("c2", 0)])
        .attach("c1", Outcome::RejectedQuota);
    assert_eq!(b.judge("limit.rejection-justified").verdict, Verdict::Pass);
    // An indeterminate attach in the same parent may have filled it: not a failure.
    let mut b = B::default();
    b.snap(&[("c2", 1)])
        .attach("c2", Outcome::Indeterminate)
        .attach("c2", Outcome::RejectedQuota);
    assert_eq!(b.judge("limit.rejection-justified").verdict, Verdict::Pass);
}

#[test]
fn a_detach_that_frees_nothing_fails_release_frees_on_the_next_attach_in_its_parent() {
    let run = |refused_after: bool| {
        let mut b = B::default();
        b.snap(&[]).create("c1");
        b.attach("c1", Outcome::Accepted).snap(&[("c1", 1)]);
        b.attach("c1", Outcome::Accepted).snap(&[("c1", 2)]);
        b.detach("c1", Outcome::Accepted).snap(&[("c1", 1)]);
        let next = if refused_after {
            Outcome::RejectedQuota
        } else {
            Outcome::Accepted
        };
        b.attach("c1", next)
            .snap(&[("c1", 1 + u64::from(!refused_after))]);
        b.judge("concurrent.release-frees")
    };
    let v = run(true);
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("did not free its slot"));
    assert_eq!(run(false).verdict, Verdict::Pass);
}

#[test]
fn listings_follow_attaches_and_detaches_in_each_parent() {
    let mut b = B::default();
    b.snap(&[]).create("c1");
    b.attach("c1", Outcome::Accepted).snap(&[("c1", 1)]);
    b.detach("c1", Outcome::Accepted).snap(&[("c1", 0)]);
    b.attach("c1", Outcome::RejectedQuota).snap(&[("c1", 0)]);
    assert_eq!(b.judge("listing.objects").verdict, Verdict::Pass);

    // An attach the listing never shows.
    let mut b = B::default();
    b.snap(&[])
        .create("c1")
        .attach("c1", Outcome::Accepted)
        .snap(&[("c1", 0)]);
    let v = b.judge("listing.objects");
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("from 0 to 0 (+0, expected +1)"));
    // A detach the listing still shows.
    let mut b = B::default();
    b.snap(&[("c1", 1)])
        .detach("c1", Outcome::Accepted)
        .snap(&[("c1", 1)]);
    assert_eq!(b.judge("listing.objects").verdict, Verdict::Fail);
    // A parent the listing does not show (a capped page): undecided, not a failure.
    let mut b = B::default();
    b.snap(&[]).attach("c7", Outcome::Accepted).snap(&[]);
    assert_eq!(b.judge("listing.objects").verdict, Verdict::Unknown);
}

#[test]
fn an_order_on_the_main_tenant_refused_while_the_other_tenant_holds_its_own_fails_isolation() {
    let run = |main: Outcome| {
        let mut b = B::default();
        b.snap_of("other", 0, &[]).snap_of("org", 2, &[]);
        b.op_on("enable", "other", Outcome::Accepted);
        b.op_on("enable", "other", Outcome::Accepted);
        b.op_on("enable", "other", Outcome::Accepted);
        b.snap_of("other", 3, &[]);
        // The main tenant lists 2 of 3: room for one.
        b.snap_of("org", 2, &[])
            .op_on("enable", "org", main)
            .snap_of("org", 3, &[]);
        b.judge("isolation.tenants")
    };
    let v = run(Outcome::RejectedQuota);
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    let w = v.witness.unwrap();
    assert!(
        w.contains("counts another tenant's use") && w.contains("exports_configs 3 of 3"),
        "{w}"
    );
    assert_eq!(run(Outcome::Accepted).verdict, Verdict::Pass);
}

/// The main tenant ordering alone for `rounds` rounds, each a quiescent snapshot and
/// one worker's order: segments of a few records cut this stretch at every round.
fn main_rounds(b: &mut B, rounds: u64) {
    for i in 0..rounds {
        b.snap_of("org", i, &[]);
        b.push("enable", "org", Outcome::Accepted);
    }
    b.snap_of("org", rounds, &[]);
    b.push("enable", "org", Outcome::Accepted);
}

/// Judged whole and in segments of one record, which must be several.
fn judge_cut(b: &B) -> RuleVerdict {
    let v = b.judge("isolation.tenants");
    let h = History {
        header: header(),
        ops: b.ops.clone(),
    };
    let only = ["isolation.tenants".to_string()];
    let s = super::segment::judge_segmented(&h, &only, 1.0, super::SegmentOpts::with_records(1));
    assert!(s.segments > 3, "{} segments", s.segments);
    assert_eq!(s.rules[0].verdict, v.verdict, "{:?}", s.rules[0]);
    v
}

#[test]
fn the_other_tenants_counters_moving_across_a_segment_cut_fail_isolation() {
    let run = |after: u64| {
        let mut b = B::default();
        b.snap_of("other", 1, &[]);
        main_rounds(&mut b, 6);
        b.snap_of("other", after, &[]);
        judge_cut(&b)
    };
    let v = run(2);
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    let w = v.witness.unwrap();
    assert!(w.contains("moved from 1") && w.contains("to 2"), "{w}");
    assert_eq!(run(1).verdict, Verdict::Pass);
}

#[test]
fn the_other_tenants_own_order_before_a_cut_explains_its_counters_after_it() {
    // Its own accepted order lies in an earlier segment than its second snapshot: the
    // move is the order's, not the main tenant's (a segment without the order would
    // blame the main tenant).
    let mut b = B::default();
    b.snap_of("other", 1, &[]);
    b.op_on("enable", "other", Outcome::Accepted);
    main_rounds(&mut b, 6);
    b.snap_of("other", 2, &[]);
    let v = judge_cut(&b);
    assert_ne!(v.verdict, Verdict::Fail, "{v:?}");
}

#[test]
fn an_order_on_the_other_tenant_refused_long_after_its_snapshot_showed_room_fails() {
    let run = |outcome: Outcome| {
        let mut b = B::default();
        b.snap_of("other", 1, &[]);
        main_rounds(&mut b, 6);
        b.op_on("enable", "other", outcome);
        judge_cut(&b)
    };
    let v = run(Outcome::RejectedQuota);
    assert_eq!(v.verdict, Verdict::Fail, "{v:?}");
    assert!(v.witness.unwrap().contains("showed room"));
    assert_eq!(run(Outcome::Accepted).verdict, Verdict::Pass);
}
