//! Fuzz targets (proptest): the fake's request handler. Two ways in:
//! - `Fake::handle`, what both transports call: requests assembled from the real
//!   routes' pieces and from noise (methods, paths, percent-escapes, queries, tenant
//!   and auth headers, repeated tenant headers, header values of any bytes read as the
//!   transports read them, bodies: random bytes, random JSON, valid bodies with one
//!   field broken), against virtual-clock fakes with faults off and with a few seeded;
//! - raw HTTP/1.1 bytes over loopback to a standalone fake: request lines, header
//!   lines of any bytes (non-UTF-8, bare LF, repeated tenant headers), Content-Length
//!   right or wrong, chunked framing whole or broken.
//!
//! Properties: never a panic; every answer has a status a client can read (a
//! well-formed status line on the wire), every JSON answer parses; a 4xx never changes
//! what the fake holds; the standalone fake still answers after every input.

use std::io::{Read, Write};

use proptest::prelude::*;
use quotabench_fake::{Fake, FakeConfig, FakeRequest, FaultSet};
use serde_json::{json, Value};

use crate::fuzz_support::*;

const CONFIG: &str = "clock:\n  mode: virtual\n  start: 2025-01-31T23:00:00Z\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 1000\n  monthlyConsumerDeleteIdentitiesQuota: 5000\n  datasetExpirationQuota: 2\n  exports_configs: 2\n  exports_destinations: 2\n";

/// Tenants the requests name (header values and admin paths).
const ORGS: &[&str] = &[
    "acme",
    "other",
    "",
    " ",
    "ABC@AdobeOrg",
    "\u{fffd}",
    "é\u{202e}",
];

fn noise(max: usize) -> impl Strategy<Value = String> {
    const ALPHABET: &[&str] = &[
        "a", "Z", "0", "9", "-", "_", ".", "~", "%", "%2F", "%00", "%ff", "%zz", "/", "?", "&",
        "=", "#", "é", "\u{202e}", " ", "+", "..", "{", "}", ";", "\\", "'", "\"",
    ];
    prop::collection::vec(prop::sample::select(ALPHABET), 0..=max).prop_map(|v| v.concat())
}

fn path() -> impl Strategy<Value = String> {
    let base = prop::sample::select(
        &[
            "/data/core/hygiene",
            "/v1",
            "/__admin",
            "",
            "/data/core",
            "/v1/exports",
        ][..],
    );
    const SEGS: &[&str] = &[
        "quota",
        "quotas",
        "workorder",
        "ttl",
        "exports",
        "configs",
        "destinations",
        "enable",
        "disable",
        "clock",
        "reset",
        "orgs",
        "state",
        "faults",
        "DI-1",
        "SD-1",
        "SD-3",
        "cfg-1",
        "dest-1",
        "acme",
        "ABC%40AdobeOrg",
        "",
    ];
    let seg = prop_oneof![4 => prop::sample::select(SEGS).prop_map(str::to_string), 1 => noise(8)];
    (
        base,
        prop::collection::vec(seg, 0..5),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(b, s, slash)| {
            let mut p = b.to_string();
            for x in s {
                p.push('/');
                p.push_str(&x);
            }
            if slash {
                p.push('/');
            }
            p
        })
}

