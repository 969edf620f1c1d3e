//! The fake's network hardening (#14 item 6): half-open connections are closed after the
//! header-read timeout while the fake goes on answering, and the admin API is off beyond
//! loopback unless a bearer token guards it.

use std::time::Duration;

use crate::support::*;
use quotabench_fake::cli::exposure_warning;
use quotabench_fake::{serve_with, AdminAccess, Fake, FakeConfig, FakeRequest, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many half-open connections the test holds: far more than the fake has threads,
/// few enough for any descriptor limit.
const HALF_OPEN: usize = 200;

/// Waits for the server to close `s`: true on EOF or a reset, false if it is still open
/// after `within` (a hang guard, not a speed claim: the limit under test is 300 ms).
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An error answer (408 and the like) before closing is fine; read on to EOF.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn lists_quotas(url: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{url}/data/core/hygiene/quota"))
        .header("authorization", "Bearer t")
        .header("x-api-key", "k")
        .header("x-gw-ims-org-id", "org-1")
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_closed_and_the_fake_still_answers() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let options = ServeOptions {
        header_read_timeout: Duration::from_millis(300),
    };
    let running = serve_with(f, "127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    let mut held = Vec::new();
    for i in 0..HALF_OPEN {
        let mut s = TcpStream::connect(running.addr).await.unwrap();
        match i % 4 {
            // Silent: connected, nothing sent (the auto builder is still telling
            // HTTP/1 from h2c).
            0 => {}
            // Half a request line.
            1 => s.write_all(b"GET /data/core/hyg").await.unwrap(),
            // A request line and some headers, never the blank line.
            2 => s
                .write_all(b"GET /data/core/hygiene/quota HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\n")
                .await
                .unwrap(),
            // The h2c preface and nothing after it.
            _ => s
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .await
                .unwrap(),
        }
        held.push(s);
    }
    // While they are held, the fake answers others.
    assert_eq!(lists_quotas(&running.url).await, 200);
    let mut still_open = Vec::new();
    for (i, s) in held.iter_mut().enumerate() {
        if !closed_by_server(s, Duration::from_secs(20)).await {
            still_open.push(i);
        }
    }
    assert!(
        still_open.is_empty(),
        "{} of {HALF_OPEN} half-open connections were never closed (kinds i % 4: {:?})",
        still_open.len(),
        still_open.iter().map(|i| i % 4).collect::<Vec<_>>()
    );
    assert_eq!(lists_quotas(&running.url).await, 200, "answers after");
}

#[tokio::test]
async fn a_request_that_finishes_its_headers_in_time_is_answered() {
    // The timeout closes only connections that do not send: a client sending its
    // headers in pieces, each well within the limit, is served.
    let f = fake(SMALL_VIRTUAL, &[]);
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(10),
    };
    let running = serve_with(f, "127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    let mut s = TcpStream::connect(running.addr).await.unwrap();
    for piece in [
        &b"GET /data/core/hygiene/quota HTTP/1.1\r\n"[..],
        b"host: x\r\nauthorization: Bearer t\r\n",
        b"x-api-key: k\r\nx-gw-ims-org-id: o\r\nconnection: close\r\n\r\n",
    ] {
        s.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The daily quota's consumed count, read without the admin API (which is guarded).
fn daily(f: &Fake) -> u64 {
    let v = serde_json::to_value(f.state("acme")).unwrap();
    v["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "dailyConsumerDeleteIdentitiesQuota")
        .unwrap()["consumed"]
        .as_u64()
        .unwrap()
}

fn guarded(access: AdminAccess) -> Fake {
    let config = FakeConfig::from_text(std::path::Path::new("<test>"), SMALL_VIRTUAL).unwrap();
    Fake::new(config, Default::default()).with_admin(access)
}

#[test]
fn beyond_loopback_the_admin_api_is_off_without_a_token() {
    let any: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
    let lan: std::net::SocketAddr = "[2001:db8::1]:80".parse().unwrap();
    let lo: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let lo6: std::net::SocketAddr = "[::1]:0".parse().unwrap();
    assert_eq!(AdminAccess::for_listen(&any, None), AdminAccess::Off);
    assert_eq!(AdminAccess::for_listen(&lan, None), AdminAccess::Off);
    assert_eq!(AdminAccess::for_listen(&lo, None), AdminAccess::Open);
    assert_eq!(AdminAccess::for_listen(&lo6, None), AdminAccess::Open);
    assert_eq!(
        AdminAccess::for_listen(&any, Some("t")),
        AdminAccess::Token("t".into())
    );
    // A loud warning beyond loopback, whatever the admin access; none on loopback.
    for access in [AdminAccess::Off, AdminAccess::Token("t".into())] {
        let w = exposure_warning(&any, &access).expect("a warning");
        assert!(
            w.starts_with("WARNING:") && w.contains("0.0.0.0:8080"),
            "{w}"
        );
    }
    assert!(exposure_warning(&any, &AdminAccess::Off)
        .unwrap()
        .contains("--admin-token"));
    assert_eq!(exposure_warning(&lo, &AdminAccess::Open), None);
    assert_eq!(exposure_warning(&lo6, &AdminAccess::Open), None);

    let f = guarded(AdminAccess::Off);
    order(&f, "acme", 3);
    for (m, p) in [("POST", "/__admin/reset"), ("GET", "/__admin/clock")] {
        let r = f.handle(&FakeRequest::new(m, p).header("authorization", "Bearer t"));
        assert_eq!(r.status, 403, "{m} {p}");
        assert!(r.json_body()["error"]
            .as_str()
            .unwrap()
            .contains("--admin-token"));
    }
    assert_eq!(daily(&f), 3, "the refused reset changed nothing");
    // The quota API itself is unaffected.
    assert_eq!(order(&f, "acme", 1).status, 201);
}

#[test]
fn a_token_guards_the_admin_api_as_a_bearer() {
    let f = guarded(AdminAccess::Token("s3cret".into()));
    order(&f, "acme", 3);
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("s3cret"),
        Some("Bearer s3cre"),
        Some("Basic s3cret"),
    ] {
        let mut req = FakeRequest::new("POST", "/__admin/reset");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = f.handle(&req);
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n == "www-authenticate" && v == "Bearer"));
        assert!(
            !String::from_utf8_lossy(&r.body).contains("s3cret"),
            "the answer never echoes the token"
        );
    }
    assert_eq!(daily(&f), 3);
    let r = f.handle(
        &FakeRequest::new("POST", "/__admin/reset").header("authorization", "Bearer s3cret"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(daily(&f), 0);
}
