//! Latency truth: under a constant arrival rate, latency is measured from each request's
//! intended start (wrk2's method), so a stall shows in full; the raw service time shows
//! what a closed-loop tool would have reported instead.

use assert_cmd::Command;

use crate::common;

const SCENARIO: &str = "name: stall-accuracy
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
fake:
  faults: [\"stall=2s@5s\"]
checks: [limit.never-exceeded]
phases:
  - name: steady
    workload:
      rate: 200/s
      duration: 10s
      concurrency: 16
      mix: {list: 1}
";

#[test]
fn a_two_second_stall_shows_in_latency_percentiles_as_analysis_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("stall.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = dir.path().join("out");
    Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(0);
    let run = common::run_dir(&out);
    let s = common::summary(&run);
    let list = &s["operations"]["list"];
    let n = list["count"].as_u64().unwrap();
    assert!(
        (1900..=2000).contains(&n),
        "about 2,000 arrivals in 10 s at 200/s: {n}"
    );
    // Arrivals in [5 s, 7 s) wait until 7 s: latencies uniform on (0, 2 s], 400 of 2,000.
    // p99 is the 20th-largest: 2 s − 20/200 s = 1.9 s; max 2 s.
    let us = |k: &str| list["latency_us"][k].as_f64().unwrap();
    let within = |got: f64, want: f64| (got - want).abs() <= want * 0.10;
    assert!(
        within(us("p99"), 1_900_000.0),
        "p99 {} µs, expected 1.9 s ±10%",
        us("p99")
    );
    assert!(
        within(us("max"), 2_000_000.0),
        "max {} µs, expected 2 s ±10%",
        us("max")
    );
    assert!(
        us("p50") < 50_000.0,
        "most requests are unaffected: p50 {} µs",
        us("p50")
    );
    // The 16 workers stuck in the stall hold 2 s service times; the ~380 arrivals queued
    // behind them are served instantly once it ends. A closed-loop tool reports that view.
    let svc = |k: &str| list["service_time_us"][k].as_f64().unwrap();
    assert!(
        svc("p99") < us("p99") / 10.0,
        "service p99 {} µs hides the stall",
        svc("p99")
    );
    assert!(
        within(svc("max"), 2_000_000.0),
        "service max {} µs",
        svc("max")
    );
    let phase = &s["phases"][0];
    assert!(
        phase["late"].as_u64().unwrap() > 300,
        "queued arrivals are counted late: {phase}"
    );
    assert_eq!(phase["dropped"], 0, "{phase}");
}
