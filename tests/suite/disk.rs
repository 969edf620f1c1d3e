//! A failed history write (a full disk, a file size limit) stops the run at once with a
//! message naming the file and saying where it stopped (how many whole records the file
//! holds), exit 2; the file is cut back to whole lines, and holds exactly the records the
//! message says. The report says it too (summary.json `history_write`, a banner in
//! report.md); a report file that cannot be written is named, never left half-written.
//!
//! The full disk needs a small tmpfs: mounted when this runs as root, else skipped with
//! the reason printed. A full disk leaves no room for the report either, so the report's
//! own test stops only the history: a file size limit (`ulimit -f`) that the history
//! outgrows and the small report files do not.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const SCENARIO: &str = "name: fills-the-disk
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
phases:
  - name: steady
    workload: {rate: 500/s, duration: 60s, concurrency: 4, mix: {list: 1, delete_identities: 1}, amount: 1}
";

/// The report's files (src/report/export).
const REPORT_FILES: &[&str] = &["summary.json", "junit.xml", "report.md", "report.html"];

/// Lines of a history, each ending in a newline (a torn last line fails the test).
fn whole_lines(history: &[u8]) -> u64 {
    assert_eq!(
        history.last(),
        Some(&b'\n'),
        "the history ends in a torn line"
    );
    history.iter().filter(|b| **b == b'\n').count() as u64
}

/// The record count the terminal message states: "the file holds its header and N whole
/// records (lines 2 to N+1)".
fn said_on_the_terminal(err: &str) -> u64 {
    err.split("the file holds its header and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no record count in:\n{err}"))
}

/// Each report file is either there or named on the terminal as not written; no
/// temporary is left behind.
fn report_files_whole_or_named(run: &Path, names: &[String], err: &str) {
    for f in REPORT_FILES {
        let there = names.iter().any(|n| n == f);
        let named = err.contains("report file not written: ")
            && err.contains(&*run.join(f).to_string_lossy());
        assert!(there || named, "{f}: neither written nor named:\n{err}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with(".partial-") || n.ends_with(".partial")),
        "a half-written file was left: {names:?}"
    );
}

fn run(scenario: &Path, out: &Path, wrap: Option<&str>) -> (Output, Duration) {
    let started = Instant::now();
    let bin = env!("CARGO_BIN_EXE_quotabench");
    let mut c = match wrap {
        // bash: `ulimit -f` counts KiB; SIGXFSZ ignored, so a write past the limit
        // fails (EFBIG) instead of killing the process.
        Some(script) => {
            let mut c = Command::new("bash");
            c.args(["-c", &format!("{script}; exec \"$0\" \"$@\""), bin]);
            c
        }
        None => Command::new(bin),
    };
    let o = c
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (o, started.elapsed())
}

#[test]
fn a_full_disk_stops_the_run_at_once_naming_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a 256 KiB tmpfs here (not root, or no mount)");
        return;
    }
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let (o, took) = run(&scenario, &mnt.join("out"), None);
    // Read before unmounting (the tmpfs takes its files with it); a panic here would
    // leave the mount behind.
    let found = std::panic::catch_unwind(|| {
        let run = crate::common::run_dir(&mnt.join("out"));
        let names: Vec<String> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        (std::fs::read(run.join("history.jsonl")).ok(), run, names)
    });
    let _ = Command::new("umount").arg(&mnt).status();
    let (history, run, names) = found.expect("the run folder");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("history.jsonl"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    let said = said_on_the_terminal(&err);
    assert!(said > 0, "{err}");
    let lines = whole_lines(&history.expect("the history"));
    assert_eq!(
        lines,
        said + 1,
        "the message says {said} records; the file has {lines} lines"
    );
    // The disk is full for the report too: each file is whole or named as not written.
    report_files_whole_or_named(&run, &names, &err);
    assert!(
        took < Duration::from_secs(30),
        "ran on for {took:?} after the disk filled"
    );
}

#[test]
fn a_history_that_stops_growing_is_reported_with_where_it_stopped() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        eprintln!("skipped: no bash here for `ulimit -f`");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    // 192 KiB: past a few of the writer's 64 KiB writes, above every report file.
    let (o, took) = run(&scenario, &out, Some("trap '' XFSZ; ulimit -f 192"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("File too large"), "{err}");
    let run = crate::common::run_dir(&out);
    let history = std::fs::read(run.join("history.jsonl")).unwrap();
    let lines = whole_lines(&history);
    assert_eq!(said_on_the_terminal(&err) + 1, lines, "{err}");

    let s = crate::common::summary(&run);
    let w = &s["history_write"];
    assert_eq!(w["records_written"], lines - 1, "{w}");
    assert_eq!(w["last_whole_line"], lines, "{w}");
    assert_eq!(w["cut"], true, "{w}");
    assert!(w["records_lost"].as_u64().unwrap() > 0, "{w}");
    assert!(
        w["os_error"].as_str().unwrap().contains("File too large"),
        "{w}"
    );
    assert!(
        w["file"].as_str().unwrap().ends_with("history.jsonl"),
        "{w}"
    );
    // No verdict rests on the lost records: never a pass, each rule unknown (or skipped).
    assert_ne!(s["verdict"], "pass", "{s}");
    for r in s["rules"].as_array().unwrap() {
        assert!(
            r["verdict"] == "unknown" || r["verdict"] == "skipped",
            "a verdict on a history that lost records: {r}"
        );
    }
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(md.contains("History write failed"), "{md}");
    assert!(
        md.contains(&format!("its last whole line is line {lines} ")),
        "{md}"
    );
    let names: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    report_files_whole_or_named(&run, &names, &err);
    assert!(
        took < Duration::from_secs(30),
        "ran on for {took:?} after the history stopped"
    );
}