fn query() -> impl Strategy<Value = Option<String>> {
    const KEYS: &[&str] = &[
        "quotaType",
        "page",
        "limit",
        "status",
        "datasetId",
        "organization_id",
        "$limit",
        "$skip",
        "enabled",
        "x",
    ];
    const VALUES: &[&str] = &[
        "0",
        "1",
        "-1",
        "100",
        "101",
        "18446744073709551616",
        "1e3",
        "",
        "acme",
        "true",
        "pending,cancelled",
        "executing",
        "dailyConsumerDeleteIdentitiesQuota",
        "quotabenchNoSuchQuota",
        "%ff",
        "%zz",
    ];
    let value =
        prop_oneof![4 => prop::sample::select(VALUES).prop_map(str::to_string), 1 => noise(6)];
    prop::option::weighted(
        0.6,
        prop::collection::vec((prop::sample::select(KEYS), value), 0..4).prop_map(|q| {
            q.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
    )
}

fn body_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!(u64::MAX)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
        Just(json!(3e11)),
        any::<bool>().prop_map(|b| json!(b)),
        noise(6).prop_map(|s| json!(s)),
        prop::sample::select(
            &[
                "2030-01-01T00:00:00Z",
                "yesterday",
                "delete_identity",
                "ALL",
                "email"
            ][..]
        )
        .prop_map(|s| json!(s)),
    ];
    const KEYS: &[&str] = &[
        "action",
        "datasetId",
        "identities",
        "namespacesIdentities",
        "namespace",
        "code",
        "id",
        "expiry",
        "now",
        "advance_seconds",
        "name",
        "organization_id",
        "enabled",
        "displayName",
        "description",
        "dailyConsumerDeleteIdentitiesQuota",
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let order = json!({"action": "delete_identity", "datasetId": "ALL", "displayName": "x",
        "description": "y", "identities": [{"namespace": {"code": "email"}, "id": "a@b"}]});
    let other = json!({"datasetId": "ds1", "expiry": "2030-01-01T00:00:00Z",
        "advance_seconds": 60, "name": "c", "enabled": true});
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
        body_json().prop_map(|v| v.to_string().into_bytes()),
        // A valid body with one field broken.
        (
            prop::sample::select(&["action", "datasetId", "identities", "displayName"][..]),
            body_json()
        )
            .prop_map(move |(k, v)| {
                let mut b = order.clone();
                b[k] = v;
                b.to_string().into_bytes()
            }),
        (
            prop::sample::select(
                &["datasetId", "expiry", "advance_seconds", "name", "enabled"][..]
            ),
            body_json()
        )
            .prop_map(move |(k, v)| {
                let mut b = other.clone();
                b[k] = v;
                b.to_string().into_bytes()
            }),
    ]
}

/// A header value's bytes: a tenant (as text or as bytes that are not UTF-8), auth,
/// content types, noise.
fn header() -> impl Strategy<Value = (String, Vec<u8>)> {
    const NOT_UTF8: &[&[u8]] = &[b"\xff", b"\xfe", b"acme\xff", b"\xc3("];
    let org = prop_oneof![
        3 => prop::sample::select(ORGS).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::sample::select(NOT_UTF8).prop_map(<[u8]>::to_vec),
    ];
    prop_oneof![
        1 => (Just("authorization"), prop::sample::select(&["Bearer t", "Bearer ", "Basic x", "bearer t", ""][..])
            .prop_map(|s| s.as_bytes().to_vec())),
        1 => (Just("x-api-key"), prop::sample::select(&["k", ""][..]).prop_map(|s| s.as_bytes().to_vec())),
        3 => (Just("x-gw-ims-org-id"), org),
        1 => (Just("content-type"), prop::sample::select(&["application/json", "text/plain", ""][..])
            .prop_map(|s| s.as_bytes().to_vec())),
        1 => (Just("x-noise"), prop::collection::vec(any::<u8>(), 0..10)),
    ]
    .prop_map(|(n, v)| (n.to_string(), v))
}

/// The fake's routes (crates/fake/src/routes), `{}` a path parameter.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/data/core/hygiene/quota"),
    ("POST", "/data/core/hygiene/workorder"),
    ("GET", "/data/core/hygiene/workorder/{}"),
    ("GET", "/data/core/hygiene/ttl"),
    ("POST", "/data/core/hygiene/ttl"),
    ("GET", "/data/core/hygiene/ttl/{}"),
    ("DELETE", "/data/core/hygiene/ttl/{}"),
    ("GET", "/v1/quotas"),
    ("GET", "/v1/exports/configs"),
    ("POST", "/v1/exports/configs"),
    ("GET", "/v1/exports/configs/{}"),
    ("DELETE", "/v1/exports/configs/{}"),
    ("POST", "/v1/exports/configs/{}/enable"),
    ("POST", "/v1/exports/configs/{}/disable"),
    ("POST", "/v1/exports/configs/{}/destinations"),
    ("DELETE", "/v1/exports/configs/{}/destinations/{}"),
    ("GET", "/__admin/clock"),
    ("POST", "/__admin/clock"),
    ("POST", "/__admin/reset"),
    ("GET", "/__admin/orgs/{}/quotas"),
    ("PUT", "/__admin/orgs/{}/quotas"),
    ("GET", "/__admin/orgs/{}/state"),
    ("GET", "/__admin/faults"),
];

