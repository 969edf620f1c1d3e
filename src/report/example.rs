//! A small, complete, deterministic run: history, recorder and report built through the
//! same functions a real run uses. Tests, docs and exporter previews read it.

use crate::check::{Level, RuleVerdict};
use crate::history::{Header, History, OpRecord};
use crate::metrics::Recorder;
use crate::vocab::PhaseStats;
use crate::vocab::Verdict;
use crate::vocab::{Outcome, Reading};

use super::{op_stats, LineOn, Report, TargetInfo, ThresholdLine, ThresholdResult, SCHEMA_VERSION};

/// Seconds the example run lasts.
pub const EXAMPLE_SECONDS: u64 = 20;

fn header() -> Header {
    let v = serde_json::json!({
        "type": "header",
        "history_version": crate::history::HISTORY_VERSION,
        "scenario": "example",
        "profile": "adobe",
        "target": "http://127.0.0.1:9",
        "tenant": "org-1",
        "started_at": "2026-01-01T00:00:00Z",
        "phases": ["warmup", "steady"],
        "quotas": [],
        "operations": {},
        "capabilities": {},
        "clock_control": true
    });
    // A literal built to match the type: a failure here is a bug in this file.
    serde_json::from_value(v).expect("example header matches the Header type")
}

/// A 20-second history: `consume` at 40/s with a 1.5 s stall at second 12 (latency from
/// the schedule soars while service time stays small), `list` at 5/s reading a quota
/// that resets at second 10.
pub fn example_history() -> History {
    let mut ops = Vec::new();
    let mut id = 0u64;
    let mut push = |op: &str, intended: u64, sent: u64, done: u64, outcome, snapshot| {
        id += 1;
        ops.push(OpRecord {
            id,
            phase: u32::from(intended >= 5_000_000),
            worker: if op == crate::vocab::SNAPSHOT {
                crate::vocab::COORDINATOR
            } else {
                (id % 4) as u32
            },
            op: op.into(),
            name: op.into(),
            tenant: "org-1".into(),
            amount: 1,
            intended_us: intended,
            sent_us: sent,
            done_us: done,
            outcome,
            status: Some(200),
            object: None,
            parent: None,
            snapshot,
            note: None,
        });
    };
    // The coordinator's quiescent snapshots opening each phase and closing the run:
    // internal operations, reported apart from the workload. They read two quotas a
    // chart should not draw as is: one with a limit of 0, one never used.
    for at in [1_000u64, 5_000_000, 19_990_000] {
        let snap = vec![
            Reading::new("orders/month", 0, 0),
            Reading::new("exports/day", 50, 0),
        ];
        push(
            "snapshot",
            at,
            at,
            at + 1_200,
            Outcome::Accepted,
            Some(snap.into()),
        );
    }
    let stall = 12_000_000..13_500_000u64;
    let mut consumed = 0u64;
    for n in 0..(EXAMPLE_SECONDS * 40) {
        let intended = n * 25_000;
        // Deterministic jitter: 2–9 ms service time.
        let service = 2_000 + (n * 7919 % 7_000);
        let sent = if stall.contains(&intended) {
            stall.end
        } else {
            intended + 50
        };
        let outcome = if n % 50 == 49 {
            Outcome::RejectedQuota
        } else if n == 333 {
            Outcome::Indeterminate
        } else {
            Outcome::Accepted
        };
        push("consume", intended, sent, sent + service, outcome, None);
    }
    for n in 0..(EXAMPLE_SECONDS * 5) {
        let intended = n * 200_000 + 3_000;
        if (10_000_000..10_200_000).contains(&intended) {
            consumed = 0; // the period reset
        }
        consumed += 8;
        let service = 800 + (n * 31 % 900);
        // A limit that dwarfs the use (600,000 against at most 800): drawn to scale,
        // the use would be a flat line on the axis.
        let snap = vec![
            Reading::new("orders/day", 120, consumed.min(120)),
            Reading::new("records/day", 600_000, 8 * n),
        ];
        push(
            "list",
            intended,
            intended + 20,
            intended + 20 + service,
            Outcome::Accepted,
            Some(snap.into()),
        );
    }
    ops.sort_by_key(|o| o.done_us);
    History {
        header: header(),
        ops,
    }
}

