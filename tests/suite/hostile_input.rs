//! Hostile input: numbers that used to panic, special files, bad headers and URLs, a
//! closed stdout, secrets in URLs and tenants. Never a panic, never a hang, every
//! error located, no secret in any output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BASE: &str = "name: hostile
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
phases:
  - name: p
    workload: {operations: 20, concurrency: 2, mix: {list: 1, delete_identities: 1}, amount: 1}
";

fn qb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quotabench"))
}

/// Runs with a deadline: a hang is a failure, not a stuck test.
fn output_within(mut cmd: Command, within: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Validates `text` in-process and returns the error; panics are caught and fail.
fn invalid(dir: &Path, text: &str) -> String {
    let path = dir.join("s.yaml");
    std::fs::write(&path, text).unwrap();
    let r = std::panic::catch_unwind(|| quotabench::run::prepare(&path));
    match r {
        Err(_) => panic!("validate panicked on:\n{text}"),
        Ok(Ok(_)) => panic!("validate accepted:\n{text}"),
        Ok(Err(e)) => e.to_string(),
    }
}

#[test]
fn numbers_past_the_limits_are_located_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let wl = "{operations: 20, mix: {list: 1}}";
    let cases: &[(&str, &str, &str)] = &[
        (
            "duration: 100000000000000000000s",
            "phases[0].workload.duration",
            "at most 366d",
        ),
        (
            "duration: 10000000000000000000s",
            "phases[0].workload.duration",
            "at most 366d",
        ),
        (
            "duration: 31d",
            "phases[0].workload.duration",
            "at most 30d",
        ),
        (
            "think_time: 2h",
            "phases[0].workload.think_time",
            "at most 1h",
        ),
        (
            "concurrency: 1000000",
            "phases[0].workload.concurrency",
            "at most 100000",
        ),
        (
            "rate: 100000000000/s",
            "phases[0].workload.rate",
            "at most 10000000/s",
        ),
        (
            "operations: 10000000000000000000",
            "phases[0].workload.operations",
            "at most",
        ),
    ];
    for (field, path, want) in cases {
        let wl = if field.starts_with("operations") {
            "{mix: {list: 1}"
        } else {
            &wl[..wl.len() - 1]
        };
        let text = BASE.replace(
            "workload: {operations: 20, concurrency: 2, mix: {list: 1, delete_identities: 1}, amount: 1}",
            &format!("workload: {wl}, {field}}}"),
        );
        let e = invalid(dir.path(), &text);
        let located = format!("{}:", dir.path().join("s.yaml").display());
        assert!(e.starts_with(&located), "{field}: {e}");
        assert!(e.contains(&format!(": {path}: ")), "{field}: {e}");
        assert!(e.contains(want), "{field}: {e}");
        let pos = e[located.len()..].split(':').take(2).collect::<Vec<_>>();
        assert!(
            pos.iter().all(|p| p.parse::<usize>().is_ok()),
            "{field}: no line:col in {e}"
        );
    }
    let e = invalid(
        dir.path(),
        &BASE.replace(
            "  headers:",
            "  timeout: 100000000000000000000s\n  headers:",
        ),
    );
    assert!(
        e.contains("target.timeout") && e.contains("at most 366d"),
        "{e}"
    );
}

#[test]
fn request_mistakes_are_found_at_validate_time() {
    let dir = tempfile::tempdir().unwrap();
    let long_name = "n".repeat(300);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            BASE.replace("x-api-key: k}", "x-api-key: k, \"bad header\": v}"),
            "target.headers.bad header",
            "header name",
        ),
        (
            BASE.replace(
                "x-api-key: k}",
                "x-api-key: k, x-note: \"a\\r\\nInjected: 1\"}",
            ),
            "target.headers.x-note",
            "carriage return",
        ),
        (
            format!("{BASE}fake: {{faults: [no-such-fault]}}\n"),
            "fake.faults[0]",
            "no-such-fault",
        ),
        (
            format!("{BASE}fake: {{config: /nonexistent/mocks.yaml}}\n"),
            "fake.config",
            "/nonexistent/mocks.yaml",
        ),
        (
            BASE.replace("name: hostile", &format!("name: {long_name}")),
            "name",
            "at most 100",
        ),
        (
            BASE.replace(
                "  headers:",
                "  base_url: ftp://files.example.com\n  headers:",
            ),
            "target.base_url",
            "http:// or https://",
        ),
    ];
    for (text, path, want) in cases {
        let e = invalid(dir.path(), &text);
        assert!(
            e.contains(&format!(":{}", "")) && e.contains(&format!(": {path}: ")),
            "{path}: {e}"
        );
        assert!(e.contains(want), "{path}: {e}");
        assert!(
            !e.contains("Injected: 1"),
            "the header value was printed: {e}"
        );
        let after = &e[dir.path().join("s.yaml").display().to_string().len()..];
        assert!(
            after.starts_with(':') && after[1..].starts_with(|c: char| c.is_ascii_digit()),
            "{path}: not located: {e}"
        );
    }
}

#[test]
fn deep_nesting_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let e = invalid(dir.path(), &format!("{BASE}description: {deep}\n"));
    assert!(e.contains("nested at most 64 deep"), "{e}");
    assert!(e.contains("s.yaml:9:"), "{e}");
}

