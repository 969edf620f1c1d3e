//! A real run's folder: summary.json carries every field the published contract
//! (docs/summary.md) lists as required, with the documented types, and every exporter's
//! file is there and validates.

use crate::common;

use assert_cmd::Command;
use serde_json::Value;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn expect(v: &Value, path: &str, types: &[&str]) {
    let got = kind(v);
    // An integer is also a number.
    let ok = types.contains(&got) || (got == "integer" && types.contains(&"number"));
    assert!(ok, "{path}: expected {types:?}, found {got} ({v})");
}

#[test]
fn a_real_summary_has_every_required_field() {
    let out = tempfile::tempdir().unwrap();
    // The verdict does not matter here, only the files the run leaves.
    let _ = Command::cargo_bin("quotabench")
        .unwrap()
        .args([
            "run",
            "scenarios/conformance/adobe-hygiene.yaml",
            "--seed",
            "3",
            "--out",
        ])
        .arg(out.path())
        .timeout(std::time::Duration::from_secs(120))
        .assert();
    let dir = common::run_dir(out.path());
    let s = common::summary(&dir);

    assert_eq!(s["schema_version"], 1);
    expect(&s["scenario"], "scenario", &["string"]);
    let verdicts = ["pass", "fail", "unknown", "skipped"];
    assert!(
        verdicts.contains(&s["verdict"].as_str().unwrap_or("")),
        "verdict {}",
        s["verdict"]
    );
    let rules = s["rules"].as_array().expect("rules is an array");
    assert!(!rules.is_empty());
    for (i, r) in rules.iter().enumerate() {
        expect(&r["id"], &format!("rules[{i}].id"), &["string"]);
        assert!(["MUST", "SHOULD"].contains(&r["level"].as_str().unwrap_or("")));
        assert!(verdicts.contains(&r["verdict"].as_str().unwrap_or("")));
        let obj = r.as_object().unwrap();
        assert!(obj.contains_key("witness"), "rules[{i}] has no witness key");
        expect(
            &r["witness"],
            &format!("rules[{i}].witness"),
            &["string", "null"],
        );
    }
    let ops = s["operations"]
        .as_object()
        .expect("operations is an object");
    assert!(!ops.is_empty());
    for (name, o) in ops {
        expect(&o["count"], &format!("{name}.count"), &["integer"]);
        expect(&o["per_second"], &format!("{name}.per_second"), &["number"]);
        for p in ["p50", "p90", "p99", "p999", "max"] {
            expect(
                &o["latency_us"][p],
                &format!("{name}.latency_us.{p}"),
                &["integer"],
            );
        }
        for k in [
            "accepted",
            "rejected_quota",
            "rejected_invalid",
            "error",
            "indeterminate",
        ] {
            expect(
                &o["outcomes"][k],
                &format!("{name}.outcomes.{k}"),
                &["integer"],
            );
        }
    }
    for f in [
        "summary.json",
        "junit.xml",
        "report.md",
        "report.html",
        "latency.hlog",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing from the run folder");
    }
}
