//! Shared by the conformance tests: run a suite against the in-process fake and read
//! what it concluded.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Adobe suite.
pub const ADOBE: &str = "scenarios/conformance/adobe-hygiene.yaml";
/// The Didomi suite.
pub const DIDOMI: &str = "scenarios/conformance/didomi.yaml";

/// What one run concluded.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// summary.json.
    pub summary: Value,
    /// The run folder.
    pub dir: PathBuf,
}

impl Run {
    /// Ids of the rules that failed.
    pub fn failed(&self) -> Vec<String> {
        self.with_verdict("fail")
    }

    /// Ids of the rules with this verdict.
    pub fn with_verdict(&self, v: &str) -> Vec<String> {
        self.summary["rules"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| r["verdict"] == v)
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The rules that did not pass, with their witnesses, for failure messages.
    pub fn explain(&self) -> String {
        self.summary["rules"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| r["verdict"] != "pass")
                    .map(|r| format!("{} {}: {}", r["verdict"], r["id"], r["witness"]))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }
}

/// Runs `suite` with `seed` and the given faults against the in-process fake.
pub fn run(suite: &str, seed: u64, faults: &[&str]) -> Run {
    let args: Vec<&str> = faults.iter().flat_map(|f| ["--fault", f]).collect();
    run_with(suite, seed, &args, &[])
}

/// Runs `suite` with `seed`, extra arguments and environment variables.
pub fn run_with(suite: &str, seed: u64, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = tempfile::tempdir().unwrap().keep();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quotabench"));
    cmd.args(["run", suite, "--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .args(args)
        // The suites read their target from QB_TARGET_URL: the in-process fake unless
        // `--target` says otherwise.
        .env("QB_TARGET_URL", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let faults = args;
    let o = cmd.output().unwrap();
    let code = o.status.code().unwrap_or(-1);
    let dir = first_dir(&out).unwrap_or_else(|| {
        panic!(
            "{suite} {faults:?}: no run folder; stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    Run { code, summary, dir }
}

fn first_dir(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_dir())
}

/// `quotabench fake --list-faults`: (name, rule id) pairs.
pub fn faults() -> Vec<(String, String)> {
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["fake", "--list-faults"])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect()
}

/// Runs `jobs` on two threads (the machine's two cores are shared), in order of results.
pub fn parallel<T: Send, R: Send>(jobs: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = jobs.len();
    let queue = std::sync::Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some((i, job)) = queue.lock().unwrap().pop() else {
                    break;
                };
                let r = f(job);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, r)| r).collect()
}
