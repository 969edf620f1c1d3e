//! One request path: every operation of every built-in profile, rendered once, arrives
//! the same through both transports (hyper for http://, reqwest + rustls for https://)
//! and matches what `render` made: method, path and query, every header line
//! (duplicates included) and body.

use std::path::Path;

use bytes::Bytes;
use quotabench::api::template::Vars;
use quotabench::api::{Target, TransportOptions};

use crate::echo::{self, Reply, Seen};

/// The scenario's headers: credentials, plus two the profiles also set, so the test
/// sees an operation header replace a scenario header instead of doubling it.
fn scenario_headers() -> Vec<(String, String)> {
    [
        ("authorization", "Bearer t0ken"),
        ("x-api-key", "key-1"),
        ("content-type", "application/json"),
        ("x-gw-ims-org-id", "from-the-scenario"),
        ("x-extra", "kept"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Header lines as a sorted multiset, with the transport's own framing headers
/// (`host` differs by port, `content-length` follows the body) left out.
fn lines(headers: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = headers
        .iter()
        .filter(|(k, _)| k != "host" && k != "content-length")
        .cloned()
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_builtin_operation_is_the_same_request_on_both_transports() {
    let (pem, tls) = echo::self_signed();
    let ok = Reply::Fixed(200, vec![], Bytes::from_static(b"{}"));
    let plain_srv = echo::start(ok.clone(), None).await;
    let tls_srv = echo::start(ok, Some(tls)).await;
    let opts = TransportOptions {
        extra_roots_pem: vec![pem],
        ..TransportOptions::default()
    };
    let names = quotabench::api::builtin::names();
    assert!(names.len() >= 2, "the built-in profiles: {names:?}");
    let mut compared = 0;
    for name in names {
        let profile = quotabench::api::load(name, Path::new(".")).expect("a built-in profile");
        let mk = |base: String| {
            Target::with_options(&base, "org-1", profile.clone(), &scenario_headers(), &opts)
                .expect("a target")
        };
        let plain = mk(format!("http://{}", plain_srv.addr));
        let tls = mk(format!("https://127.0.0.1:{}", tls_srv.addr.port()));
        for op in profile.ops.values() {
            let vars = Vars {
                tenant: "org-1",
                amount: 3,
                request_id: "qb-7",
                seq: 7,
                id: "SD-1",
                parent: "cfg-1",
                seconds: 60,
                now_unix: 1_800_000_000,
            };
            let want = plain.render(op, &vars).expect("renders");
            let again = tls.render(op, &vars).expect("renders");
            assert_eq!(want.body(), again.body(), "{name}.{}", op.name);
            for t in [&plain, &tls] {
                let req = t.render(op, &vars).expect("renders");
                let a = t.send(req, 1 << 16).await;
                let a =
                    a.unwrap_or_else(|e| panic!("{name}.{} via {}: {e:?}", op.name, t.base_url));
                assert_eq!(a.status, 200);
            }
            let (p, s): (Seen, Seen) = (
                plain_srv
                    .seen
                    .lock()
                    .unwrap()
                    .pop()
                    .expect("the plain request arrived"),
                tls_srv
                    .seen
                    .lock()
                    .unwrap()
                    .pop()
                    .expect("the TLS request arrived"),
            );
            let at = format!("{name}.{}", op.name);
            assert_eq!(p.method, s.method, "{at}");
            assert_eq!(p.method, want.method().as_str(), "{at}");
            assert_eq!(p.path_and_query, s.path_and_query, "{at}");
            assert_eq!(
                Some(p.path_and_query.as_str()),
                want.uri().path_and_query().map(|x| x.as_str()),
                "{at}"
            );
            assert_eq!(lines(&p.headers), lines(&s.headers), "{at}");
            let rendered: Vec<(String, Vec<u8>)> = want
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect();
            assert_eq!(
                lines(&p.headers),
                lines(&rendered),
                "{at}: what render made"
            );
            // One header rule: the operation's value replaces the scenario's, once.
            for h in ["content-type", "x-gw-ims-org-id"] {
                let n = p.headers.iter().filter(|(k, _)| k == h).count();
                let m = s.headers.iter().filter(|(k, _)| k == h).count();
                assert!(n <= 1 && n == m, "{at}: {h} sent {n} / {m} times");
            }
            if name == "adobe-hygiene" {
                let org: Vec<_> = p
                    .headers
                    .iter()
                    .filter(|(k, _)| k == "x-gw-ims-org-id")
                    .collect();
                assert_eq!(org[0].1, b"org-1", "{at}: the profile's header wins");
            }
            assert!(
                p.headers
                    .iter()
                    .any(|(k, v)| k == "x-extra" && v == b"kept"),
                "{at}"
            );
            assert_eq!(p.body, s.body, "{at}");
            assert_eq!(p.body, want.body().to_vec(), "{at}");
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} operations compared");
}

#[tokio::test]
async fn the_curl_reproduction_is_the_rendered_request() {
    let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).expect("built in");
    let t = Target::new(
        "http://127.0.0.1:1",
        "org-1",
        profile.clone(),
        &scenario_headers(),
        std::time::Duration::from_secs(1),
        1,
    )
    .expect("a target");
    let op = &profile.ops["create_expiration"];
    let vars = Vars {
        tenant: "org-1",
        request_id: "r1",
        ..Vars::default()
    };
    let curl = t.curl(op, &vars);
    assert_eq!(curl.matches("content-type").count(), 1, "{curl}");
    assert!(curl.contains("x-gw-ims-org-id: org-1"), "{curl}");
    assert!(!curl.contains("from-the-scenario"), "{curl}");
    assert!(!curl.contains("t0ken"), "credentials are masked: {curl}");
    assert!(
        curl.starts_with("curl -X POST 'http://127.0.0.1:1/data/core/hygiene/ttl'"),
        "{curl}"
    );
}

#[tokio::test]
async fn a_tls_target_with_an_untrusted_certificate_is_not_sent() {
    let (_pem, tls) = echo::self_signed();
    let srv = echo::start(Reply::Fixed(200, vec![], Bytes::new()), Some(tls)).await;
    let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).expect("built in");
    // No extra roots: the self-signed certificate is refused in the handshake.
    let t = Target::new(
        &format!("https://127.0.0.1:{}", srv.addr.port()),
        "org-1",
        profile.clone(),
        &[],
        std::time::Duration::from_secs(5),
        1,
    )
    .expect("a target");
    let op = &profile.ops["list_quotas"];
    let p = t.perform(op, &Vars::default(), &mut Vec::new()).await;
    assert_eq!(
        p.outcome,
        quotabench::vocab::Outcome::NotSent,
        "{:?}",
        p.note
    );
    assert!(
        srv.seen.lock().unwrap().is_empty(),
        "nothing reached the server"
    );
}
