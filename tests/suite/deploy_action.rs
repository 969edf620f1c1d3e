//! The GitHub Action's logic (action/run.sh) run here as a runner runs it: inputs as
//! INPUT_* variables, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT pointing at temp files,
//! quotabench against its bundled fake. The step's exit code is the gate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small load-only scenario judged by one threshold (cheap: 100 lists on loopback).
fn scenario(dir: &Path, name: &str, threshold: &str) -> PathBuf {
    let text = format!(
        "name: {name}\n\
         target:\n  profile: adobe-hygiene\n  headers:\n    Authorization: Bearer local-dev-token\n    x-api-key: local-dev-key\n\
         checks: none\n\
         thresholds:\n  - \"{threshold}\"\n\
         phases:\n  - name: flat\n    workload:\n      concurrency: 2\n      operations: 100\n      mix: {{list: 1}}\n"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

struct Step {
    code: i32,
    summary: String,
    outputs: BTreeMap<String, String>,
    log: String,
}

/// Runs action/run.sh with these inputs, in `dir`.
fn step(dir: &Path, inputs: &[(&str, &str)], binary: &Path) -> Step {
    let summary = dir.join("step_summary.md");
    let output = dir.join("github_output");
    // A runner's summary file may already hold earlier steps' text: it must be kept.
    std::fs::write(&summary, "earlier step\n").unwrap();
    std::fs::write(&output, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("action/run.sh"))
        .current_dir(dir)
        .env("QUOTABENCH", binary)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output)
        .env("INPUT_OUT", dir.join("out"))
        .env_remove("INPUT_TARGET")
        .env_remove("INPUT_ARGS")
        .env_remove("INPUT_ALLOW_UNKNOWN")
        .stdin(std::process::Stdio::null());
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("bash runs");
    let mut outputs = BTreeMap::new();
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((k, delim)) = l.split_once("<<") {
            let v: Vec<&str> = lines.by_ref().take_while(|x| *x != delim).collect();
            outputs.insert(k.to_string(), v.join("\n"));
        } else if let Some((k, v)) = l.split_once('=') {
            outputs.insert(k.to_string(), v.to_string());
        }
    }
    Step {
        code: o.status.code().unwrap_or(-1),
        summary: std::fs::read_to_string(&summary).unwrap(),
        outputs,
        log: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

fn quotabench() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_quotabench"))
}

#[test]
fn a_passing_and_a_failing_scenario_fail_the_step_with_both_reports_on_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let good = scenario(tmp.path(), "action-pass", "error_rate < 1%");
    // Nothing errs against the correct fake, so this threshold cannot hold: exit 1.
    let bad = scenario(tmp.path(), "action-fail", "error_rate > 50%");
    let both = format!("{}\n{}", good.display(), bad.display());
    let s = step(
        tmp.path(),
        &[("INPUT_SCENARIOS", &both), ("INPUT_ARGS", "--seed 7")],
        &quotabench(),
    );
    assert_eq!(s.code, 1, "the failing scenario fails the step\n{}", s.log);
    assert_eq!(s.outputs["exit-code"], "1");
    assert_eq!(s.outputs["verdict"], "fail");
    assert!(s.summary.starts_with("earlier step\n"), "{}", s.summary);
    // quotabench appended each report.md; the script added nothing in between.
    for name in ["action-pass", "action-fail"] {
        assert!(
            s.summary.contains(name),
            "{name} missing from\n{}",
            s.summary
        );
    }
    assert!(
        s.summary.contains("## quotabench: action-pass — ✅ pass"),
        "{}",
        s.summary
    );
    assert!(
        s.summary.contains("## quotabench: action-fail — ❌ fail"),
        "{}",
        s.summary
    );
    let dirs: Vec<&str> = s.outputs["run-dirs"].lines().collect();
    assert_eq!(dirs.len(), 2, "{:?}", s.outputs);
    for d in &dirs {
        assert!(Path::new(d).join("report.md").is_file(), "{d}");
    }
    assert!(s.log.contains("::error title=quotabench::"), "{}", s.log);
}

