//! junit.xml validates against the Jenkins/Ant JUnit schema (tests/data/junit.xsd).
//! Needs `xmllint` (Debian package libxml2-utils).

use std::path::Path;
use std::process::Command;

use quotabench::report::example::example;
use quotabench::report::export::{Exporter, JunitExporter};

fn xmllint() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

fn validate(xml: &Path) -> std::process::Output {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(xml)
        .output()
        .expect("xmllint runs")
}

#[test]
fn junit_xml_is_valid_against_the_jenkins_schema() {
    if !xmllint() {
        eprintln!(
            "\n!!! SKIPPED junit schema check: xmllint is not installed \
             (apt-get install -y libxml2-utils) !!!\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("junit.xml");
    std::fs::write(&good, JunitExporter.render(&example()).unwrap()).unwrap();
    let out = validate(&good);
    assert!(
        out.status.success(),
        "junit.xml does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The check has teeth: a testcase without its required name is rejected.
    let text = std::fs::read_to_string(&good).unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, text.replacen("<testcase name=", "<testcase nom=", 1)).unwrap();
    assert!(
        !validate(&bad).status.success(),
        "the schema accepted a nameless testcase"
    );
}
