//! A failed history write (a full disk) stops the run at once with a message naming
//! the file and saying where it stopped (how many whole records the file holds), exit
//! 2; the file is cut back to whole lines, and holds exactly the records the message
//! says. Needs a small tmpfs: mounted when this runs as root, else skipped with the
//! reason printed.

use std::process::Command;
use std::time::{Duration, Instant};

const SCENARIO: &str = "name: fills-the-disk
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
phases:
  - name: steady
    workload: {rate: 500/s, duration: 60s, concurrency: 4, mix: {list: 1, delete_identities: 1}, amount: 1}
";

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
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(mnt.join("out"))
        .output()
        .unwrap();
    let took = started.elapsed();
    // Read before unmounting (the tmpfs takes its files with it); a panic here would
    // leave the mount behind.
    let history = std::panic::catch_unwind(|| crate::common::run_dir(&mnt.join("out")))
        .ok()
        .and_then(|run| std::fs::read(run.join("history.jsonl")).ok());
    let _ = Command::new("umount").arg(&mnt).status();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("history.jsonl"), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    // Where it stopped: "the file holds its header and N whole records (lines 2 to N+1)".
    let said: u64 = err
        .split("the file holds its header and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no record count in:\n{err}"));
    assert!(said > 0, "{err}");
    let history = history.expect("the history");
    assert_eq!(
        history.last(),
        Some(&b'\n'),
        "the history ends in a torn line"
    );
    let lines = history
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    assert_eq!(
        lines,
        said + 1,
        "the message says {said} records; the file has {lines} lines"
    );
    assert!(
        took < Duration::from_secs(30),
        "ran on for {took:?} after the disk filled"
    );
}
