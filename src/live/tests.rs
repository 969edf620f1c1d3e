//! The exposition as a scraper reads it, and the endpoint over loopback.

use super::*;
use crate::vocab::Outcome;

fn rec(op: &str, outcome: Outcome, intended_us: u64, done_us: u64) -> OpRecord {
    OpRecord {
        outcome,
        ..OpRecord::sample(1, op, intended_us, done_us)
    }
}

/// The value of the sample line that starts with `series ` (exact name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn operations_latency_in_flight_dropped_and_phase_are_exposed() {
    let live = Live::collecting();
    live.phase_started("warm");
    live.record(0, &rec("create", Outcome::Accepted, 0, 1_500));
    live.record(0, &rec("create", Outcome::Accepted, 10, 2_010));
    live.record(0, &rec("create", Outcome::RejectedQuota, 0, 700));
    // Past the table: counted all the same, through the family.
    live.record(100_000, &rec("list", Outcome::Accepted, 0, 20_000_000));
    let guard = live.in_flight();
    let text = live.encode();
    let ok = r#"{operation="create",outcome="accepted"}"#;
    assert_eq!(
        sample(&text, &format!("quotabench_operations_total{ok}")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"quotabench_operations_total{operation="create",outcome="rejected_quota"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"quotabench_operations_total{operation="list",outcome="accepted"}"#
        ),
        Some(1.0)
    );
    // 1.5 ms and 2.0 ms: both above le=0.001, both within le=0.0025, cumulative.
    let bucket = |le: &str| {
        sample(
            &text,
            // prometheus-client writes `le` first.
            &format!(
                r#"quotabench_latency_seconds_bucket{{le="{le}",operation="create",outcome="accepted"}}"#
            ),
        )
    };
    assert_eq!(bucket("0.001"), Some(0.0), "{text}");
    assert_eq!(bucket("0.0025"), Some(2.0));
    assert_eq!(bucket("+Inf"), Some(2.0));
    assert_eq!(
        sample(&text, &format!("quotabench_latency_seconds_count{ok}")),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, &format!("quotabench_latency_seconds_sum{ok}")),
        Some(0.0035)
    );
    assert_eq!(sample(&text, "quotabench_in_flight"), Some(1.0));
    assert_eq!(
        sample(&text, r#"quotabench_phase{phase="warm"}"#),
        Some(1.0)
    );
    assert!(
        text.contains("# TYPE quotabench_latency_seconds histogram"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
    drop(guard);

    live.phase_done(&PhaseStats {
        name: "warm".into(),
        seconds: 1.0,
        operations: 4,
        asked_rate: Some(7.0),
        achieved_rate: Some(4.0),
        late: 0,
        dropped: 3,
        amounts: Default::default(),
        started_s: None,
    });
    live.phase_started("load");
    let text = live.encode();
    assert_eq!(sample(&text, "quotabench_in_flight"), Some(0.0));
    assert_eq!(
        sample(&text, r#"quotabench_dropped_arrivals_total{phase="warm"}"#),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, r#"quotabench_phase{phase="warm"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, r#"quotabench_phase{phase="load"}"#),
        Some(1.0)
    );
}

#[test]
fn a_run_without_the_flag_collects_nothing() {
    let live = Live::default();
    live.record(0, &rec("create", Outcome::Accepted, 0, 1));
    let _g = live.in_flight();
    live.phase_started("p");
    assert_eq!(live.encode(), "");
}

/// One HTTP/1.1 GET over loopback with std only; returns the status line and body.
fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

#[test]
fn the_endpoint_serves_metrics_and_stops_when_dropped() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let live = Live::collecting();
    live.record(0, &rec("create", Outcome::Accepted, 0, 900));
    let listen = parse_listen("127.0.0.1:0").unwrap();
    let server = rt.block_on(live.serve(&listen)).unwrap().unwrap();
    let addr = server.addr();
    let (status, body) = rt.block_on(async {
        tokio::task::spawn_blocking(move || get(addr, "/metrics"))
            .await
            .unwrap()
    });
    assert!(status.contains("200"), "{status}");
    assert!(
        body.contains(r#"quotabench_operations_total{operation="create",outcome="accepted"} 1"#),
        "{body}"
    );
    let (status, _) = rt.block_on(async {
        tokio::task::spawn_blocking(move || get(addr, "/nope"))
            .await
            .unwrap()
    });
    assert!(status.contains("404"), "{status}");
    // A second server on the same port is refused with the fix.
    let taken = Listen {
        addr,
        warning: None,
    };
    let e = rt.block_on(live.serve(&taken)).err().unwrap();
    assert!(
        e.contains("cannot listen there") && e.contains("127.0.0.1:0"),
        "{e}"
    );
    drop(server);
    // Dropped: the port no longer answers (the accept loop ended with the listener).
    let refused = rt.block_on(async {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return true;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    });
    assert!(
        refused,
        "the endpoint still accepts after its server was dropped"
    );
}
