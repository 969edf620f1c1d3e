//! `--max-duration`: a run that would go on stops at its deadline with a partial report
//! and exit 3 (not 130: nobody interrupted it), and an unparsable deadline is a usage
//! error.

use std::time::{Duration, Instant};

use assert_cmd::Command;

const LONG: &str = "name: long
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
phases:
  - name: steady
    workload: {rate: 20/s, duration: 10m, mix: {list: 1}}
";

#[test]
fn a_run_past_its_deadline_stops_with_a_partial_report_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("long.yaml");
    std::fs::write(&s, LONG).unwrap();
    let out = dir.path().join("out");
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["run", "--max-duration", "3s", "--out"])
        .arg(&out)
        .arg(&s)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("deadline"), "the terminal says why: {err}");
    // Ten planned minutes ended near the three-second deadline (generous: a loaded
    // machine, the build and the cleanup are in it; a hang would be 10 minutes).
    assert!(took < Duration::from_secs(90), "took {took:?}");
    let run = crate::common::run_dir(&out);
    let summary = crate::common::summary(&run);
    assert!(
        summary["operations"]["list"]["count"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(!run.join("latency.hlog.partial").exists());
    for f in ["summary.json", "junit.xml", "report.md", "history.jsonl"] {
        assert!(run.join(f).exists(), "{f} written");
    }
}

#[test]
fn a_deadline_without_a_unit_is_a_usage_error() {
    Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args([
            "run",
            "--max-duration",
            "3",
            "scenarios/load/max-throughput.yaml",
        ])
        .assert()
        .code(2);
}
