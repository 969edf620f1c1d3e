//! Ctrl-C stops gracefully: in-flight requests finish or are recorded indeterminate, the
//! partial report is written whole, and the exit code is 130.

use std::time::Duration;

use crate::common;
use crate::signals::{kill, start, wait_exit, wait_started};

#[test]
fn an_interrupted_run_writes_its_partial_report_and_exits_130() {
    // The run and signal helpers are the signal tests' (SIGTERM and SIGHUP stop the
    // same way): start, wait for history, signal, wait for the exit.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, out) = start(dir.path(), &[]);
    wait_started(&mut child, &out);
    kill(&child, "INT");
    let code = wait_exit(&mut child, Duration::from_secs(30));
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
