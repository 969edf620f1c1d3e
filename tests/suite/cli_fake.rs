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

/// A child that is killed when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `quotabench fake` with `args`, stderr piped; returns it and its URL.
fn fake_with_stderr(args: &[&str]) -> (Killed, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["fake", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (Killed(child), url)
}

#[test]
fn sigterm_stops_the_standalone_fake_cleanly_with_exit_0() {
    let (mut child, _url) = fake_with_stderr(&[]);
    crate::signals::kill(&child.0, "TERM");
    let code = crate::signals::wait_exit(&mut child.0, std::time::Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    // Before, SIGTERM killed it by the default action: no exit code at all.
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
}

#[test]
fn admin_token_guards_the_admin_api_and_is_never_echoed() {
    let (mut child, url) = fake_with_stderr(&["--admin-token", "tok-SECRET-1"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let c = reqwest::Client::new();
        let mut got = Vec::new();
        for auth in [None, Some("Bearer nope"), Some("Bearer tok-SECRET-1")] {
            let mut req = c.get(format!("{url}/__admin/clock"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            got.push((status, body));
        }
        got
    });
    crate::signals::kill(&child.0, "TERM");
    let _ = crate::signals::wait_exit(&mut child.0, std::time::Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(statuses[0].0, 401, "{:?}", statuses[0]);
    assert_eq!(statuses[1].0, 401, "{:?}", statuses[1]);
    assert_eq!(statuses[2].0, 200, "{:?}", statuses[2]);
    for (_, body) in &statuses {
        assert!(!body.contains("tok-SECRET-1"), "{body}");
    }
    assert!(!stderr.contains("tok-SECRET-1"), "{stderr}");
    // On loopback there is no exposure warning.
    assert!(!stderr.contains("WARNING"), "{stderr}");
}
