//! Fuzz target: the fake's request handler (`Fake::handle`, what both transports call).
//! Requests assembled from the real routes' pieces and from noise (methods, paths,
//! percent-escapes, queries, tenant and auth headers, bodies: random bytes, random JSON,
//! valid bodies with one field broken), against a virtual-clock fake with faults off
//! and with a few seeded: never a panic, always a status a client can read, and every
//! JSON answer parses.

use quotabench_fake::{Fake, FakeConfig, FakeRequest, FaultSet};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};

use crate::fuzz_support::*;

const CONFIG: &str = "clock:\n  mode: virtual\n  start: 2025-01-31T23:00:00Z\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 1000\n  monthlyConsumerDeleteIdentitiesQuota: 5000\n  datasetExpirationQuota: 2\n  exports_configs: 2\n  exports_destinations: 2\n";

fn pick<'a>(r: &mut SmallRng, from: &[&'a str]) -> &'a str {
    from[r.random_range(0..from.len())]
}

fn noise(r: &mut SmallRng, max: usize) -> String {
    let alphabet = [
        "a", "Z", "0", "9", "-", "_", ".", "~", "%", "%2F", "%00", "%ff", "%zz", "/", "?", "&",
        "=", "#", "é", "\u{202e}", " ", "+", "..", "{", "}", ";", "\\", "'", "\"",
    ];
    (0..r.random_range(0..=max))
        .map(|_| pick(r, &alphabet))
        .collect()
}

fn path(r: &mut SmallRng) -> String {
    let base = pick(
        r,
        &[
            "/data/core/hygiene",
            "/v1",
            "/__admin",
            "",
            "/data/core",
            "/v1/exports",
        ],
    );
    let segs = [
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
    let mut p = base.to_string();
    for _ in 0..r.random_range(0..5) {
        p.push('/');
        if r.random_bool(0.8) {
            p.push_str(pick(r, &segs));
        } else {
            p.push_str(&noise(r, 8));
        }
    }
    if r.random_bool(0.1) {
        p.push('/');
    }
    p
}

fn query(r: &mut SmallRng) -> Option<String> {
    if r.random_bool(0.4) {
        return None;
    }
    let keys = [
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
    let values = [
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
    let mut q = Vec::new();
    for _ in 0..r.random_range(0..4) {
        let v = if r.random_bool(0.8) {
            pick(r, &values).to_string()
        } else {
            noise(r, 6)
        };
        q.push(format!("{}={v}", pick(r, &keys)));
    }
    Some(q.join("&"))
}

fn hostile_json(r: &mut SmallRng, depth: u32) -> Value {
    match r.random_range(0..if depth == 0 { 9 } else { 11 }) {
        0 => Value::Null,
        1 => json!(r.random::<i64>()),
        2 => json!(u64::MAX),
        3 => json!(1e300),
        4 => json!(-0.5),
        5 => json!(r.random::<bool>()),
        6 => json!(noise(r, 6)),
        7 => json!(pick(
            r,
            &[
                "2030-01-01T00:00:00Z",
                "yesterday",
                "delete_identity",
                "ALL",
                "email"
            ]
        )),
        8 => json!(3e11),
        9 => Value::Array(
            (0..r.random_range(0..4))
                .map(|_| hostile_json(r, depth - 1))
                .collect(),
        ),
        _ => {
            let keys = [
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
            let mut m = serde_json::Map::new();
            for _ in 0..r.random_range(0..5) {
                m.insert(pick(r, &keys).to_string(), hostile_json(r, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn body(r: &mut SmallRng) -> Vec<u8> {
    match r.random_range(0..5) {
        0 => Vec::new(),
        1 => (0..r.random_range(0..64))
            .map(|_| r.random::<u8>())
            .collect(),
        2 => hostile_json(r, 3).to_string().into_bytes(),
        3 => {
            // A valid work order with one field broken.
            let mut b = json!({"action": "delete_identity", "datasetId": "ALL", "displayName": "x",
                "description": "y", "identities": [{"namespace": {"code": "email"}, "id": "a@b"}]});
            let k = pick(r, &["action", "datasetId", "identities", "displayName"]);
            b[k] = hostile_json(r, 2);
            b.to_string().into_bytes()
        }
        _ => {
            let mut b = json!({"datasetId": "ds1", "expiry": "2030-01-01T00:00:00Z",
                "advance_seconds": 60, "name": "c", "enabled": true});
            let k = pick(
                r,
                &["datasetId", "expiry", "advance_seconds", "name", "enabled"],
            );
            b[k] = hostile_json(r, 2);
            b.to_string().into_bytes()
        }
    }
}

fn request(r: &mut SmallRng) -> FakeRequest {
    let method = pick(
        r,
        &[
            "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "BREW", "",
        ],
    );
    let mut req = FakeRequest::new(method, "/");
    req.path = path(r);
    req.query = query(r);
    let orgs = [
        "acme",
        "other",
        "",
        " ",
        "ABC@AdobeOrg",
        "\u{fffd}",
        "é\u{202e}",
    ];
    for _ in 0..r.random_range(0..6) {
        let (name, value) = match r.random_range(0..6) {
            0 => (
                "authorization",
                pick(r, &["Bearer t", "Bearer ", "Basic x", "bearer t", ""]).to_string(),
            ),
            1 => ("x-api-key", pick(r, &["k", ""]).to_string()),
            2 | 3 => ("x-gw-ims-org-id", pick(r, &orgs).to_string()),
            4 => (
                "content-type",
                pick(r, &["application/json", "text/plain", ""]).to_string(),
            ),
            _ => ("x-noise", noise(r, 10)),
        };
        req.headers.push((name.to_string(), value));
    }
    req.body = body(r).into();
    req
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
        (
            "default config",
            Fake::new(FakeConfig::default(), FaultSet::default()),
        ),
    ]
}

#[test]
fn fuzz_fake_request_handler() {
    let (mut r, seed) = rng("fake");
    let fakes = fakes();
    let n = cases(20_000);
    let mut statuses = std::collections::BTreeMap::new();
    for case in 0..n {
        let (name, fake) = &fakes[case % fakes.len()];
        let req = request(&mut r);
        let about = || format!("seed {seed} case {case} ({name} fake): {req:?}");
        let resp = no_panic(about, || fake.handle(&req));
        assert!(
            (100..=599).contains(&resp.status),
            "status {} for {}",
            resp.status,
            about()
        );
        let json = resp
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/json"));
        if json && !resp.body.is_empty() {
            assert!(
                serde_json::from_slice::<Value>(&resp.body).is_ok(),
                "a JSON answer that does not parse ({:?}) for {}",
                String::from_utf8_lossy(&resp.body),
                about()
            );
        }
        *statuses.entry(resp.status).or_insert(0u32) += 1;
    }
    // The requests reach past the error paths: some are served, many refused.
    let ok: u32 = statuses.range(200..300).map(|(_, c)| c).sum();
    let refused: u32 = statuses.range(400..500).map(|(_, c)| c).sum();
    assert!(ok > 0 && refused > 0, "statuses seen: {statuses:?}");
}