/// A method and a path: a real route with its parameters drawn (ids, tenants, noise),
/// or pieces and noise.
fn target() -> impl Strategy<Value = (String, String)> {
    const METHODS: &[&str] = &[
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "BREW", "",
    ];
    const IDS: &[&str] = &[
        "DI-1",
        "SD-1",
        "SD-3",
        "cfg-1",
        "cfg-2",
        "dest-1",
        "acme",
        "other",
        "ABC%40AdobeOrg",
        "%ff",
        "",
    ];
    let param = prop_oneof![4 => prop::sample::select(IDS).prop_map(str::to_string), 1 => noise(6)];
    let real = (prop::sample::select(ROUTES), param.clone(), param)
        .prop_map(|((m, p), a, b)| (m.to_string(), p.replacen("{}", &a, 1).replacen("{}", &b, 1)));
    let made = (
        prop::sample::select(METHODS).prop_map(str::to_string),
        path(),
    );
    prop_oneof![3 => real, 1 => made]
}

fn request() -> impl Strategy<Value = FakeRequest> {
    // Credentials and a tenant up front, most of the time, so requests reach the
    // routes' own checks; the drawn headers may repeat or spoil them.
    let credentials = prop::option::weighted(0.7, prop::sample::select(&["acme", "other"][..]));
    (
        (target(), credentials),
        query(),
        prop::collection::vec(header(), 0..5),
        body(),
    )
        .prop_map(|(((m, p), credentials), q, mut hs, b)| {
            if let Some(org) = credentials {
                let up_front = [
                    ("authorization", "Bearer t"),
                    ("x-api-key", "k"),
                    ("x-gw-ims-org-id", org),
                ];
                hs.splice(
                    0..0,
                    up_front.map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())),
                );
            }
            // Header bytes are read as the transports read them (`header_pairs`); bytes no
            // header may hold (a newline) never reach the handler.
            let mut map = hyper::http::HeaderMap::new();
            for (n, v) in hs {
                if let Ok(v) = hyper::http::HeaderValue::from_bytes(&v) {
                    map.append(
                        hyper::http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                        v,
                    );
                }
            }
            let mut req = FakeRequest::new(&m, "/");
            req.path = p;
            req.query = q;
            req.headers = quotabench_fake::routes::header_pairs(&map);
            req.body = b.into();
            req
        })
}

