//! Proof that only definite answers decide (issue #12, item 7): the correct bundled fake
//! behind a hostile proxy never gets a FAIL; with the proxy passing traffic unchanged the
//! fake's seeded faults are still caught; and the fake's own `error-rate` fault (503s that
//! touch nothing) never produces a false failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use quotabench_fake::{serve, Fake, FakeConfig, FaultSet, RunningFake};
use serde_json::Value;

const ADOBE: &str = "scenarios/conformance/adobe-hygiene.yaml";
const CONFIG: &str = "clock:\n  mode: virtual\ncredentials:\n  mode: fixed\n  bearer_tokens: [live-token]\n  api_keys: [live-key]\n";

/// The bundled fake, in this process, with these seeded faults.
async fn fake(faults: &[&str]) -> RunningFake {
    let config = FakeConfig::from_text(Path::new("proof.yaml"), CONFIG).unwrap();
    let faults =
        FaultSet::parse(&faults.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap();
    serve(
        Arc::new(Fake::new(config, faults)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap()
}

/// The hostile proxy in front of `upstream` (a URL); it exits when its stdin closes,
/// i.e. when the returned child is dropped with its pipe.
struct Proxy {
    child: Child,
    url: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn proxy(upstream: &str, fault: &str, share: &str, seed: u64) -> Proxy {
    let up = upstream.trim_start_matches("http://").trim_end_matches('/');
    let mut child = Command::new("python3")
        .args(["tests/targets/hostile_proxy.py", "--listen", "127.0.0.1:0"])
        .args(["--upstream", up, "--fault", fault, "--share", share])
        .args(["--seed", &seed.to_string(), "--stall-seconds", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the hostile proxy");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("proxy said {line:?}"))
        .to_string();
    Proxy {
        child,
        url: format!("http://{addr}"),
    }
}

/// What one run concluded.
struct Run {
    code: i32,
    summary: Value,
}

impl Run {
    fn rules(&self, verdict: &str) -> Vec<(String, String)> {
        self.summary["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["verdict"] == verdict)
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["witness"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
    /// The thresholds that failed (as written in the scenario).
    fn failed_thresholds(&self) -> Vec<String> {
        self.summary["thresholds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["verdict"] == "fail")
            .map(|t| t["threshold"].as_str().unwrap_or("").to_string())
            .collect()
    }
    /// Exit 1 is a false failure unless it comes from the error-rate threshold, which
    /// measures the injected errors honestly (5% of 503s fail `error_rate < 1%`).
    fn falsely_failed(&self) -> bool {
        !self.rules("fail").is_empty()
            || self.code == 1
                && self
                    .failed_thresholds()
                    .iter()
                    .any(|t| !t.starts_with("error_rate"))
            || self.code == 1 && self.failed_thresholds().is_empty()
    }
    fn explain(&self) -> String {
        format!(
            "exit {}\n{}\nerrors: {}",
            self.code,
            self.summary["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["verdict"] != "pass")
                .map(|r| format!("{} {}: {}", r["verdict"], r["id"], r["witness"]))
                .collect::<Vec<_>>()
                .join("\n"),
            self.summary["errors"]
        )
    }
}

fn run(seed: u64, args: &[&str]) -> Run {
    let out = tempfile::tempdir().unwrap().keep();
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["run", ADOBE, "--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .args(args)
        .env("QB_TARGET_URL", "")
        .env("ADOBE_ACCESS_TOKEN", "live-token")
        .env("ADOBE_API_KEY", "live-key")
        .env("ADOBE_ORG_ID", "live-org")
        .env("ADOBE_OTHER_ORG_ID", "live-other-org")
        .output()
        .unwrap();
    let dir: PathBuf = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("no run folder: {}", String::from_utf8_lossy(&o.stderr)));
    let summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        summary,
    }
}

async fn run_through(fake_url: &str, fault: &str, share: &str, seed: u64) -> Run {
    let p = proxy(fake_url, fault, share, seed);
    let url = p.url.clone();
    let r = tokio::task::spawn_blocking(move || run(seed, &["--target", &url]))
        .await
        .unwrap();
    drop(p);
    r
}

/// The correct fake never FAILs behind any proxy fault; each UNKNOWN says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_fake_never_fails_behind_a_hostile_proxy() {
    for fault in [
        "reset-after-apply",
        "502-after-apply",
        "504-after-apply",
        "cut-body",
        "429-no-apply",
        "stall-before-apply",
    ] {
        let f = fake(&[]).await;
        let r = run_through(&f.url, fault, "0.1", 7).await;
        assert!(r.rules("fail").is_empty(), "{fault}: {}", r.explain());
        for (id, why) in r.rules("unknown") {
            assert!(!why.is_empty(), "{fault}: {id} is unknown without a reason");
        }
        assert!(!r.falsely_failed(), "{fault}: {}", r.explain());
        assert!(
            r.summary["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{fault}: the injected faults are listed as errors: {}",
            r.explain()
        );
    }
}

/// With the proxy passing traffic unchanged, the fake's seeded faults are still caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_faults_are_still_caught_through_a_passthrough_proxy() {
    let clean = fake(&[]).await;
    let r = run_through(&clean.url, "passthrough", "1", 1).await;
    assert_eq!(
        r.code,
        0,
        "the correct fake passes through it: {}",
        r.explain()
    );
    for (fault, rule) in [
        ("admit-over-limit", "limit.never-exceeded"),
        ("reject-before-limit", "limit.rejection-justified"),
        ("quota-reject-500", "limit.rejection-shape"),
        ("count-quota-rejected", "rejected.quota-not-counted"),
        ("no-auth", "auth.required"),
        ("filter-ignored", "listing.filter"),
    ] {
        let f = fake(&[fault]).await;
        let r = run_through(&f.url, "passthrough", "1", 1).await;
        assert!(
            r.rules("fail").iter().any(|(id, _)| id == rule),
            "{fault} must fail {rule}: {}",
            r.explain()
        );
        assert_eq!(r.code, 1, "{fault}: {}", r.explain());
    }
}

/// `--fault error-rate=5%` (503s that apply nothing) over 20 seeds: no false failure.
#[test]
fn error_rate_never_produces_a_false_failure() {
    let mut failures = Vec::new();
    for seed in 1..=20 {
        let r = run(seed, &["--fault", "error-rate=5%"]);
        if r.falsely_failed() {
            failures.push(format!("seed {seed}: {}", r.explain()));
        }
        assert!(
            r.summary["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "seed {seed}: the 503s are listed: {}",
            r.explain()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
