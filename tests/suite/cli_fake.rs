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

#[test]
fn sigterm_stops_the_standalone_fake_cleanly_with_exit_0() {
    let mut fake = crate::common::standalone_fake_piped(&[]);
    let child = fake.child_mut();
    crate::signals::kill(child, "TERM");
    let code = crate::signals::wait_exit(child, std::time::Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    // Before, SIGTERM killed it by the default action: no exit code at all.
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");
}

#[test]
fn admin_token_guards_the_admin_api_and_is_never_echoed() {
    let mut fake = crate::common::standalone_fake_piped(&["--admin-token", "tok-SECRET-1"]);
    let url = fake.url.clone();
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
    let child = fake.child_mut();
    crate::signals::kill(child, "TERM");
    let _ = crate::signals::wait_exit(child, std::time::Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
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

#[test]
fn a_request_followed_at_once_by_a_half_close_is_still_answered() {
    use std::io::{Read, Write};
    let fake = crate::common::standalone_fake_piped(&[]);
    let addr = fake.url.trim_start_matches("http://").to_string();
    let request = b"GET /data/core/hygiene/quota HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nx-api-key: k\r\nx-gw-ims-org-id: acme\r\nConnection: close\r\n\r\n";
    let mut lost = 0;
    // hyper's default dropped ~5% of these answers (25 of 500): 300 make a miss certain.
    for _ in 0..300 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(request).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        if !answer.starts_with(b"HTTP/1.1 200") {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "answers lost after a half-close");
}
