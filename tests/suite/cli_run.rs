//! `quotabench run` end to end against the bundled fake, in-process on 127.0.0.1.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use crate::common;
use common::{rule, run_dir, summary};

const SUITE: &str = "scenarios/conformance/adobe-hygiene.yaml";

fn run(out: &Path, extra: &[&str]) -> (i32, Value, PathBuf, String) {
    let assert = Command::cargo_bin("quotabench")
        .unwrap()
        .args(["run", SUITE, "--seed", "7", "--out"])
        .arg(out)
        .args(extra)
        .timeout(std::time::Duration::from_secs(120))
        .assert();
    let o = assert.get_output();
    let code = o.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.code().is_some(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dir = run_dir(out);
    (code, summary(&dir), dir, stdout)
}

#[test]
fn the_correct_fake_passes_and_the_summary_keeps_its_contract() {
    let out = tempfile::tempdir().unwrap();
    let (code, s, dir, stdout) = run(out.path(), &[]);
    assert_eq!(code, 0, "summary: {s:#}");
    assert_eq!(s["schema_version"], 1);
    assert_eq!(s["scenario"], "adobe-hygiene-conformance");
    assert_eq!(s["verdict"], "pass");
    assert_eq!(rule(&s, "limit.never-exceeded")["verdict"], "pass");
    assert_eq!(rule(&s, "rejected.invalid-not-counted")["verdict"], "pass");
    assert_eq!(rule(&s, "limit.never-exceeded")["level"], "MUST");
    let consume = &s["operations"]["delete_identities"];
    for k in ["p50", "p90", "p99", "p999", "max"] {
        assert!(
            consume["latency_us"][k].as_u64().unwrap() > 0,
            "{k}: {consume}"
        );
    }
    // The suite overshoots what remains, so both acceptances and quota rejections occur.
    let outcomes = &consume["outcomes"];
    assert!(outcomes["accepted"].as_u64().unwrap() > 0, "{outcomes}");
    assert!(
        outcomes["rejected_quota"].as_u64().unwrap() > 0,
        "{outcomes}"
    );
    for k in ["rejected_invalid", "error", "indeterminate"] {
        assert!(outcomes[k].is_u64(), "{k} missing");
    }
    // The probe phase mixes invalid orders (every variant, cycled) and unknown-filter lists.
    assert!(
        s["operations"]["consume_invalid"]["outcomes"]["rejected_invalid"]
            .as_u64()
            .unwrap()
            >= 12
    );
    assert!(
        s["operations"]["list_invalid"]["outcomes"]["rejected_invalid"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(rule(&s, "listing.filter")["verdict"], "pass");
    assert_eq!(rule(&s, "listing.unknown-filter")["verdict"], "pass");
    assert!(consume["per_second"].as_f64().unwrap() > 0.0);
    for f in ["history.jsonl", "junit.xml", "report.md", "latency.hlog"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    assert!(stdout.contains("limit.never-exceeded"), "{stdout}");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("adobe-hygiene-conformance-") && name.ends_with('Z'),
        "{name}"
    );
}

#[test]
fn a_fake_that_counts_rejected_orders_fails_on_that_rule() {
    let out = tempfile::tempdir().unwrap();
    let (code, s, dir, stdout) = run(out.path(), &["--fault", "count-invalid"]);
    assert_eq!(code, 1, "summary: {s:#}");
    assert_eq!(s["verdict"], "fail");
    let r = rule(&s, "rejected.invalid-not-counted");
    assert_eq!(r["verdict"], "fail");
    let w = r["witness"].as_str().unwrap();
    assert!(w.contains("validation-rejected orders were sent"), "{w}");
    assert!(stdout.contains("reproduce: curl"), "{stdout}");
    // The witness cites the invalid orders the probe phase sent: the verdict names that
    // phase, and junit.xml files the failing testcase in that phase's suite.
    assert_eq!(r["phase"], "probe-invalid", "{r}");
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suites: Vec<&str> = junit.test_suites.iter().map(|t| t.name.as_str()).collect();
    let phases: Vec<&str> = s["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        suites[..phases.len()],
        phases[..],
        "one suite per phase, in order"
    );
    assert_eq!(suites.last(), Some(&"run"));
    let home = junit
        .test_suites
        .iter()
        .find(|t| {
            t.test_cases
                .iter()
                .any(|c| c.name.as_str() == "rejected.invalid-not-counted")
        })
        .unwrap();
    assert_eq!(home.name.as_str(), "probe-invalid");
    assert!(home.failures >= 1);
}

#[test]
fn a_fake_that_over_admits_fails_the_limit_rule() {
    let out = tempfile::tempdir().unwrap();
    let (code, s, _, _) = run(out.path(), &["--fault", "admit-over-limit"]);
    assert_eq!(code, 1, "summary: {s:#}");
    let r = rule(&s, "limit.never-exceeded");
    assert_eq!(r["verdict"], "fail", "{r}");
}

#[test]
fn a_saved_history_is_rejudged_the_same_offline() {
    let out = tempfile::tempdir().unwrap();
    let (code, s, dir, run_text) = run(out.path(), &["--fault", "count-invalid"]);
    assert_eq!(code, 1);
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .arg("check")
        .arg(dir.join("history.jsonl"))
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&o.get_output().stdout).into_owned();
    // `run` and `check` print each rule with the same words: the same line in both.
    for r in s["rules"].as_array().unwrap() {
        let word = match r["verdict"].as_str().unwrap() {
            "pass" => "PASS",
            "fail" => "FAIL",
            "unknown" => "UNKNOWN",
            _ => "SKIP",
        };
        let line = format!(
            "  {word:<8} {:<6} {}  ",
            r["level"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        );
        assert!(text.contains(&line), "{line:?} not in check's {text}");
        assert!(run_text.contains(&line), "{line:?} not in run's {run_text}");
    }
    // Failures first, then the counts line with the verdict.
    let first = text.lines().next().unwrap_or("");
    assert!(first.starts_with("  FAIL "), "{text}");
    assert!(
        text.contains(" failed · ") && text.contains("verdict: FAIL"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour into a pipe: {text:?}");
}

#[test]
fn colour_and_quiet_are_asked_for_and_never_forced_into_a_pipe() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, dir, text) = run(out.path(), &["--fault", "count-invalid", "--quiet"]);
    assert_eq!(code, 1);
    // Quiet: what did not pass, the counts and the verdict; no passing rule, no table.
    assert!(text.contains("  FAIL "), "{text}");
    assert!(
        !text.contains("  PASS ") && !text.contains("p99.9"),
        "{text}"
    );
    assert!(text.contains("verdict: FAIL  ("), "{text}");
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .args(["check", "--color", "always"])
        .arg(dir.join("history.jsonl"))
        .assert()
        .code(1);
    let coloured = String::from_utf8_lossy(&o.get_output().stdout).into_owned();
    assert!(coloured.contains("\x1b[1;31mFAIL"), "{coloured:?}");
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .args(["check", "--color", "auto"])
        .env("NO_COLOR", "1")
        .arg(dir.join("history.jsonl"))
        .assert()
        .code(1);
    assert!(!String::from_utf8_lossy(&o.get_output().stdout).contains('\x1b'));
}

#[test]
fn planted_credentials_never_appear_in_any_output() {
    let out = tempfile::tempdir().unwrap();
    let token = "tok-PLANTED-5d1e9a7c";
    let key = "key-PLANTED-0b3f44e2";
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .args([
            "run",
            SUITE,
            "--seed",
            "3",
            "--fault",
            "count-invalid",
            "--out",
        ])
        .arg(out.path())
        .env("ADOBE_ACCESS_TOKEN", token)
        .env("ADOBE_API_KEY", key)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let mut seen = vec![
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ];
    assert!(
        seen[0].contains("reproduce: curl"),
        "a failure must show its reproduction: {}",
        seen[0]
    );
    let mut stack = vec![out.path().to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                seen.push(String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
            }
        }
    }
    assert!(files >= 2, "expected the run's files");
    for text in &seen {
        assert!(
            !text.contains(token) && !text.contains(key),
            "a secret leaked: {}",
            &text[..text.len().min(400)]
        );
    }
}
