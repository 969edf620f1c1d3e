//! `run --duration/--rate/--concurrency/--phase` and `-e KEY=VALUE`, with `${VAR}`
//! anywhere in a scenario, typed after substitution and located at the variable.

use assert_cmd::Command;

use crate::common::{run_dir, summary};

const SCENARIO: &str = r#"name: overrides
target:
  profile: adobe-hygiene
  headers:
    Authorization: Bearer local-dev-token
    x-api-key: local-dev-key
checks: none
phases:
  - name: closed
    workload:
      concurrency: ${USERS:-1}
      operations: ${OPS}
      mix: {list: 1}
  - name: open
    workload:
      rate: ${RATE:-20/s}
      duration: 1s
      mix: {list: 1}
"#;

fn qb(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("quotabench")
        .unwrap()
        .arg("run")
        .arg(dir.join("s.yaml"))
        .arg("--out")
        .arg(dir.join("out"))
        .args(args)
        .env_remove("OPS")
        .env_remove("USERS")
        .env_remove("RATE")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

#[test]
fn variables_anywhere_and_load_overrides_shape_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), SCENARIO).unwrap();
    // `${OPS}` has no default: without -e the run refuses, at the variable.
    let o = qb(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("s.yaml:12:19") && err.contains("OPS is not set"),
        "{err}"
    );

    let o = qb(
        dir.path(),
        &[
            "-e", "OPS=30", "-e", "USERS=3", "--rate", "40/s", "--phase", "open",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let s = summary(&run_dir(&dir.path().join("out")));
    let phases = s["phases"].as_array().unwrap();
    // The closed phase ran the 30 operations -e gave it (typed as an integer).
    assert_eq!(phases[0]["operations"], 30, "{s}");
    // The open phase took --rate.
    assert_eq!(phases[1]["asked_rate"].as_f64(), Some(40.0), "{s}");
}

#[test]
fn a_bad_value_from_a_variable_and_an_override_nothing_takes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), SCENARIO).unwrap();
    let o = qb(dir.path(), &["-e", "OPS=many"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("s.yaml:12:19") && err.contains("\"${OPS}\" after substitution"),
        "{err}"
    );
    let o = qb(
        dir.path(),
        &["-e", "OPS=3", "--concurrency", "4", "--phase", "open"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--concurrency: phase \"open\" is open-model"),
        "{err}"
    );
    let o = qb(dir.path(), &["-e", "OPS=3", "--duration", "0s"]);
    assert_eq!(o.status.code(), Some(2));
}
