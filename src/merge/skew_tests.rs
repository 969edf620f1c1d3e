//! Injected clock skew: a shard whose recorded offset is wrong by more than the true
//! error of a careful estimate. Judged with a bound that covers the skew, the merged
//! history gives no false verdict; claimed exact (bound 0), the same records are
//! misplaced and `limit.never-exceeded` fails falsely — which is why the bound exists.

use std::path::Path;

use super::align::line_up;
use crate::check::judge_with;
use crate::history::{Header, History, OpRecord, ShardInfo};
use crate::vocab::{Reading, Verdict, COORDINATOR};

fn header(started_at: &str) -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": crate::history::HISTORY_VERSION,
        "scenario": "t", "profile": "p", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": started_at, "phases": ["a"],
        "quotas": [{"name": "daily", "kind": "period", "period": "daily"}],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily"]},
            "list": {"kind": "list"}
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": false
    }))
    .unwrap()
}

fn op(id: u64, name: &str, amount: u64, sent: u64, done: u64) -> OpRecord {
    OpRecord {
        tenant: "org".into(),
        amount,
        ..OpRecord::sample(id, name, sent, done)
    }
}

fn snap(id: u64, consumed: u64, sent: u64, done: u64) -> OpRecord {
    let mut o = op(id, "list", 0, sent, done);
    o.worker = COORDINATOR;
    o.snapshot = Some(vec![Reading::new("daily", 10, consumed)].into());
    o
}

fn shard(index: u32, offset_us: i64, bound_us: u64) -> ShardInfo {
    ShardInfo {
        index,
        count: 2,
        offset_us,
        bound_us,
        source: "test".into(),
        max_indefinite: 0.05,
    }
}

/// The truth, on the target's clock from 05:00:00: shard 2 orders 8 units at +0.5 ms,
/// before shard 1's first snapshot (+1 ms, which lists the 8); shard 1 then orders 2
/// (+10 ms) and lists 10 (+20 ms): 10 of 10, no over-admission. Shard 2's machine runs
/// 300 ms behind the target, so its true offset is +300 ms; its header says `offset`.
fn judged(offset: i64, bound: u64) -> Verdict {
    let one = History {
        header: header("2026-11-21T05:00:00Z"),
        ops: vec![
            snap(1, 8, 1_000, 2_000),
            op(2, "order", 2, 10_000, 11_000),
            snap(3, 10, 20_000, 21_000),
        ],
    };
    let two = History {
        header: header("2026-11-21T04:59:59.700Z"),
        ops: vec![op(1, "order", 8, 500, 900)],
    };
    let (s1, s2) = (shard(1, 0, bound), shard(2, offset, bound));
    let lined = line_up(&[(Path::new("one"), &one, &s1), (Path::new("two"), &two, &s2)]).unwrap();
    let rules = judge_with(&lined.judged, &[], 0.05);
    let limit = rules
        .iter()
        .find(|r| r.id == "limit.never-exceeded")
        .unwrap();
    if bound > 0 {
        // With the bound, no rule at all is misled.
        for r in &rules {
            assert_ne!(r.verdict, Verdict::Fail, "{}: {:?}", r.id, r.witness);
        }
    }
    limit.verdict
}

#[test]
fn a_true_offset_places_every_record_right() {
    assert_eq!(judged(300_000, 0), Verdict::Pass);
}

#[test]
fn a_skewed_offset_claimed_exact_misplaces_an_order_and_fails_falsely() {
    // 300 ms off: shard 2's order lands after shard 1's first snapshot, counted twice.
    assert_eq!(judged(600_000, 0), Verdict::Fail);
}

#[test]
fn a_skewed_offset_within_its_bound_gives_no_false_verdict() {
    // The same skew with a 400 ms bound: the orders overlap the baseline snapshot, so
    // whether they are in its count is undecided — unknown, neither fail nor a pass
    // resting on orders it could not place.
    assert_eq!(judged(600_000, 400_000), Verdict::Unknown);
    // And a skew the other way (shard 2 placed too early) likewise.
    assert_ne!(judged(0, 400_000), Verdict::Fail);
}
