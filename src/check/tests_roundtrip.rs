//! Generated histories of varied shape judged both ways (in memory, and read back from
//! history.jsonl as a run that outgrew its in-memory copy reads it): the same verdicts
//! and witnesses, rule by rule. The hand-built histories of the rule tests go through
//! the same comparison (`roundtrip::judged_both_ways`).

use super::roundtrip::{judged_both_ways, round_trip};
use super::{judge_with, Verdict, DEFAULT_MAX_INDEFINITE};
use crate::history::{Header, History, OpRecord};
use crate::vocab::{Outcome, Reading, COORDINATOR};

fn header(phases: usize) -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": crate::history::HISTORY_VERSION,
        "scenario": "gen", "profile": "p", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": "2026-11-21T05:00:00Z",
        "phases": (0..phases).map(|p| format!("p{p}")).collect::<Vec<_>>(),
        "quotas": [
            {"name": "daily", "kind": "period", "period": "daily"},
            {"name": "monthly", "kind": "period", "period": "monthly"},
            {"name": "slots", "kind": "concurrent"}
        ],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily", "monthly"]},
            "bad": {"kind": "consume_invalid", "reason": "a negative amount"},
            "create": {"kind": "consume", "touches": ["slots"]},
            "cancel": {"kind": "release", "releases": "create"},
            "clock": {"kind": "advance_clock"},
            "list": {"kind": "list"}
        },
        "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
        "clock_control": true
    }))
    .expect("a valid header")
}

/// The shape of a generated history.
#[derive(Debug, Clone, Copy)]
struct Shape {
    seed: u64,
    ops: usize,
    phases: usize,
    /// A coordinator snapshot every this many operations.
    snap_every: usize,
    /// Out of 1000 orders, how many get no definite answer.
    indeterminate: u64,
    /// The target over-admits (accepts past the limit) and lists it.
    over_admits: bool,
    /// Operations overlap (long, varied latencies: arrival order is not time order).
    overlap: bool,
    /// Another tenant's orders and snapshots are mixed in.
    other_tenant: bool,
    /// Clock moves by the coordinator between snapshots.
    clock_moves: bool,
}

fn generate(s: Shape) -> History {
    let mut rng = s.seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // The orders fill the quota about two thirds of the way through: refusals follow.
    let limit = 12 * s.ops as u64;
    let (mut consumed, mut slots, mut other_consumed, mut t) = (0u64, 0u64, 0u64, 1_000u64);
    let mut ops: Vec<OpRecord> = Vec::new();
    let rec = |id: u64, phase: u32, worker: u32, name: &str, amount: u64, sent: u64, took: u64| {
        OpRecord {
            phase,
            worker,
            tenant: "org".into(),
            amount,
            ..OpRecord::sample(id, name, sent, sent + took)
        }
    };
    let readings = |consumed: u64, slots: u64| {
        vec![
            Reading::new("daily", limit, consumed),
            Reading::new("monthly", limit, consumed),
            Reading::new("slots", 20, slots),
        ]
    };
    let mut id = 0u64;
    let mut live: Vec<String> = Vec::new();
    for i in 0..s.ops {
        id += 1;
        let phase = (i * s.phases / s.ops) as u32;
        if i % s.snap_every == 0 {
            // Quiescent: later than everything before it, earlier than everything after.
            t = ops.iter().map(|o| o.done_us).max().unwrap_or(t) + 500;
            let mut o = rec(id, phase, COORDINATOR, "list", 0, t, 200);
            o.snapshot = Some(readings(consumed, slots).into());
            ops.push(o);
            t += 700;
            if s.other_tenant {
                id += 1;
                let mut o = rec(id, phase, COORDINATOR, "list", 0, t, 100);
                o.tenant = "org-b".into();
                o.snapshot = Some(vec![Reading::new("daily", limit, other_consumed)].into());
                ops.push(o);
                t += 300;
            }
            if s.clock_moves && next() % 3 == 0 {
                id += 1;
                ops.push(rec(id, phase, COORDINATOR, "clock", 3_600, t, 50));
                t += 200;
            }
            continue;
        }
        let r = next();
        let worker = (r % 8) as u32;
        t += 15 + r % 20;
        let took = if s.overlap {
            50 + (r >> 12) % 2_000
        } else {
            10
        };
        let mut o = match r % 100 {
            0..=54 => {
                let amount = 1 + (r >> 8) % 60;
                let mut o = rec(id, phase, worker, "order", amount, t, took);
                if (r >> 24) % 1000 < s.indeterminate {
                    o.outcome = Outcome::Indeterminate;
                    o.status = Some(504);
                    o.note = Some("gateway timeout".into());
                } else if consumed + amount > limit && !s.over_admits {
                    o.outcome = Outcome::RejectedQuota;
                    o.status = Some(429);
                } else {
                    consumed += amount;
                }
                o
            }
            55..=62 => {
                let mut o = rec(id, phase, worker, "bad", 3, t, took);
                o.outcome = Outcome::RejectedInvalid;
                o.status = Some(400);
                o
            }
            63..=72 if slots < 20 => {
                slots += 1;
                let mut o = rec(id, phase, worker, "create", 1, t, took);
                o.object = Some(format!("obj-{id}").into());
                live.push(format!("obj-{id}"));
                o.status = Some(201);
                o
            }
            63..=82 if !live.is_empty() => {
                slots -= 1;
                let mut o = rec(id, phase, worker, "cancel", 0, t, took);
                o.object = Some(live.remove((r as usize >> 5) % live.len()).into());
                o.status = Some(204);
                o
            }
            83..=87 if s.other_tenant => {
                let mut o = rec(id, phase, worker, "order", 2, t, took);
                o.tenant = "org-b".into();
                other_consumed += 2;
                o
            }
            _ => {
                let mut o = rec(id, phase, worker, "list", 0, t, took);
                // A worker's read while orders are in flight: within what could be seen.
                o.snapshot = Some(readings(consumed, slots).into());
                o
            }
        };
        if r % 997 == 0 {
            o.outcome = Outcome::Error;
            o.status = None;
            o.note = Some("connection refused".into());
        }
        ops.push(o);
    }
    id += 1;
    t = ops.iter().map(|o| o.done_us).max().unwrap_or(t) + 500;
    let mut o = rec(id, s.phases as u32 - 1, COORDINATOR, "list", 0, t, 200);
    o.snapshot = Some(readings(consumed, slots).into());
    ops.push(o);
    // Arrival order: by completion, as the engine's collector receives them.
    ops.sort_by_key(|o| (o.done_us, o.id));
    History {
        header: header(s.phases),
        ops,
    }
}