#[test]
fn a_passing_scenario_passes_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let good = scenario(tmp.path(), "action-pass", "error_rate < 1%");
    let s = step(
        tmp.path(),
        &[("INPUT_SCENARIOS", good.to_str().unwrap())],
        &quotabench(),
    );
    assert_eq!(s.code, 0, "{}", s.log);
    assert_eq!(s.outputs["verdict"], "pass");
    assert!(s.summary.contains("action-pass"), "{}", s.summary);
    assert!(Path::new(&s.outputs["run-dir"])
        .join("summary.json")
        .is_file());
}

#[test]
fn a_configuration_error_is_exit_2_and_still_said_on_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let s = step(
        tmp.path(),
        &[("INPUT_SCENARIOS", "no/such/scenario.yaml")],
        &quotabench(),
    );
    assert_eq!(s.code, 2, "{}", s.log);
    assert_eq!(s.outputs["verdict"], "error");
    assert!(s.summary.contains("exit 2"), "{}", s.summary);
    assert!(
        s.log.contains("no/such/scenario.yaml"),
        "quotabench names the file: {}",
        s.log
    );

    let s = step(tmp.path(), &[("INPUT_SCENARIOS", " \n ")], &quotabench());
    assert_eq!(s.code, 2);
    assert!(s.summary.contains("no scenarios given"), "{}", s.summary);
}

#[test]
fn unknown_gates_unless_allowed() {
    // A stand-in binary that answers "unknown" (exit 3) without running anything.
    let tmp = tempfile::tempdir().unwrap();
    let stub = tmp.path().join("qb-unknown");
    std::fs::write(&stub, "#!/bin/sh\nexit 3\n").unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&stub)
        .status()
        .unwrap();
    let s = step(tmp.path(), &[("INPUT_SCENARIOS", "x.yaml")], &stub);
    assert_eq!(s.code, 3);
    assert_eq!(s.outputs["verdict"], "unknown");
    assert!(
        s.summary.contains("exited 3"),
        "no report: the summary says so\n{}",
        s.summary
    );
    let s = step(
        tmp.path(),
        &[
            ("INPUT_SCENARIOS", "x.yaml"),
            ("INPUT_ALLOW_UNKNOWN", "true"),
        ],
        &stub,
    );
    assert_eq!(s.code, 0);
    assert_eq!(s.outputs["exit-code"], "3");
    assert!(s.log.contains("::warning"), "{}", s.log);
}

/// The composite action calls the script and names every input it reads, and the
/// self-test workflow uses it from the repository (`uses: ./`).
#[test]
fn the_action_wires_its_inputs_to_the_script() {
    let path = root().join("action.yml");
    let action: serde_json::Value =
        quotabench_yaml::from_str(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().unwrap();
    let run = steps
        .iter()
        .find(|s| s["id"] == "run")
        .expect("a step with id: run");
    assert!(run["run"].as_str().unwrap().contains("action/run.sh"));
    let script = std::fs::read_to_string(root().join("action/run.sh")).unwrap();
    for (input, var) in [
        ("scenarios", "INPUT_SCENARIOS"),
        ("target", "INPUT_TARGET"),
        ("args", "INPUT_ARGS"),
        ("out", "INPUT_OUT"),
        ("allow-unknown", "INPUT_ALLOW_UNKNOWN"),
    ] {
        assert!(action["inputs"][input].is_object(), "input {input}");
        assert_eq!(
            run["env"][var].as_str(),
            Some(format!("${{{{ inputs.{input} }}}}").as_str()),
            "{var}"
        );
        assert!(script.contains(var), "run.sh reads {var}");
    }
    assert!(steps.iter().any(|s| s["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("actions/upload-artifact@"))));
    let selftest =
        std::fs::read_to_string(root().join(".github/workflows/action-selftest.yml")).unwrap();
    assert!(selftest.contains("uses: ./\n"), "{selftest}");
}
