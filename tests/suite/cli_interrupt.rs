//! Ctrl-C stops gracefully: in-flight requests finish or are recorded indeterminate, the
//! partial report is written whole, and the exit code is 130.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;

const SCENARIO: &str = "name: long-run
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
phases:
  - name: steady
    workload: {rate: 100/s, duration: 60s, concurrency: 4, mix: {list: 1, delete_identities: 1}, amount: 1}
  - name: never-reached
    workload: {operations: 10, mix: {list: 1}}
";

#[test]
fn an_interrupted_run_writes_its_partial_report_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("long.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run has begun writing its history, then interrupt it.
    let started = Instant::now();
    loop {
        let history = std::fs::read_dir(&out)
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path().join("history.jsonl"));
        if history.is_some_and(|h| std::fs::metadata(h).is_ok_and(|m| m.len() > 2_000)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            Instant::now() < deadline,
            "the run did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(130));
    let run = common::run_dir(&out);
    let summary = common::summary(&run);
    assert_eq!(summary["interrupted"], true);
    assert!(
        summary["operations"]["list"]["count"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert_eq!(
        summary["phases"].as_array().unwrap().len(),
        1,
        "the second phase never ran"
    );
    // Every history line is whole JSON: nothing half-written.
    let h = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    for line in h.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
    }
    let leftovers: Vec<_> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
