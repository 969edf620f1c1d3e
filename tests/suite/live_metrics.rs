//! `run --metrics-listen`: a Prometheus scrape mid-run shows the operations counting,
//! the phase running and the latency histogram; the endpoint ends with the run; a
//! non-loopback host name is refused before anything is sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// An open-model phase far longer than the test: the test interrupts it once it has
/// seen what it needs, so the wall time does not depend on the phase's length.
const SCENARIO: &str = "name: live-metrics
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
checks: none
phases:
  - name: steady
    workload: {rate: 200/s, duration: 60s, concurrency: 4, mix: {list: 1}}
";

/// The run, killed if the test ends before it does.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nhost: qb\r\nconnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_scrape_mid_run_shows_operations_latency_and_the_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("live.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .args(["--metrics-listen", "127.0.0.1:0", "--max-duration", "90s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut run = Run(child);
    // The address is on stderr (port 0: the system chose it).
    let stderr = run.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let addr: SocketAddr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the run said where it serves metrics");
        if let Some(rest) = line.strip_prefix("metrics: serving http://") {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    assert!(addr.ip().is_loopback());
    let ok = r#"{operation="list",outcome="accepted"}"#;
    // Poll until the counter moves: bounded attempts, no assertion on how long it took.
    let mut seen = None;
    for _ in 0..400 {
        if let Some(text) = scrape(addr) {
            if value(&text, &format!("quotabench_operations_total{ok}")).unwrap_or(0.0) > 0.0 {
                seen = Some(text);
                break;
            }
        }
        assert!(
            run.0.try_wait().unwrap().is_none(),
            "the run ended before any scrape"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let text = seen.expect("no accepted list was counted in 400 scrapes");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    // Mid-run: the 60 s phase is the one running.
    assert_eq!(
        value(body, r#"quotabench_phase{phase="steady"}"#),
        Some(1.0),
        "{body}"
    );
    let count = value(body, &format!("quotabench_latency_seconds_count{ok}")).unwrap();
    let inf = value(
        body,
        r#"quotabench_latency_seconds_bucket{le="+Inf",operation="list",outcome="accepted"}"#,
    );
    assert!(count > 0.0 && inf == Some(count), "{body}");
    assert!(value(body, "quotabench_in_flight").is_some(), "{body}");
    assert!(body.trim_end().ends_with("# EOF"), "{body}");

    // Interrupted, the run ends (130) and its endpoint with it.
    let ok = Command::new("kill")
        .args(["-INT", &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let mut code = None;
    for _ in 0..600 {
        if let Some(s) = run.0.try_wait().unwrap() {
            code = s.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(code, Some(130), "interrupted");
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still serving after the run"
    );
}

#[test]
fn a_host_name_is_refused_before_the_run() {
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args([
            "run",
            "scenarios/load/max-throughput.yaml",
            "--metrics-listen",
            "metrics.example:9464",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--metrics-listen") && err.contains("not the host name"),
        "{err}"
    );
}

#[test]
fn a_port_in_use_stops_the_run_before_it_writes_anything() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("live.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .args(["--metrics-listen", &addr])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("--metrics-listen {addr}: cannot listen there")),
        "{err}"
    );
    assert!(
        std::fs::read_dir(&out)
            .into_iter()
            .flatten()
            .next()
            .is_none(),
        "no run folder is left behind"
    );
}