#[test]
fn special_files_are_refused_by_name_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let mut files: Vec<PathBuf> = vec![dir.path().to_path_buf()];
    if made.is_ok_and(|s| s.success()) {
        files.push(fifo.clone());
    } else {
        eprintln!("skipping the FIFO case: mkfifo is not available");
    }
    if Path::new("/dev/zero").exists() {
        files.push("/dev/zero".into());
    }
    for f in &files {
        let out = output_within(
            {
                let mut c = qb();
                c.arg("validate").arg(f);
                c
            },
            Duration::from_secs(10),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", f.display());
        assert!(
            err.contains("expected a regular file"),
            "{}: {err}",
            f.display()
        );
        assert!(err.contains(&f.display().to_string()), "{err}");
    }
    // A profile path at a file that is not a profile: refused, its content not echoed.
    let passwd = dir.path().join("passwd");
    let secret_line = "root:x:0:0:SECRETLINE-0123456789-abcdefghijklmnopqrstuvwxyz:/root:/bin/sh";
    std::fs::write(&passwd, format!("{secret_line}\n{secret_line}\n")).unwrap();
    let s = dir.path().join("s.yaml");
    std::fs::write(
        &s,
        BASE.replace(
            "profile: adobe-hygiene",
            &format!("profile: {}", passwd.display()),
        ),
    )
    .unwrap();
    let out = output_within(
        {
            let mut c = qb();
            c.arg("validate").arg(&s);
            c
        },
        Duration::from_secs(10),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !err.contains("SECRETLINE-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "{err}"
    );
    // A profile that is a FIFO does not block validate.
    if fifo.exists() {
        std::fs::write(
            &s,
            BASE.replace(
                "profile: adobe-hygiene",
                &format!("profile: {}", fifo.display()),
            ),
        )
        .unwrap();
        let out = output_within(
            {
                let mut c = qb();
                c.arg("validate").arg(&s);
                c
            },
            Duration::from_secs(10),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("expected a regular file"), "{err}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("ok.yaml");
    std::fs::write(&ok, BASE).unwrap();
    let out = dir.path().join("out");
    let commands: Vec<Vec<String>> = vec![
        vec!["schema".into()],
        vec!["profile".into(), "show".into(), "adobe-hygiene".into()],
        vec!["profile".into(), "list".into()],
        vec!["validate".into(), ok.display().to_string()],
        vec![
            "run".into(),
            ok.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ],
    ];
    for args in commands {
        // The reading end is closed before the command starts: its first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = qb()
            .args(&args)
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{args:?} hung");
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
    // `check` on that run's history, too.
    let run = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = qb()
        .arg("check")
        .arg(run.join("history.jsonl"))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir`, read as text.
fn all_files(dir: &Path, into: &mut Vec<(PathBuf, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, into);
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            into.push((p, text));
        }
    }
}

fn assert_no_secret(out: &Path, o: &Output, secrets: &[&str]) {
    let mut files = Vec::new();
    all_files(out, &mut files);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("summary.json")),
        "no report written: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    files.push((
        "<stdout>".into(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    ));
    files.push((
        "<stderr>".into(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    ));
    for (p, text) in &files {
        for s in secrets {
            assert!(!text.contains(s), "{s} leaked into {}", p.display());
        }
    }
}

/// Starts `quotabench fake` on loopback; returns it and its URL.
fn fake() -> (std::process::Child, String) {
    let mut child = qb()
        .args(["fake", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

#[test]
fn secrets_in_urls_and_tenants_are_masked_in_every_output() {
    let (mut server, url) = fake();
    let hostport = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    // 1. In --target: userinfo and a secret query parameter.
    let s1 = dir.path().join("s1.yaml");
    std::fs::write(&s1, BASE).unwrap();
    let out1 = dir.path().join("out1");
    let target = format!("http://qbuser-1:PW-SECRET-one@{hostport}/?api_key=KEY-SECRET-two&page=1");
    let o = output_within(
        {
            let mut c = qb();
            c.arg("run")
                .arg(&s1)
                .arg("--out")
                .arg(&out1)
                .arg("--target")
                .arg(&target);
            c
        },
        Duration::from_secs(60),
    );
    assert_no_secret(&out1, &o, &["PW-SECRET-one", "KEY-SECRET-two", "qbuser-1"]);
    // 2. In the scenario's base_url (one parameter named by secret_params), and a
    //    tenant from a *SECRET* variable.
    let s2 = dir.path().join("s2.yaml");
    std::fs::write(
        &s2,
        BASE.replace(
            "  headers:",
            &format!("  base_url: \"http://qbuser-2:PW-SECRET-three@{hostport}/?sig=SIG-SECRET-four&mine=MINE-SECRET-five\"\n  secret_params: [mine]\n  tenant: ${{QB_TEST_TENANT_SECRET}}\n  headers:"),
        ),
    )
    .unwrap();
    let out2 = dir.path().join("out2");
    let o = output_within(
        {
            let mut c = qb();
            c.arg("run")
                .arg(&s2)
                .arg("--out")
                .arg(&out2)
                .env("QB_TEST_TENANT_SECRET", "tenant-SECRET-six");
            c
        },
        Duration::from_secs(60),
    );
    // 3. In --target, a parameter named only by the scenario's secret_params: the
    //    scenario's list applies to --target too, not just the default list.
    let s3 = dir.path().join("s3.yaml");
    std::fs::write(
        &s3,
        BASE.replace("  headers:", "  secret_params: [mine]\n  headers:"),
    )
    .unwrap();
    let out3 = dir.path().join("out3");
    let o3 = output_within(
        {
            let mut c = qb();
            c.arg("run")
                .arg(&s3)
                .arg("--out")
                .arg(&out3)
                .arg("--target")
                .arg(format!("http://{hostport}/?mine=MINE-SECRET-seven&page=1"));
            c
        },
        Duration::from_secs(60),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_no_secret(&out3, &o3, &["MINE-SECRET-seven"]);
    assert_no_secret(
        &out2,
        &o,
        &[
            "PW-SECRET-three",
            "SIG-SECRET-four",
            "MINE-SECRET-five",
            "tenant-SECRET-six",
            "qbuser-2",
        ],
    );
}
