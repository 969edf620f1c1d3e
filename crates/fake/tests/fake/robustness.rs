//! Malformed input of every kind never panics, always gets a 4xx in the API's style,
//! and never changes state.

use crate::support::*;
use quotabench_fake::FakeRequest;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// A random JSON value of bounded depth (never a valid order: see the callers).
fn random_json(rng: &mut SmallRng, depth: u32) -> Value {
    match rng.random_range(0..if depth == 0 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => json!(rng.random::<i64>()),
        2 => json!(rng.random::<bool>()),
        3 => json!("x".repeat(rng.random_range(0..5))),
        4 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "action",
                "datasetId",
                "identities",
                "namespacesIdentities",
                "expiry",
                "ids",
                "namespace",
                "id",
                "now",
                "advance_seconds",
                "name",
            ];
            let mut m = serde_json::Map::new();
            for _ in 0..rng.random_range(0..4) {
                let k = keys[rng.random_range(0..keys.len())];
                m.insert(k.to_string(), random_json(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn random_body(rng: &mut SmallRng) -> Vec<u8> {
    match rng.random_range(0..3) {
        0 => (0..rng.random_range(0..64))
            .map(|_| rng.random::<u8>())
            .collect(),
        1 => random_json(rng, 3).to_string().into_bytes(),
        _ => {
            // Almost-valid work orders: one field broken.
            let mut b = workorder_body(2);
            let field = ["action", "datasetId", "identities"][rng.random_range(0..3)];
            b[field] = random_json(rng, 1);
            if field == "action" && b[field] == "delete_identity" {
                b[field] = json!(1);
            }
            if field == "datasetId" && b[field].as_str().is_some_and(|s| !s.trim().is_empty()) {
                b[field] = json!("");
            }
            b.to_string().into_bytes()
        }
    }
}

#[test]
fn garbage_never_panics_and_never_changes_state() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let mut rng = SmallRng::seed_from_u64(7);
    let consuming = [("POST", "/workorder"), ("POST", "/ttl")];
    for _ in 0..600 {
        let (m, p) = consuming[rng.random_range(0..consuming.len())];
        let body = random_body(&mut rng);
        let r = f.handle(&adobe(m, p, "o").body(body.clone()));
        if r.status == 201 {
            // The generator never repairs the broken field (see random_body).
            let v: Value = serde_json::from_slice(&body).unwrap();
            panic!("accepted {v}");
        }
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&body));
        assert!(r.json_body()["error_code"]
            .as_str()
            .unwrap()
            .starts_with("400"));
    }
    let s = f.state("o");
    assert!(s.quotas.iter().all(|q| q.consumed == 0), "{s:?}");
    assert_eq!(s.workorders_retained, 0);
    assert_eq!(s.pending_expirations, 0);
}

#[test]
fn odd_paths_methods_and_headers_are_4xx() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let mut rng = SmallRng::seed_from_u64(11);
    let paths = [
        "/",
        "",
        "//",
        "/data",
        "/data/core/hygiene",
        "/data/core/hygiene/",
        "/data/core/hygienex/quota",
        "/data/core/hygiene//quota/",
        "/data/core/hygiene/quota/extra",
        "/data/core/hygiene/ttl/SD-1/x",
        "/data/core/hygiene/workorder/%00",
        "/v1",
        "/v1/",
        "/v1/quotas/1",
        "/v1/exports",
        "/v1/exports/configs/cfg-1/enable/now",
        "/v1/exports/configs/cfg-%FF/destinations",
        "/__admin",
        "/__admin/orgs",
        "/__admin/orgs//state/x",
        "/__adminx",
    ];
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW", "",
    ];
    for _ in 0..800 {
        let p = paths[rng.random_range(0..paths.len())];
        let m = methods[rng.random_range(0..methods.len())];
        let mut req = FakeRequest::new(m, p).body(random_body(&mut rng));
        if rng.random_bool(0.5) {
            req = req
                .header(
                    "authorization",
                    ["Bearer x", "Bearer", "", "bearer  y", "\u{1F600}"][rng.random_range(0..5)],
                )
                .header("x-api-key", "k")
                .header("x-gw-ims-org-id", ["o", "", " "][rng.random_range(0..3)]);
        }
        let r = f.handle(&req);
        assert!(
            (400..500).contains(&r.status) || r.status == 200,
            "{m} {p}: {}",
            r.status
        );
        if r.status != 200 {
            assert!(r.json_body().is_object(), "{m} {p}: JSON error body");
        }
    }
    // A GET of an admin route may answer 200; nothing may have consumed anything.
    for org in ["o", "", " "] {
        assert!(f.state(org).quotas.iter().all(|q| q.consumed == 0));
    }
    let very_long = format!("/data/core/hygiene/workorder/{}", "9".repeat(10_000));
    assert_eq!(f.handle(&adobe("GET", &very_long, "o")).status, 404);
    let long_org = "o".repeat(300);
    assert_eq!(order(&f, &long_org, 1).status, 400);
}

#[test]
fn an_ambiguous_organization_header_is_refused_and_changes_nothing() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let body = workorder_body(1).to_string();
    let twice = adobe("POST", "/workorder", "org-a")
        .header("x-gw-ims-org-id", "org-b")
        .body(body.clone());
    let r = f.handle(&twice);
    assert_eq!(r.status, 400, "two organization headers");
    // Bytes that are not UTF-8 reach the routes decoded lossily (U+FFFD).
    let lossy = adobe("POST", "/workorder", "\u{FFFD}").body(body);
    assert_eq!(f.handle(&lossy).status, 400, "a non-UTF-8 organization");
    for org in ["org-a", "org-b", "\u{FFFD}"] {
        assert!(f.state(org).quotas.iter().all(|q| q.consumed == 0), "{org}");
    }
    // One plain header is served as before.
    assert_eq!(order(&f, "org-a", 1).status, 201);
}
