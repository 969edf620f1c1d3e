//! Probe phases in a scenario: unknown kinds and probes mixed with workloads are
//! configuration errors located at the field.

use std::process::Command;

fn validate(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), all)
}

const HEAD: &str = "name: p\ntarget:\n  profile: adobe-hygiene\nphases:\n";

#[test]
fn an_unknown_probe_kind_is_located() {
    let (code, out) = validate(&format!("{HEAD}  - name: a\n    probe: nonsense\n"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("s.yaml:6:"), "{out}");
    assert!(out.contains("phases[0].probe"), "{out}");
    assert!(
        out.contains("boundary") && out.contains("isolation"),
        "{out}"
    );
}

#[test]
fn a_probe_with_a_workload_is_located() {
    let (code, out) = validate(&format!(
        "{HEAD}  - name: a\n    probe: reset\n    workload:\n      operations: 3\n      mix: {{consume: 1}}\n"
    ));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("phases[0].probe: a phase has either"), "{out}");
}

#[test]
fn every_probe_kind_validates() {
    for kind in ["boundary", "reset", "release", "credentials", "isolation"] {
        let (code, out) = validate(&format!("{HEAD}  - name: a\n    probe: {kind}\n"));
        assert_eq!(code, 0, "{kind}: {out}");
    }
}