fn fakes() -> Vec<(&'static str, Fake)> {
    let config = || FakeConfig::from_text(std::path::Path::new("<fuzz>"), CONFIG).unwrap();
    let faults = |specs: &[&str]| {
        FaultSet::parse(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    };
    vec![
        ("correct", Fake::new(config(), FaultSet::default())),
        (
            "partial-admit",
            Fake::new(config(), faults(&["partial-admit"])),
        ),
        (
            "error-rate",
            Fake::new(config(), faults(&["error-rate=30%"])),
        ),
    ]
}

/// What the fake holds for every tenant the requests name.
fn holdings(fake: &Fake) -> Vec<String> {
    ORGS.iter()
        .map(|o| serde_json::to_string(&fake.state(o)).unwrap())
        .collect()
}

/// Whether an answer is one a client can read: a status, and JSON that parses.
fn readable(resp: &quotabench_fake::FakeResponse) -> Result<(), TestCaseError> {
    prop_assert!((100..=599).contains(&resp.status), "status {}", resp.status);
    let json = resp
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/json"));
    if json && !resp.body.is_empty() {
        prop_assert!(
            serde_json::from_slice::<Value>(&resp.body).is_ok(),
            "a JSON answer that does not parse: {:?}",
            String::from_utf8_lossy(&resp.body)
        );
    }
    Ok(())
}

#[test]
fn fuzz_fake_request_handler() {
    let fakes = fakes();
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let input = (0..fakes.len(), request());
    fuzz("fuzz_fake", 8000, &input, |(which, req)| {
        let fake = &fakes[which].1;
        let before = holdings(fake);
        let resp = fake.handle(&req);
        readable(&resp)?;
        if (400..500).contains(&resp.status) {
            prop_assert_eq!(
                before,
                holdings(fake),
                "a {} changed what the fake holds",
                resp.status
            );
        }
        *statuses.borrow_mut().entry(resp.status).or_insert(0) += 1;
        Ok(())
    });
    // The requests reach past the error paths: some are served, many refused.
    let statuses = statuses.into_inner();
    eprintln!("fuzz_fake: statuses {statuses:?}");
    let ok: u32 = statuses.range(200..300).map(|(_, c)| c).sum();
    let refused: u32 = statuses.range(400..500).map(|(_, c)| c).sum();
    assert!(ok > 0 && refused > 0, "statuses seen: {statuses:?}");
}

/// How a raw request frames its body.
#[derive(Debug, Clone)]
enum Framing {
    None,
    /// `Content-Length: len + off` (off ≠ 0: wrong).
    Length(i8),
    /// `Transfer-Encoding: chunked`: each chunk's declared size off by its delta, the
    /// last chunk and trailer there or not.
    Chunked(Vec<i8>, bool),
}

#[derive(Debug, Clone)]
struct Raw {
    method: &'static str,
    target: String,
    version: &'static str,
    headers: Vec<(String, Vec<u8>)>,
    tenants: Vec<Vec<u8>>,
    framing: Framing,
    body: Text,
    lf_only: bool,
}

impl Raw {
    fn bytes(&self) -> Vec<u8> {
        let eol: &[u8] = if self.lf_only { b"\n" } else { b"\r\n" };
        let mut o = format!("{} {} {}", self.method, self.target, self.version).into_bytes();
        o.extend_from_slice(eol);
        o.extend_from_slice(b"Host: 127.0.0.1");
        o.extend_from_slice(eol);
        let line = |o: &mut Vec<u8>, n: &[u8], v: &[u8]| {
            o.extend_from_slice(n);
            o.extend_from_slice(b": ");
            o.extend_from_slice(v);
            o.extend_from_slice(eol);
        };
        for t in &self.tenants {
            line(&mut o, b"x-gw-ims-org-id", t);
        }
        for (n, v) in &self.headers {
            line(&mut o, n.as_bytes(), v);
        }
        line(&mut o, b"Connection", b"close");
        let mut body = Vec::new();
        match &self.framing {
            Framing::None => body.extend_from_slice(&self.body.0),
            Framing::Length(off) => {
                let n = (self.body.0.len() as i64 + i64::from(*off)).max(0);
                line(&mut o, b"Content-Length", n.to_string().as_bytes());
                body.extend_from_slice(&self.body.0);
            }
            Framing::Chunked(deltas, ended) => {
                line(&mut o, b"Transfer-Encoding", b"chunked");
                let parts = deltas.len().max(1);
                let size = self.body.0.len().div_ceil(parts).max(1);
                for (i, piece) in self.body.0.chunks(size).enumerate() {
                    let d = i64::from(deltas.get(i).copied().unwrap_or(0));
                    let declared = (piece.len() as i64 + d).max(0);
                    body.extend_from_slice(format!("{declared:x}\r\n").as_bytes());
                    body.extend_from_slice(piece);
                    body.extend_from_slice(b"\r\n");
                }
                if *ended {
                    body.extend_from_slice(b"0\r\n\r\n");
                }
            }
        }
        o.extend_from_slice(eol);
        o.extend_from_slice(&body);
        o
    }
}

fn raw() -> impl Strategy<Value = Raw> {
    let method = prop::sample::select(
        &[
            "GET", "POST", "PUT", "DELETE", "PATCH", "BREW", "G\u{e9}T", "",
        ][..],
    );
    let target = prop_oneof![
        4 => (path(), query()).prop_map(|(p, q)| match q {
            Some(q) => format!("/{}?{q}", p.trim_start_matches('/')),
            None => format!("/{}", p.trim_start_matches('/')),
        }),
        1 => noise(12),
        1 => Just("http://127.0.0.1/data/core/hygiene/quota".to_string()),
        1 => Just("*".to_string()),
    ];
    let version =
        prop::sample::select(&["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/9.9", "http/1.1", ""][..]);
    let header = prop_oneof![
        3 => header().prop_map(|(n, v)| (n, v)),
        1 => ("[ -~]{0,12}", prop::collection::vec(any::<u8>(), 0..16)),
    ];
    let tenant = prop_oneof![
        prop::sample::select(ORGS).prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..6),
    ];
    let framing = prop_oneof![
        1 => Just(Framing::None),
        2 => prop_oneof![3 => Just(0i8), 1 => -4i8..4].prop_map(Framing::Length),
        2 => (prop::collection::vec(prop_oneof![3 => Just(0i8), 1 => -3i8..3], 1..4), prop::bool::weighted(0.8))
            .prop_map(|(d, e)| Framing::Chunked(d, e)),
    ];
    (
        method,
        target,
        prop_oneof![4 => Just("HTTP/1.1"), 1 => version],
        prop::collection::vec(header, 0..4),
        prop::collection::vec(tenant, 0..3),
        framing,
        body(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(method, target, version, headers, tenants, framing, body, lf_only)| Raw {
                method,
                target,
                version,
                headers,
                tenants,
                framing,
                body: Text(body),
                lf_only,
            },
        )
}

/// Sends `bytes` on a fresh connection and reads the answer to the end (every request
/// says `Connection: close`). A request the fake is still reading (a body shorter than
/// it said) gets no answer yet: after a short wait the sending side is closed, which
/// ends it. Not closed at once, so the framing under test is the only thing that ends
/// a request (a half-close right after a request is its own test, in cli_fake).
fn exchange(addr: &str, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = std::net::TcpStream::connect(addr)?;
    // The fake may answer (and close) before taking every byte: that is fine.
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(std::time::Duration::from_millis(300)))?;
    let mut closed = false;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if closed {
                    return Err(e);
                }
                // Waiting on us: end the request, and bound a hang (not a speed check).
                let _ = s.shutdown(std::net::Shutdown::Write);
                s.set_read_timeout(Some(std::time::Duration::from_secs(20)))?;
                closed = true;
            }
            // Closed on us after a refusal, the answer already read.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

