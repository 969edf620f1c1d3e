//! Judging a synthetic history with every rule: 100k operations by default; set
//! `QB_BENCH_SIZES=100000,1000000,10000000` for the one-off scaling measurement.
//!
//! The history looks like a long conformance run: 16 workers ordering against a daily
//! and a monthly quota (some accepted, some refused, a few indeterminate), invalid
//! orders, concurrent creates and releases, worker list reads, and a quiescent
//! coordinator snapshot every 10,000 operations.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use quotabench::history::{Header, History, HistoryWriter, OpRecord};
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
            Reading::new("daily", limit, consumed),
            Reading::new("monthly", limit, consumed),
            Reading::new("slots", 50, slots),
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

/// What reading history.jsonl costs per record, apart from judging: the synthetic history
/// written once, then read record by record and dropped (JSON parsing alone), and loaded
/// whole in the engine's order (what a run past `QB_HISTORY_IN_MEMORY` and `quotabench
/// check` do before judging). `QB_BENCH_WRITE=PATH` keeps the file, for measuring
/// `quotabench check PATH` under `/usr/bin/time -v`.
fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_history");
    g.sample_size(10);
    for n in sizes() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = std::env::var_os("QB_BENCH_WRITE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| dir.path().join("history.jsonl"));
        let h = synthetic(n);
        let mut w = HistoryWriter::create(&path, &h.header).expect("the history file");
        for o in &h.ops {
            w.append(o).expect("a record written");
        }
        w.finish().expect("the closing line");
        drop(h);
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let t = std::time::Instant::now();
        let mut count = 0u64;
        let r = quotabench::history::stream(&path, |_| Ok(()), |_| count += 1).expect("read");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(r.records, count);
        eprintln!(
            "n={n}: parsed {count} records ({} B each on disk) in {secs:.2}s: {:.0} records/s",
            bytes / count.max(1),
            count as f64 / secs
        );
        // Judged as it streams, in segments cut at quiescent snapshots (what `check`
        // and a run past its in-memory copy do for a history longer than a segment).
        let t = std::time::Instant::now();
        let opts = quotabench::check::SegmentOpts::with_records((n / 10).max(1));
        let judged = quotabench::check::judge_file(&path, &[], 0.05, opts).expect("judged");
        eprintln!(
            "n={n}: judged in {} segments of {} in {:.2}s; peak RSS {:?} MB",
            judged.segments,
            opts.records,
            t.elapsed().as_secs_f64(),
            peak_rss_mb()
        );
        assert!(
            judged
                .rules
                .iter()
                .all(|v| v.verdict != quotabench::vocab::Verdict::Fail),
            "{:#?}",
            judged.rules
        );
        g.bench_with_input(BenchmarkId::new("parse", n), &path, |b, p| {
            b.iter(|| quotabench::history::stream(p, |_| Ok(()), |_| ()).expect("read"))
        });
        g.bench_with_input(BenchmarkId::new("load_in_order", n), &path, |b, p| {
            b.iter(|| quotabench::history::load_in_order(p).expect("load"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, read);
criterion_main!(benches);