fn shapes() -> Vec<Shape> {
    let base = Shape {
        seed: 1,
        ops: 600,
        phases: 1,
        snap_every: 50,
        indeterminate: 0,
        over_admits: false,
        overlap: false,
        other_tenant: false,
        clock_moves: false,
    };
    vec![
        base,
        Shape {
            seed: 2,
            phases: 3,
            snap_every: 7,
            ..base
        },
        Shape {
            seed: 3,
            indeterminate: 30,
            overlap: true,
            ..base
        },
        Shape {
            seed: 4,
            over_admits: true,
            ops: 2_000,
            ..base
        },
        Shape {
            seed: 5,
            other_tenant: true,
            clock_moves: true,
            phases: 2,
            snap_every: 13,
            ..base
        },
        Shape {
            seed: 6,
            indeterminate: 200,
            overlap: true,
            other_tenant: true,
            snap_every: 1_000,
            ..base
        },
        Shape {
            seed: 7,
            ops: 3,
            snap_every: 1,
            ..base
        },
    ]
}

#[test]
fn generated_histories_are_judged_alike_in_memory_and_from_their_file() {
    let mut seen = std::collections::BTreeSet::new();
    for s in shapes() {
        let h = generate(s);
        let verdicts = judged_both_ways(&h, &[], DEFAULT_MAX_INDEFINITE);
        let lenient = judged_both_ways(&h, &[], 1.0);
        for v in verdicts.iter().chain(&lenient) {
            seen.insert(format!("{:?}", v.verdict));
        }
    }
    // The shapes reach every kind of verdict, so agreement is over each of them.
    for want in ["Pass", "Fail", "Unknown", "Skipped"] {
        assert!(seen.contains(want), "no {want} among {seen:?}");
    }
}

#[test]
fn an_over_admission_is_failed_from_the_file_too() {
    let h = generate(Shape {
        over_admits: true,
        ops: 2_000,
        seed: 4,
        ..shapes()[0]
    });
    let v = judged_both_ways(&h, &["limit.never-exceeded".to_string()], 1.0);
    assert_eq!(v[0].verdict, Verdict::Fail, "{v:?}");
}

#[test]
fn fields_a_newer_writer_adds_are_read_past_not_refused() {
    // The `shard` work adds an optional field to records and shard details to the
    // header: a reader that refused them would fail every merged history.
    let h = generate(shapes()[1]);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.jsonl");
    let wider = dir.path().join("wider.jsonl");
    let mut w = crate::history::HistoryWriter::create(&plain, &h.header).unwrap();
    for o in &h.ops {
        w.append(o).unwrap();
    }
    w.finish().unwrap();
    let text = std::fs::read_to_string(&plain).unwrap();
    let mut out = String::new();
    for (k, line) in text.lines().enumerate() {
        if line.starts_with("{\"type\":\"end\"") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        if k == 0 {
            // A field no writer knows yet (the real `shards` list is typed).
            v["added_later"] = serde_json::json!({"of": 4, "clock_uncertainty_us": 50_000});
        } else {
            v["shard"] = serde_json::json!(k % 4 + 1);
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    std::fs::write(&wider, out).unwrap();
    let (back, warnings) = crate::history::load_in_order(&wider).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(back.ops.len(), h.ops.len());
    assert_eq!(
        judge_with(&back, &[], 1.0),
        judge_with(&round_trip(&h), &[], 1.0)
    );
}
