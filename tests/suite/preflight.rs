//! Preflight: a run whose target cannot be read stops before any load, exit 2, with
//! the cause; a rate-limiting target is waited on, not misjudged.

use std::io::{BufRead, BufReader};
use std::process::{Command as Std, Stdio};

use assert_cmd::Command;

fn run(args: &[&str]) -> (i32, String, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("a temp dir");
    let o = Command::cargo_bin("quotabench")
        .expect("the binary")
        .args(["run"])
        .args(args)
        .arg("--out")
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("it ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text, out)
}

fn nothing_written(out: &tempfile::TempDir) -> bool {
    std::fs::read_dir(out.path())
        .map(|d| d.count() == 0)
        .unwrap_or(true)
}

#[test]
fn a_dead_port_stops_every_suite_before_any_load() {
    // Changed on purpose: a dead port used to run the whole suite with every operation
    // failing (and exit by the verdicts); now nothing is sent past the preflight.
    for (scenario, path) in [
        (
            "scenarios/load/max-throughput.yaml",
            "/data/core/hygiene/quota",
        ),
        (
            "scenarios/conformance/adobe-hygiene.yaml",
            "/data/core/hygiene/quota",
        ),
        (
            "scenarios/conformance/didomi.yaml",
            "/v1/quotas?organization_id=",
        ),
    ] {
        let (code, text, out) = run(&[scenario, "--target", "http://127.0.0.1:9"]);
        assert_eq!(code, 2, "{scenario}: {text}");
        let want = format!("cannot start: GET http://127.0.0.1:9{path}");
        assert!(text.contains(&want), "{scenario}: {text}");
        assert!(text.contains(": connection refused"), "{scenario}: {text}");
        assert!(
            nothing_written(&out),
            "{scenario}: no run folder, no history"
        );
    }
}

#[test]
fn an_unsupported_or_missing_scheme_exits_2() {
    let (code, text, out) = run(&[
        "scenarios/load/max-throughput.yaml",
        "--target",
        "ftp://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unsupported scheme ftp://"), "{text}");
    assert!(nothing_written(&out));
    for bare in ["127.0.0.1:9", "localhost:9"] {
        let (code, text, out) = run(&["scenarios/load/max-throughput.yaml", "--target", bare]);
        assert_eq!(code, 2, "{bare}: {text}");
        assert!(nothing_written(&out), "{bare}");
    }
}

/// The Didomi-like target (tests/targets/didomi_like.py), rate limiting hard.
struct Didomi {
    child: std::process::Child,
    url: String,
}

impl Didomi {
    fn start(flags: &[&str]) -> Option<Didomi> {
        let mut child = Std::new("python3")
            .arg("tests/targets/didomi_like.py")
            .args(["--listen", "127.0.0.1:0", "--max-seconds", "300"])
            .args(flags)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take()?)
            .read_line(&mut line)
            .ok()?;
        let addr = line.trim().strip_prefix("LISTENING ")?.to_string();
        Some(Didomi {
            child,
            url: format!("http://{addr}"),
        })
    }
}

impl Drop for Didomi {
    fn drop(&mut self) {
        // Closing stdin ends it (its contract); kill in case it is stuck.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verdicts(out: &tempfile::TempDir) -> serde_json::Value {
    let dir = std::fs::read_dir(out.path())
        .expect("a run folder")
        .next()
        .expect("one run")
        .expect("an entry")
        .path();
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("JSON")
}

#[test]
fn a_rate_limiting_didomi_target_is_not_misjudged() {
    let Some(t) = Didomi::start(&["--rate", "20", "--burst", "5"]) else {
        panic!("python3 tests/targets/didomi_like.py did not start");
    };
    let (code, text, out) = run(&["scenarios/conformance/didomi.yaml", "--target", &t.url]);
    let s = verdicts(&out);
    let rules = s["rules"].as_array().expect("rules");
    let verdict = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| {
                (
                    r["verdict"].as_str().unwrap_or("").to_string(),
                    r["witness"].to_string(),
                )
            })
            .unwrap_or_default()
    };
    // Rate-limited counting lists are retried: the listing is read, not "unreadable".
    let (v, why) = verdict("listing.complete");
    assert_ne!(
        v, "fail",
        "listing.complete fails against the correct target: {why}\n{text}"
    );
    // The rate-limit 429 on an over-quota order is classified `rejected_rate`, which the
    // checker leaves out of the rejection's shape: a rate limiter fails no rule.
    let (v, why) = verdict("limit.rejection-shape");
    assert_ne!(v, "fail", "limit.rejection-shape: {why}\n{text}");
    // It did rate limit, and those operations were told apart.
    let history = std::fs::read_to_string(
        std::fs::read_dir(out.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("history.jsonl"),
    )
    .expect("history.jsonl");
    assert!(
        history.contains("\"rejected_rate\""),
        "no rate-limited operation recorded (exit {code})"
    );
    // Most of the workload was turned away: every report says the pass says less.
    let banner = s["banners"]
        .as_array()
        .and_then(|b| {
            b.iter().find(|b| {
                b["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Rate-limited: "))
            })
        })
        .unwrap_or_else(|| panic!("no rate-limit notice in summary.json: {}", s["banners"]));
    assert_eq!(banner["level"], "warning");
    assert!(text.contains("RATE-LIMITED: "), "{text}");
}
