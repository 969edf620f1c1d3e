//! Judging a synthetic history with every rule: 100k operations by default; set
//! `QB_BENCH_SIZES=100000,1000000,10000000` for the one-off scaling measurement.
//!
//! The history looks like a long conformance run: 16 workers ordering against a daily
//! and a monthly quota (some accepted, some refused, a few indeterminate), invalid
//! orders, concurrent creates and releases, worker list reads, and a quiescent
//! coordinator snapshot every 10,000 operations.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use quotabench::history::{Header, History, OpRecord};
use quotabench::vocab::COORDINATOR;
use quotabench::vocab::{Outcome, Reading};

fn header() -> Header {
    serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": quotabench::history::HISTORY_VERSION,
        "scenario": "bench", "profile": "adobe-hygiene", "target": "http://127.0.0.1:1",
        "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["load"],
        "quotas": [
            {"name": "daily", "kind": "period", "period": "daily"},
            {"name": "monthly", "kind": "period", "period": "monthly"},
            {"name": "slots", "kind": "concurrent"}
        ],
        "operations": {
            "order": {"kind": "consume", "touches": ["daily", "monthly"]},
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

/// A history of about `n` operations whose counters the checker finds consistent.
fn synthetic(n: usize) -> History {
    // The quota fills about half-way through: the rest of the orders are refused.
    let limit = 15 * n as u64;
    let mut ops = Vec::with_capacity(n);
    let (mut consumed, mut slots, mut t) = (0u64, 0u64, 1_000u64);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let rec = |id: u64, worker: u32, name: &str, amount: u64, t: u64, outcome: Outcome| OpRecord {
        id,
        phase: 0,
        worker,
        op: name.into(),
        name: name.into(),
        tenant: "org".into(),
        amount,
        intended_us: t,
        sent_us: t,
        done_us: t + 300,
        outcome,
        status: Some(201),
        object: None,
        parent: None,
        snapshot: None,
        note: None,
    };
    let readings = |consumed: u64, slots: u64| {
        Some(vec![
            Reading {
                name: "daily".into(),
                limit,
                consumed,
                parents: None,
            },
            Reading {
                name: "monthly".into(),
                limit,
                consumed,
                parents: None,
            },
            Reading {
                name: "slots".into(),
                limit: 50,
                consumed: slots,
                parents: None,
            },
        ])
    };
    let mut id = 0u64;
    while ops.len() < n {
        id += 1;
        if id % 10_000 == 1 {
            // Quiescent: nothing in flight around it.
            t += 1_000;
            let mut s = rec(id, COORDINATOR, "list", 0, t, Outcome::Accepted);
            s.snapshot = readings(consumed, slots).map(Into::into);
            ops.push(s);
            t += 1_000;
            continue;
        }
        let r = next();
        let worker = (r % 16) as u32;
        t += 20;
        let o = match r % 100 {
            0..=59 => {
                let amount = 1 + (r >> 8) % 100;
                let outcome = if consumed + amount > limit {
                    Outcome::RejectedQuota
                } else if (r >> 20) % 50 == 0 {
                    // Unknown to the client; this target did not apply it.
                    Outcome::Indeterminate
                } else {
                    Outcome::Accepted
                };
                if outcome == Outcome::Accepted {
                    consumed += amount;
                }
                rec(id, worker, "order", amount, t, outcome)
            }
            60..=69 => rec(id, worker, "bad", 5, t, Outcome::RejectedInvalid),
            70..=79 if slots < 50 => {
                slots += 1;
                rec(id, worker, "create", 1, t, Outcome::Accepted)
            }
            70..=89 if slots > 0 => {
                slots -= 1;
                rec(id, worker, "cancel", 0, t, Outcome::Accepted)
            }
            _ => {
                let mut l = rec(id, worker, "list", 0, t, Outcome::Accepted);
                l.snapshot = readings(consumed, slots).map(Into::into);
                l
            }
        };
        ops.push(o);
    }
    History {
        header: header(),
        ops,
    }
}

/// The process's peak resident memory so far, in MB (`VmHWM`), where /proc exists.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn sizes() -> Vec<usize> {
    std::env::var("QB_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000])
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("check_history");
    g.sample_size(10);
    for n in sizes() {
        let h = synthetic(n);
        let built = peak_rss_mb();
        let t = std::time::Instant::now();
        // A synthetic history the checker rejects would measure the wrong path.
        let verdicts = quotabench::check::judge(&h, &[]);
        // One-off figures for the scaling table: one judgement's time, and peak memory
        // with the history alone vs after judging (Linux only).
        eprintln!(
            "n={n}: one judgement {:.2}s; peak RSS {built:?} MB with the history, {:?} MB after judging",
            t.elapsed().as_secs_f64(),
            peak_rss_mb()
        );
        assert!(
            verdicts
                .iter()
                .all(|v| v.verdict != quotabench::vocab::Verdict::Fail),
            "{verdicts:#?}"
        );
        g.bench_with_input(BenchmarkId::from_parameter(n), &h, |b, h| {
            b.iter(|| quotabench::check::judge(h, &[]))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
