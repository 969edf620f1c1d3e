//! `quotabench fake` through the binary: the fault list and a served, working fake.

use std::process::Command;

#[test]
fn list_faults_prints_name_tab_rule_for_every_fault() {
    let out = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["fake", "--list-faults"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<(&str, &str)> = text
        .lines()
        .map(|l| {
            l.split_once('\t')
                .unwrap_or_else(|| panic!("no tab in {l:?}"))
        })
        .collect();
    assert_eq!(rows.len(), quotabench_fake::catalogue().len());
    for (name, rule) in rows {
        assert!(!name.is_empty());
        assert!(rule == "-" || rule.contains('.'), "{name}: {rule}");
    }
    assert!(
        text.contains("count-invalid\trejected.invalid-not-counted"),
        "{text}"
    );
    assert!(text.contains("stall\t-"), "{text}");
}

#[test]
fn the_standalone_fake_prints_its_url_and_answers() {
    let (mut child, url) = crate::common::standalone_fake(&[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/data/core/hygiene/quota"))
            .header("authorization", "Bearer t")
            .header("x-api-key", "k")
            .header("x-gw-ims-org-id", "org-1")
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status.unwrap(), 200);
}

#[test]
fn an_unknown_fault_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args([
            "run",
            "scenarios/conformance/adobe-hygiene.yaml",
            "--fault",
            "gremlins",
            "--out",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gremlins"));
}
