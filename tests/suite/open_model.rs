//! The open model at a rate far above what the engine and the target can do: each phase
//! still ends at its duration (plus the operations in flight then), and the arrivals it
//! could not send by then are counted `dropped`, so sent + dropped is what was asked.
//! The time bound is the property (a phase that overruns is misread as "the target held
//! the rate"), not a speed claim: it is generous.

use assert_cmd::Command;

use crate::common;

const SCENARIO: &str = "name: open-overload
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
phases:
  - name: absurd
    workload:
      rate: 10000000/s
      duration: 1s
      concurrency: 8
      mix: {list: 1}
  - name: high
    workload:
      rate: 200000/s
      duration: 2s
      concurrency: 32
      mix: {list: 1}
";

#[test]
fn a_rate_far_above_capacity_ends_on_time_and_counts_what_it_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("overload.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    let run = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        // The old engine never ended the first phase: fail instead of hanging.
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        matches!(run.status.code(), Some(0 | 1 | 3)),
        "the run must end by itself: {:?}\n{stderr}",
        run.status
    );
    let s = common::summary(&common::run_dir(&out));
    for (i, (name, rate, duration)) in [("absurd", 1e7, 1.0), ("high", 2e5, 2.0)]
        .into_iter()
        .enumerate()
    {
        let p = &s["phases"][i];
        assert_eq!(p["name"], name, "{p}");
        let seconds = p["seconds"].as_f64().unwrap();
        assert!(
            seconds <= duration + 2.0,
            "phase {name} of {duration} s ran {seconds} s: {p}"
        );
        let sent = p["operations"].as_u64().unwrap() as f64;
        let dropped = p["dropped"].as_u64().unwrap() as f64;
        assert!(dropped > 0.0, "phase {name}: nothing dropped: {p}");
        let asked = rate * duration;
        assert!(
            ((sent + dropped) - asked).abs() <= asked * 0.001,
            "phase {name}: sent {sent} + dropped {dropped} should be the {asked} asked: {p}"
        );
        assert_eq!(p["asked_rate"].as_f64().unwrap(), rate, "{p}");
        let achieved = p["achieved_rate"].as_f64().unwrap();
        assert!(
            achieved > 0.0 && achieved < rate,
            "phase {name}: achieved {achieved}/s of {rate}/s asked: {p}"
        );
        // The terminal says it too, asked beside achieved.
        assert!(
            stderr.contains(&format!("asked {rate:.0}/s achieved")),
            "{stderr}"
        );
    }
}
