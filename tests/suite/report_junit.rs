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

#[test]
fn hostile_text_validates_and_reads_back_through_a_conformant_parser() {
    if !xmllint() {
        eprintln!("\n!!! SKIPPED junit hostile-text check: xmllint is not installed !!!\n");
        return;
    }
    // Markup, quotes, a CDATA end, a NUL and an escape code (XML 1.0 forbids both, even
    // as references), and whitespace an attribute keeps only as character references.
    let hostile = "a<b>&c; \"d\" 'e' ]]> f\0g\u{1b}[0m h\tt\nn\rr end";
    let mut r = example();
    r.scenario = format!("s {hostile}");
    let fail = r
        .rules
        .iter_mut()
        .find(|v| v.phase.is_some())
        .expect("the example's failing rule names its phase");
    fail.witness = Some(hostile.into());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, JunitExporter.render(&r).unwrap()).unwrap();
    let out = validate(&file);
    assert!(
        out.status.success(),
        "junit.xml does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The first failure in document order is the phase suite's, ahead of the run's.
    let read = Command::new("xmllint")
        .arg("--xpath")
        .arg("string((//failure)[1]/@message)")
        .arg(&file)
        .output()
        .expect("xmllint runs");
    assert!(read.status.success(), "{read:?}");
    let said = String::from_utf8(read.stdout).unwrap();
    // xmllint ends what it prints with a newline of its own.
    assert_eq!(
        said.strip_suffix('\n'),
        Some("a<b>&c; \"d\" 'e' ]]> f\u{fffd}g\u{fffd}[0m h\tt\nn\rr end")
    );
}