/// Every status line in `answer` is `HTTP/1.x NNN ...` with NNN in 100..=599.
fn status_line(answer: &[u8]) -> Result<u16, TestCaseError> {
    let head = answer.split(|b| *b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(head);
    let mut parts = text.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    prop_assert!(
        (version == "HTTP/1.1" || version == "HTTP/1.0")
            && code.is_some_and(|c| (100..=599).contains(&c)),
        "not a status line: {text:?}"
    );
    Ok(code.unwrap_or_default())
}

#[test]
fn fuzz_fake_raw_http_over_loopback() {
    let fake = crate::common::standalone_fake_piped(&[]);
    let addr = fake.addr.clone();
    let alive = b"GET /data/core/hygiene/quota HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nx-api-key: k\r\nx-gw-ims-org-id: acme\r\nConnection: close\r\n\r\n";
    let answered = std::cell::Cell::new(0u32);
    fuzz("fuzz_fake_raw", 300, &raw(), |r| {
        let answer = exchange(&addr, &r.bytes())
            .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
        // An answer is a readable status line; a connection closed without one is
        // hyper refusing bytes that are no HTTP at all.
        if !answer.is_empty() {
            status_line(&answer)?;
            answered.set(answered.get() + 1);
        }
        // The fake survives every input.
        let after = exchange(&addr, alive)
            .map_err(|e| TestCaseError::fail(format!("the fake stopped answering: {e}")))?;
        prop_assert_eq!(
            status_line(&after)?,
            200,
            "after the input: {}",
            String::from_utf8_lossy(&after)
        );
        Ok(())
    });
    assert!(answered.get() > 0, "no raw request got an answer");
}