/// The report of [`example_history`]: every verdict kind, a witness full of characters
/// that need escaping, two thresholds and two phases.
pub fn example() -> Report {
    let h = example_history();
    let labels = vec![
        "consume".to_string(),
        "list".to_string(),
        crate::vocab::SNAPSHOT.to_string(),
    ];
    let mut rec = Recorder::new(labels.clone());
    for o in &h.ops {
        let i = rec.label_index(&o.op).unwrap_or(0);
        rec.record(
            i,
            o.outcome,
            o.done_us.saturating_sub(o.intended_us),
            o.done_us.saturating_sub(o.sent_us),
            (o.done_us / 1_000_000) as usize,
        );
    }
    let seconds = EXAMPLE_SECONDS as f64;
    let mut intervals = crate::metrics::intervals::Intervals::new(None);
    for o in &h.ops {
        intervals.record(o.op, o.done_us, o.done_us.saturating_sub(o.intended_us));
    }
    let over_time = intervals
        .finish()
        .expect("no log, so nothing to fail writing");
    let rule =
        |id: &str, level, verdict, witness: Option<&str>, reproduce: Option<&str>| RuleVerdict {
            id: id.into(),
            level,
            verdict,
            witness: witness.map(String::from),
            ops: if witness.is_some() {
                vec![812, 813]
            } else {
                vec![]
            },
            phase: (verdict == Verdict::Fail).then(|| "steady".into()),
            reproduce: reproduce.map(String::from),
            evidence: crate::check::Evidence {
                definite: u64::from(verdict != Verdict::Skipped) * 3,
                indeterminate: u64::from(verdict == Verdict::Unknown),
            },
        };
    Report {
        schema_version: SCHEMA_VERSION,
        scenario: "example".into(),
        verdict: Verdict::Fail,
        interrupted: false,
        started_at: h.header.started_at.clone(),
        duration_s: seconds,
        target: TargetInfo {
            url: "http://127.0.0.1:9".into(),
            bundled_fake: true,
            faults: vec!["overshoot=2".into()],
            profile: "adobe".into(),
            tenant: "org-1".into(),
            implementation: Some(crate::vocab::Implementation {
                name: "Example Quota Service".into(),
                version: Some("1.2.3".into()),
            }),
            clock_control: true,
            insecure: false,
            proxy: None,
            time: Some("read from the target (read_clock)".into()),
            capabilities: Some(crate::vocab::Capabilities::default()),
        },
        rules: vec![
            rule("limits.never-exceeded", Level::Must, Verdict::Pass, None, None),
            rule(
                "limits.reject-when-full",
                Level::Must,
                Verdict::Fail,
                Some("#812 accepted 5 units of \"orders/day\" at consumed=118/120 <script>alert('x')</script> & more"),
                Some("curl -X POST 'http://127.0.0.1:9/orders?a=1&b=2' -H 'Authorization: ***' -d '{\"qty\":5}'"),
            ),
            rule(
                "resets.on-period-boundary",
                Level::Should,
                Verdict::Unknown,
                Some("#900 timed out across the boundary; cannot tell if it counted"),
                None,
            ),
            rule(
                "listing.filter",
                Level::Should,
                Verdict::Skipped,
                Some("the profile declares no list filter"),
                None,
            ),
        ],
        thresholds: vec![
            ThresholdResult {
                threshold: "p99(list) < 50ms".into(),
                verdict: Verdict::Pass,
                value: Some(1_650.0),
                measured: Some("1.65 ms".into()),
                line: Some(ThresholdLine {
                    op: "list".into(),
                    on: LineOn::Latency,
                    bound: 50_000.0,
                }),
            },
            ThresholdResult {
                threshold: "p99(consume) < 20ms".into(),
                verdict: Verdict::Fail,
                value: Some(1_400_000.0),
                measured: Some("1.40 s".into()),
                line: Some(ThresholdLine {
                    op: "consume".into(),
                    on: LineOn::Latency,
                    bound: 20_000.0,
                }),
            },
        ],
        operations: op_stats(&rec, &over_time, seconds, &h.header),
        phases: vec![
            PhaseStats {
                name: "warmup".into(),
                seconds: 5.0,
                operations: 225,
                asked_rate: Some(45.0),
                achieved_rate: Some(45.0),
                late: 0,
                dropped: 0,
                amounts: [("consume".to_string(), 1)].into_iter().collect(),
                started_s: Some(0.0),
            },
            PhaseStats {
                name: "steady".into(),
                seconds: 15.0,
                operations: 675,
                asked_rate: Some(45.0),
                achieved_rate: Some(45.0),
                late: 60,
                dropped: 0,
                amounts: [("consume".to_string(), 1)].into_iter().collect(),
                started_s: Some(5.0),
            },
        ],
        quotas: {
            let mut q = crate::metrics::quota_series::QuotaSeries::new(&h.header.tenant);
            h.ops.iter().for_each(|o| q.record(o));
            q.finish()
        },
        errors: crate::report::errors::causes(&h).0,
        errors_left_off: 0,
        plan: None,
        banners: Vec::new(),
        history_write: None,
    }
}
