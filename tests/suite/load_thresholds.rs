//! A pure load scenario: `checks: none`, any percentile in thresholds, measurements with
//! their unit, and durations written `1m30s`.

use assert_cmd::Command;

use crate::common::{run_dir, summary};

struct LoadRun {
    code: i32,
    summary: serde_json::Value,
    stdout: String,
    scenario: std::path::PathBuf,
    dir: std::path::PathBuf,
    _tmp: tempfile::TempDir,
}

fn load_run(thresholds: &[&str]) -> LoadRun {
    let dir = tempfile::tempdir().unwrap();
    let list: String = thresholds
        .iter()
        .map(|t| format!("  - \"{t}\"\n"))
        .collect();
    let scenario = format!(
        "name: load-only\n\
         target:\n  profile: adobe-hygiene\n  headers:\n    Authorization: Bearer local-dev-token\n    x-api-key: local-dev-key\n\
         checks: none\n\
         thresholds:\n{list}\
         phases:\n  - name: flat\n    workload:\n      concurrency: 2\n      operations: 400\n      mix: {{list: 1}}\n"
    );
    let path = dir.path().join("load.yaml");
    std::fs::write(&path, scenario).unwrap();
    let out = dir.path().join("out");
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.code().is_some(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run = run_dir(&out);
    LoadRun {
        code: o.status.code().unwrap(),
        summary: summary(&run),
        stdout,
        scenario: path,
        dir: run,
        _tmp: dir,
    }
}

#[test]
fn a_load_scenario_with_checks_none_is_judged_by_any_percentile_with_units() {
    let r = load_run(&[
        "p95(list) < 1m30s",
        "p97.5(list) < 1m30s",
        "error_rate < 1%",
    ]);
    let (code, s, stdout) = (r.code, &r.summary, &r.stdout);
    assert_eq!(code, 0, "{stdout}");
    // No rule is judged, so none is printed as skipped.
    assert_eq!(s["rules"].as_array().map(Vec::len), Some(0), "{s}");
    assert!(
        !stdout.contains("SKIP") && !stdout.contains("\nrules\n"),
        "{stdout}"
    );
    assert_eq!(s["operations"]["list"]["outcomes"]["accepted"], 400, "{s}");
    let lat = &s["operations"]["list"]["latency_us"];
    let (p90, p95, p99) = (
        lat["p90"].as_u64().unwrap(),
        lat["p95"].as_u64().unwrap(),
        lat["p99"].as_u64().unwrap(),
    );
    assert!(p95 > 0 && p90 <= p95 && p95 <= p99, "{lat}");
    let t = &s["thresholds"];
    // The threshold reads the same histogram the table shows.
    assert_eq!(t[0]["value"].as_f64(), Some(p95 as f64), "{t}");
    let p975 = t[1]["value"].as_f64().unwrap();
    assert!(p95 as f64 <= p975 && p975 <= p99 as f64, "{t} {lat}");
    for i in 0..2 {
        let m = t[i]["measured"].as_str().unwrap();
        assert!(
            m.ends_with(" µs") || m.ends_with(" ms") || m.ends_with(" s"),
            "{m}"
        );
        assert!(stdout.contains(&format!("(measured {m})")), "{stdout}");
    }
    assert!(t[2]["measured"].as_str().unwrap().ends_with('%'), "{t}");

    // Re-judging with the scenario that judges no rule is refused, naming the fix,
    // never a pass on nothing.
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("check")
        .arg(r.dir.join("history.jsonl"))
        .arg("--scenario")
        .arg(&r.scenario)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("checks: none") && err.contains("without --scenario"),
        "{err}"
    );
}

#[test]
fn a_percentile_over_its_bound_fails_and_says_how_far_in_its_unit() {
    let r = load_run(&["p99.9(list) < 1us"]);
    let (code, s, stdout) = (r.code, &r.summary, &r.stdout);
    assert_eq!(code, 1, "{stdout}");
    let t = &s["thresholds"][0];
    assert_eq!(t["verdict"], "fail");
    let m = t["measured"].as_str().unwrap();
    assert!(m.ends_with(" µs") || m.ends_with(" ms"), "{m}");
    assert!(stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn checks_other_than_a_list_or_none_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: x\ntarget: {profile: adobe-hygiene}\nchecks: all\nphases:\n  - name: p\n    workload: {concurrency: 1, operations: 1, mix: {list: 1}}\n",
    )
    .unwrap();
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("validate")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.yaml:3:") && err.contains("`none`"),
        "{err}"
    );
}
