//! A load worker's own keep-alive connection (src/api/worker_conn.rs): it puts on the
//! wire exactly what the pooled client puts there (Host header and origin-form target
//! included), carries every request of the worker on one connection, and opens a new one
//! when the target closes it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use quotabench::api::template::Vars;
use quotabench::api::{owning_connection, Target, TransportOptions};

use crate::echo::{self, Reply};

fn headers() -> Vec<(String, String)> {
    [("authorization", "Bearer t0ken"), ("x-api-key", "key-1")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn vars() -> Vars<'static> {
    Vars {
        tenant: "org-1",
        amount: 3,
        request_id: "qb-7",
        seq: 7,
        id: "SD-1",
        parent: "cfg-1",
        seconds: 60,
        now_unix: 1_800_000_000,
    }
}

#[tokio::test]
async fn a_workers_connection_sends_what_the_pool_sends() {
    let srv = echo::start(Reply::Fixed(200, vec![], Bytes::from_static(b"{}")), None).await;
    let mut compared = 0;
    for name in quotabench::api::builtin::names() {
        let profile = quotabench::api::load(name, Path::new(".")).expect("a built-in profile");
        let base = format!("http://{}", srv.addr);
        let t = Target::with_options(
            &base,
            "org-1",
            profile.clone(),
            &headers(),
            &TransportOptions::default(),
        )
        .expect("a target");
        for op in profile.ops.values() {
            let pooled = t.send(t.render(op, &vars()).unwrap(), 1 << 16).await;
            assert_eq!(pooled.expect("pooled answer").status, 200);
            let by_pool = srv.seen.lock().unwrap().pop().expect("arrived");
            let owned =
                owning_connection(async { t.send(t.render(op, &vars()).unwrap(), 1 << 16).await })
                    .await;
            assert_eq!(owned.expect("owned answer").status, 200);
            let by_worker = srv.seen.lock().unwrap().pop().expect("arrived");
            // Every header line in order (host and content-length included), path, body.
            assert_eq!(by_worker, by_pool, "{name}.{}", op.name);
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} operations compared");
}

/// A server on 127.0.0.1 answering 200 `{}` (with `connection: close` when asked),
/// counting the connections it accepted.
async fn counting_server(close: bool) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| async move {
                    let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                    if close {
                        r.headers_mut().insert(
                            "connection",
                            hyper::header::HeaderValue::from_static("close"),
                        );
                    }
                    Ok::<_, std::convert::Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn a_worker_keeps_one_connection_and_reconnects_when_the_target_closes_it() {
    for close in [false, true] {
        let (addr, accepted) = counting_server(close).await;
        let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).unwrap();
        let t = Target::with_options(
            &format!("http://{addr}"),
            "org-1",
            profile.clone(),
            &headers(),
            &TransportOptions::default(),
        )
        .unwrap();
        let list = &profile.ops["list_quotas"];
        let statuses = owning_connection(async {
            let mut s = Vec::new();
            for _ in 0..10 {
                let a = t.send(t.render(list, &vars()).unwrap(), 1 << 16).await;
                s.push(a.map(|a| a.status).map_err(|e| format!("{e:?}")));
            }
            s
        })
        .await;
        assert!(
            statuses.iter().all(|s| s == &Ok(200)),
            "close {close}: {statuses:?}"
        );
        let want = if close { 10 } else { 1 };
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            want,
            "close {close}: connections opened"
        );
    }
}

/// A server on 127.0.0.1 that reads requests and never answers.
async fn silent_server() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut b = [0u8; 4096];
                while let Ok(n) = tokio::io::AsyncReadExt::read(&mut tcp, &mut b).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_workers_exchange_is_bounded_by_the_timeout_and_its_timer_rearms() {
    let silent = silent_server().await;
    let (good, _) = counting_server(false).await;
    let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).unwrap();
    let opts = TransportOptions {
        timeout: std::time::Duration::from_millis(300),
        ..TransportOptions::default()
    };
    let mk = |addr: std::net::SocketAddr| {
        Target::with_options(
            &format!("http://{addr}"),
            "org-1",
            profile.clone(),
            &headers(),
            &opts,
        )
        .unwrap()
    };
    let (silent_t, good_t) = (mk(silent), mk(good));
    let list = &profile.ops["list_quotas"];
    let got = owning_connection(async {
        let mut got = Vec::new();
        // Good, silent, silent (a timer that already fired is set again), good.
        for t in [&good_t, &silent_t, &silent_t, &good_t] {
            let a = t.send(t.render(list, &vars()).unwrap(), 1 << 16).await;
            got.push(a.map(|a| a.status).map_err(|e| format!("{e:?}")));
        }
        got
    })
    .await;
    let timed_out = Err("Indeterminate(\"no answer within 300ms\")".to_string());
    assert_eq!(got, vec![Ok(200), timed_out.clone(), timed_out, Ok(200)]);
}
