//! Proxies, read the same way for http:// and https://: a forward proxy in the test
//! counts what it carries. `HTTP_PROXY` routes an http:// run through it (absolute-form
//! requests), `HTTPS_PROXY` an https:// run (CONNECT), `NO_PROXY` and `--no-proxy` go
//! direct, `--proxy` wins over the environment; the proxy's password is sent to the
//! proxy and appears in no output file, stdout or stderr — also when the proxy is down.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{run_dir, summary};
use crate::tls::{fake, front, qb_async, scenario, server_cert, text};

const USER: &str = "proxyuser-7f3a";
const PASSWORD: &str = "pr0xy-pa55-9c1e";

/// What the proxy carried: each connection's first request line (`GET http://…` or
/// `CONNECT host:port`) and its `Proxy-Authorization` value.
#[derive(Default)]
struct Carried {
    lines: Vec<String>,
    auth: Vec<String>,
}

/// A forward proxy on 127.0.0.1: absolute-form requests are sent on in origin form,
/// CONNECT opens a tunnel; then the bytes both ways.
async fn proxy() -> (std::net::SocketAddr, Arc<Mutex<Carried>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Arc<Mutex<Carried>> = Arc::default();
    let carried = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(carry(client, log.clone()));
        }
    });
    (addr, carried)
}

async fn carry(mut client: TcpStream, log: Arc<Mutex<Carried>>) {
    let mut buf = Vec::new();
    let end = loop {
        let mut chunk = [0u8; 4096];
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 65536 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("").to_string();
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_string());
    {
        let mut l = log.lock().unwrap();
        l.lines.push(first.clone());
        l.auth.extend(auth);
    }
    let mut parts = first.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method == "CONNECT" {
        let Ok(mut up) = TcpStream::connect(target).await else {
            return;
        };
        let _ = client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await;
        let _ = up.write_all(&buf[end..]).await;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
        return;
    }
    let Some(rest) = target.strip_prefix("http://") else {
        return;
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Ok(mut up) = TcpStream::connect(host).await else {
        return;
    };
    let origin = head.replacen(target, if path.is_empty() { "/" } else { path }, 1);
    let _ = up.write_all(origin.as_bytes()).await;
    let _ = up.write_all(&buf[end..]).await;
    // Later requests on this connection go on as they are: the fake takes absolute form.
    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
}

fn with_credentials(addr: std::net::SocketAddr) -> String {
    format!("http://{USER}:{PASSWORD}@{addr}")
}

/// Every file a run wrote, and its stdout and stderr, hold neither credential.
fn no_credentials_in(o: &std::process::Output, out: &std::path::Path) {
    let mut all = text(o);
    if out.exists() {
        for dir in std::fs::read_dir(out).unwrap() {
            for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                all.push_str(&String::from_utf8_lossy(
                    &std::fs::read(f.unwrap().path()).unwrap(),
                ));
            }
        }
    }
    assert!(!all.contains(PASSWORD) && !all.contains(USER), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_carries_an_http_run_and_no_proxy_or_the_flag_go_direct() {
    let fake = fake().await;
    let (paddr, carried) = proxy().await;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.yaml"), scenario(&fake.url, "")).unwrap();
    let via = with_credentials(paddr);

    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "via"],
        &[("HTTP_PROXY", &via)],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    no_credentials_in(&o, &d.path().join("via"));
    let s = summary(&run_dir(&d.path().join("via")));
    assert_eq!(
        s["target"]["proxy"],
        format!("http://{paddr} (HTTP_PROXY)"),
        "{s}"
    );
    {
        let c = carried.lock().unwrap();
        let want = format!("GET {}/", fake.url);
        assert!(!c.lines.is_empty(), "the proxy carried nothing");
        assert!(
            c.lines.iter().all(|l| l.starts_with(&want)),
            "{:?}",
            c.lines
        );
        // The credentials went to the proxy (Basic base64 of user:password).
        assert!(c.auth.iter().all(|a| a.starts_with("Basic ")) && !c.auth.is_empty());
    }

    // NO_PROXY naming the target's address, or --no-proxy, go direct.
    let before = carried.lock().unwrap().lines.len();
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "bypass"],
        &[("http_proxy", &via), ("NO_PROXY", "localhost,127.0.0.1")],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "flag", "--no-proxy"],
        &[("HTTP_PROXY", &via)],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(carried.lock().unwrap().lines.len(), before, "went direct");
    assert!(summary(&run_dir(&d.path().join("flag")))["target"]["proxy"].is_null());

    // A proxy that is down: exit 2 naming the proxy, never its password.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let o = qb_async(
        d.path(),
        &[
            "run",
            "s.yaml",
            "--out",
            "down",
            "--proxy",
            &with_credentials(closed),
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("through proxy http://{closed}")),
        "{}",
        text(&o)
    );
    no_credentials_in(&o, &d.path().join("down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_tunnels_an_https_run_with_connect() {
    let fake = fake().await;
    let (pem, cfg) = server_cert();
    let tls = front(fake.addr, cfg).await;
    let (paddr, carried) = proxy().await;
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("ca.pem"), pem).unwrap();
    let url = format!("https://127.0.0.1:{}", tls.addr.port());
    std::fs::write(
        d.path().join("s.yaml"),
        scenario(&url, "  ca_cert: ca.pem\n"),
    )
    .unwrap();
    let via = with_credentials(paddr);
    // HTTP_PROXY is for http:// targets only: it must not catch this one.
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "via"],
        &[("HTTPS_PROXY", &via), ("HTTP_PROXY", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    no_credentials_in(&o, &d.path().join("via"));
    let c = carried.lock().unwrap();
    let want = format!("CONNECT 127.0.0.1:{} ", tls.addr.port());
    assert!(!c.lines.is_empty(), "the proxy carried nothing");
    assert!(
        c.lines.iter().all(|l| l.starts_with(&want)),
        "{:?}",
        c.lines
    );
    assert!(!c.auth.is_empty(), "the CONNECT carried the credentials");
}
