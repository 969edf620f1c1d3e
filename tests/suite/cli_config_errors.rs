//! Bad input gets a clear error: file, line, column, field path, expectation, exit 2.

use assert_cmd::Command;
use predicates::prelude::*;

fn qb() -> Command {
    Command::cargo_bin("quotabench").unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const GOOD: &str = "name: ok\ntarget:\n  profile: adobe-hygiene\nphases:\n  - name: p\n    workload:\n      operations: 3\n      mix: {list: 1}\n";

#[test]
fn a_valid_scenario_validates() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "ok.yaml", GOOD);
    qb().arg("validate")
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok "));
}

#[test]
fn shipped_scenarios_validate() {
    let mut files = Vec::new();
    for dir in [
        "scenarios/conformance",
        "scenarios/examples",
        "scenarios/load",
    ] {
        if let Ok(rd) = std::fs::read_dir(dir) {
            files.extend(
                rd.map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "yaml")),
            );
        }
    }
    assert!(!files.is_empty());
    qb().arg("validate").args(&files).assert().success();
}

#[test]
fn a_misspelled_key_names_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("      operations: 3", "      operatons: 3");
    let p = write(&dir, "typo.yaml", &text);
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:7:7: phases[0].workload.operatons: unknown field",
            p.display()
        )));
}

#[test]
fn a_bad_rate_says_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace(
        "      operations: 3",
        "      operations: 3\n      rate: fast",
    );
    let p = write(&dir, "rate.yaml", &text);
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:8:7: phases[0].workload.rate: expected a rate like \"200/s\", found \"fast\"",
            p.display()
        )));
}

#[test]
fn an_unset_variable_without_default_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = GOOD.replace("  profile: adobe-hygiene", "  profile: adobe-hygiene\n  headers:\n    Authorization: Bearer ${QB_TEST_SURELY_UNSET_TOKEN}");
    let p = write(&dir, "env.yaml", &text);
    qb().arg("validate")
        .arg(&p)
        .env_remove("QB_TEST_SURELY_UNSET_TOKEN")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("target.headers.Authorization"))
        .stderr(predicate::str::contains(
            "QB_TEST_SURELY_UNSET_TOKEN is not set",
        ));
}

#[test]
fn an_operation_the_profile_lacks_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "mix.yaml",
        &GOOD.replace("{list: 1}", "{list: 1, teleport: 2}"),
    );
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("phases[0].workload.mix.teleport"))
        .stderr(predicate::str::contains("has no operation \"teleport\""));
}

#[test]
fn a_workload_that_never_ends_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "forever.yaml",
        &GOOD.replace("      operations: 3\n", "      concurrency: 2\n"),
    );
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            ":6:5: phases[0].workload: expected `duration`, `operations` or `stages`",
        ));
}

/// Validating `text` fails with exit 2 and a message containing `expected`.
fn rejected(text: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "s.yaml", text);
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(expected));
}

#[test]
fn unknown_rule_ids_and_threshold_metrics_are_configuration_errors() {
    rejected(
        &format!("{GOOD}checks: [limit.nevr]\n"),
        "checks[0]: unknown rule id \"limit.nevr\"",
    );
    rejected(
        &format!("{GOOD}thresholds: [\"p99(consume) < 5ms\"]\n"),
        "thresholds[0]: no operation \"consume\" runs",
    );
    rejected(
        &format!("{GOOD}thresholds: [\"p100(list) < 5ms\"]\n"),
        "unknown metric \"p100\"",
    );
}

#[test]
fn missing_files_and_empty_files_fail_cleanly() {
    qb().args(["validate", "does/not/exist.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does/not/exist.yaml"));
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "empty.yaml", "");
    qb().arg("validate")
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("empty"));
}

#[test]
fn schema_is_json_describing_the_scenario() {
    let out = qb()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["properties"]["phases"].is_object(), "{v}");
    assert!(v["properties"]["target"].is_object());
}

#[test]
fn the_committed_scenario_schema_matches_the_model() {
    let out = qb()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let committed = std::fs::read_to_string("docs/scenario.schema.json").unwrap();
    assert!(
        committed == String::from_utf8(out).unwrap(),
        "`quotabench schema` does not print docs/scenario.schema.json (the lib test \
         scenario::schema_tests keeps that file equal to the model)"
    );
}
