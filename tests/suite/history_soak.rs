//! A run longer than its in-memory history (QB_HISTORY_IN_MEMORY set far below the
//! run's records, standing in for a soak past the default 3,000,000) is judged from
//! history.jsonl as it streams, in segments (QB_SEGMENT_RECORDS far below too, standing
//! in for a soak of hundreds of millions): verdicts, not unknowns, and the same verdicts
//! as an offline `check` in segments and as `check` judging the file whole.

use assert_cmd::Command;

use crate::common::{rule, run_dir, summary};

/// Three short phases of orders and lists against the bundled fake: each opens with a
/// quiescent snapshot, so the counters are judged between them and the history is cut
/// there (a second or two).
const SCENARIO: &str = "name: soak-in-small\n\
    target:\n  profile: adobe-hygiene\n  headers:\n    Authorization: Bearer local-dev-token\n    x-api-key: local-dev-key\n\
    phases:\n\
    \x20 - name: first\n    workload:\n      concurrency: 4\n      operations: 150\n      mix: {delete_identities: 3, list: 1}\n      amount: 1\n\
    \x20 - name: second\n    workload:\n      concurrency: 4\n      operations: 150\n      mix: {delete_identities: 3, list: 1}\n      amount: 1\n\
    \x20 - name: third\n    workload:\n      concurrency: 4\n      operations: 100\n      mix: {delete_identities: 3, list: 1}\n      amount: 1\n";

/// Records the run may keep in memory: far fewer than it makes.
const CAP: u64 = 10;

/// Records a segment holds before it is cut at the next quiescent snapshot.
const SEGMENT: u64 = 40;

#[test]
fn a_run_past_its_memory_cap_is_judged_from_its_file_with_verdicts_not_unknowns() {
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("soak.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .args(["--seed", "5", "--out"])
        .arg(out.path().join("runs"))
        .env("QB_HISTORY_IN_MEMORY", CAP.to_string())
        .env("QB_SEGMENT_RECORDS", SEGMENT.to_string())
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .get_output()
        .clone();
    let dir = run_dir(&out.path().join("runs"));
    let s = summary(&dir);
    assert_eq!(o.status.code(), Some(0), "summary: {s:#}");
    // Everything is on disk, far more than was kept: the file holds every operation.
    let lines = std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap()
        .lines()
        .count() as u64;
    let counted: u64 = s["operations"]
        .as_object()
        .unwrap()
        .values()
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        lines,
        counted + 2,
        "header + one line per operation + the closing line"
    );
    assert!(counted > 10 * CAP, "{counted} operations");
    // Judged, not given up on: the core rules decided, none turned unknown for length.
    for id in ["limit.never-exceeded", "accounting.exact"] {
        assert_eq!(rule(&s, id)["verdict"], "pass", "{}", rule(&s, id));
    }
    for r in s["rules"].as_array().unwrap() {
        assert_ne!(r["verdict"], "unknown", "{r}");
        let w = r["witness"].as_str().unwrap_or("");
        assert!(!w.contains("in-memory"), "{r}");
    }
    // And judged in segments, not whole: the pass says so.
    let w = rule(&s, "accounting.exact")["witness"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(w.contains("segments cut at quiescent snapshots"), "{w}");
    // The run judged what `check` judges offline: the same verdict, rule by rule.
    for segment in [SEGMENT.to_string(), "3000000".to_string()] {
        let c = Command::cargo_bin("quotabench")
            .unwrap()
            .arg("check")
            .arg(dir.join("history.jsonl"))
            .env("QB_SEGMENT_RECORDS", &segment)
            .output()
            .unwrap();
        assert_eq!(c.status.code(), Some(0));
        let text = String::from_utf8_lossy(&c.stdout).into_owned();
        for r in s["rules"].as_array().unwrap() {
            let word = match r["verdict"].as_str().unwrap() {
                "pass" => "PASS",
                "fail" => "FAIL",
                _ => "SKIP",
            };
            let line = format!(
                "  {word:<8} {:<6} {}  ",
                r["level"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            );
            assert!(
                text.contains(&line),
                "{line:?} not in check's {text} (segments of {segment})"
            );
        }
    }
    // Latency over time and latency.hlog are built as records arrive: they cover every
    // operation whatever the memory cap.
    let per_second: u64 = s["operations"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|o| o["over_time"].as_array().unwrap())
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(per_second, counted);
    let hlog = std::fs::read_to_string(dir.join("latency.hlog")).unwrap();
    assert!(!hlog.contains("PARTIAL"));
}

#[test]
fn a_streamed_run_still_reports_its_error_causes() {
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("soak.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let _ = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .args(["--seed", "5", "--fault", "error-rate", "-q", "--out"])
        .arg(out.path().join("runs"))
        .env("QB_HISTORY_IN_MEMORY", CAP.to_string())
        .env("QB_SEGMENT_RECORDS", SEGMENT.to_string())
        .timeout(std::time::Duration::from_secs(120))
        .assert();
    let dir = run_dir(&out.path().join("runs"));
    let s = summary(&dir);
    // The causes count every unexpected outcome in the file, though the run kept only
    // CAP records in memory (before, a streamed run reported none).
    let unexpected = std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| {
            matches!(
                r["outcome"].as_str(),
                Some("error" | "indeterminate" | "not_sent" | "rejected_rate")
            )
        })
        .count() as u64;
    assert!(unexpected > 0, "the fault injected no errors");
    let causes = s["errors"].as_array().expect("errors");
    let counted: u64 = causes.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, unexpected, "{:#}", s["errors"]);
}

#[test]
fn a_streamed_runs_failures_keep_their_reproduction() {
    let out = tempfile::tempdir().unwrap();
    let scenario = out.path().join("soak.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .args(["--seed", "5", "--fault", "list-lag", "-q", "--out"])
        .arg(out.path().join("runs"))
        .env("QB_HISTORY_IN_MEMORY", CAP.to_string())
        .env("QB_SEGMENT_RECORDS", SEGMENT.to_string())
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .get_output()
        .clone();
    assert_eq!(o.status.code(), Some(1), "the lagging list fails a rule");
    let s = summary(&run_dir(&out.path().join("runs")));
    let failed: Vec<_> = s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "fail")
        .collect();
    assert!(!failed.is_empty(), "{s:#}");
    // The record a failure cites was in a segment long judged and dropped: the checker
    // kept it, so the report still shows the request to send again.
    for r in failed {
        assert!(
            r["reproduce"]
                .as_str()
                .is_some_and(|c| c.starts_with("curl")),
            "{}: no reproduction: {r:#}",
            r["id"]
        );
    }
}
