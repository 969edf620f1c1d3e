//! Fuzz target: the scenario loader (`scenario::load_text`) and, for a share of the
//! cases, everything `validate` does (`run::prepare`: profile, mix, thresholds). Seeded
//! mutations of the shipped scenarios and of one that uses every target field: never a
//! panic, and every error names `file:line`.
//!
//! Loading registers the secrets a scenario holds in a process-wide list that masks
//! every output, and random mutations make random secrets; so the cases run in a child
//! process of this test binary, and the other tests' outputs stay as they are.

use std::path::{Path, PathBuf};

use crate::fuzz_support::*;

/// A scenario using the target fields the shipped ones leave out.
const RICH: &str = "name: rich
target:
  profile: adobe-hygiene
  base_url: \"http://127.0.0.1:9/?page=1&mine=x\"
  secret_params: [mine]
  tenant: ${QB_FUZZ_TENANT:-acme}
  other_tenant: other
  timeout: 2s
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
thresholds: [\"error_rate < 1%\"]
phases:
  - name: warm
    workload: {rate: 50/s, duration: 2s, concurrency: 2, mix: {list: 1, delete_identities: 2}, amount: 1, think_time: 10ms}
  - name: burst
    workload: {operations: 20, concurrency: 4, mix: {delete_identities: 1}, amount: auto}
";

fn sources() -> Vec<(String, String)> {
    let mut all = vec![("rich".to_string(), RICH.to_string())];
    for d in ["scenarios/conformance", "scenarios/load"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for p in files {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            all.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    all
}

#[test]
fn fuzz_scenario_loader_in_a_child_process() {
    let exe = std::env::current_exe().unwrap();
    let o = std::process::Command::new(exe)
        .args([
            "fuzz_scenario::cases_of_the_scenario_loader",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    // The child really ran the cases (a filter that matched nothing would pass too).
    assert!(out.contains("1 passed"), "{out}\n{err}");
}

#[test]
#[ignore = "run by fuzz_scenario_loader_in_a_child_process, in its own process"]
fn cases_of_the_scenario_loader() {
    let (mut r, seed) = rng("scenario");
    let dir = tempfile::tempdir().unwrap();
    let sources = sources();
    let plain = dir.path().join("rich.yaml");
    if let Err(e) = quotabench::scenario::load_text(&plain, RICH) {
        panic!("the unmutated rich scenario must load: {e}");
    }
    let n = cases(1500);
    let mut refused = 0;
    let mut unlocated_errors = Vec::new();
    for case in 0..n {
        let (name, text) = &sources[case % sources.len()];
        let (mutated, what) = mutate_some(text, &mut r);
        let path = dir.path().join(format!("c{case}.yaml"));
        let about = || format!("seed {seed} case {case}: {name}, {what}:\n{mutated}");
        // Every tenth case goes through the whole of `validate` (file, profile, mix).
        let result = if case % 10 == 0 {
            std::fs::write(&path, &mutated).unwrap();
            no_panic(about, || {
                quotabench::run::prepare(&path)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        } else {
            no_panic(about, || {
                quotabench::scenario::load_text(&path, &mutated)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        };
        if let Err(e) = result {
            refused += 1;
            for line in unlocated(&e, &path) {
                unlocated_errors.push(format!("seed {seed} case {case}: {name}, {what}: {line}"));
            }
        }
    }
    assert!(
        unlocated_errors.is_empty(),
        "errors without file:line:\n{}",
        unlocated_errors.join("\n")
    );
    // The mutations do break scenarios: a fuzzer that only feeds valid input proves little.
    assert!(
        refused > n / 4,
        "only {refused} of {n} mutated scenarios were refused"
    );
}
