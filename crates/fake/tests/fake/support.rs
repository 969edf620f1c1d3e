//! Helpers shared by the fake's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use quotabench_fake::{Fake, FakeConfig, FakeRequest, FakeResponse, FaultSet};
use serde_json::{json, Value};

/// A fake from inline mocks YAML and fault specs.
pub fn fake(yaml: &str, faults: &[&str]) -> Arc<Fake> {
    let config = if yaml.trim().is_empty() {
        FakeConfig::default()
    } else {
        FakeConfig::from_text(std::path::Path::new("<test>"), yaml).expect("test config")
    };
    let faults =
        FaultSet::parse(&faults.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("faults");
    Arc::new(Fake::new(config, faults))
}

/// A virtual-clock config with small limits (day 1000, month 5000, 2 expirations,
/// 2 configurations, 2 destinations) starting at 2025-01-31T23:00:00Z.
pub const SMALL_VIRTUAL: &str = "clock:\n  mode: virtual\n  start: 2025-01-31T23:00:00Z\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 1000\n  monthlyConsumerDeleteIdentitiesQuota: 5000\n  datasetExpirationQuota: 2\n  exports_configs: 2\n  exports_destinations: 2\n";

/// An authenticated Adobe request for `org`.
pub fn adobe(method: &str, path: &str, org: &str) -> FakeRequest {
    FakeRequest::new(method, &format!("/data/core/hygiene{path}"))
        .header("authorization", "Bearer tok")
        .header("x-api-key", "key")
        .header("x-gw-ims-org-id", org)
        .header("content-type", "application/json")
}

/// An authenticated Didomi request (`organization_id` added to the query).
pub fn didomi(method: &str, path: &str, org: &str) -> FakeRequest {
    let sep = if path.contains('?') { '&' } else { '?' };
    FakeRequest::new(method, &format!("/v1{path}{sep}organization_id={org}"))
        .header("authorization", "Bearer tok")
        .header("content-type", "application/json")
}

/// A work-order body with `n` identities.
pub fn workorder_body(n: usize) -> Value {
    let ids: Vec<Value> = (0..n)
        .map(|i| json!({"namespace": {"code": "email"}, "id": format!("u{i}@x.test")}))
        .collect();
    json!({"action": "delete_identity", "datasetId": "ALL", "displayName": "t", "description": "d", "identities": ids})
}

/// POSTs a work order of `n` identities for `org`.
pub fn order(f: &Fake, org: &str, n: usize) -> FakeResponse {
    f.handle(&adobe("POST", "/workorder", org).body(workorder_body(n).to_string()))
}

/// The ground-truth consumed value of `quota` for `org`.
pub fn consumed(f: &Fake, org: &str, quota: &str) -> u64 {
    truth(f, org, quota)["consumed"].as_u64().expect("consumed")
}

/// The ground-truth entry of `quota` for `org`.
pub fn truth(f: &Fake, org: &str, quota: &str) -> Value {
    let r = f.handle(&FakeRequest::new(
        "GET",
        &format!("/__admin/orgs/{org}/state"),
    ));
    assert_eq!(r.status, 200);
    r.json_body()["quotas"]
        .as_array()
        .expect("quotas")
        .iter()
        .find(|q| q["name"] == quota)
        .cloned()
        .expect("quota in state")
}

/// Moves the virtual clock.
pub fn advance(f: &Fake, seconds: f64) {
    let r = f.handle(
        &FakeRequest::new("POST", "/__admin/clock")
            .body(json!({ "advance_seconds": seconds }).to_string()),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Sets the virtual clock.
pub fn set_clock(f: &Fake, now: &str) {
    let r = f.handle(
        &FakeRequest::new("POST", "/__admin/clock").body(json!({ "now": now }).to_string()),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// GET /quota as a name → (consumed, quota) map.
pub fn listed(f: &Fake, org: &str) -> Vec<(String, u64, u64)> {
    let r = f.handle(&adobe("GET", "/quota", org));
    assert_eq!(r.status, 200);
    r.json_body()["quotas"]
        .as_array()
        .expect("quotas")
        .iter()
        .map(|q| {
            (
                q["name"].as_str().unwrap_or_default().to_string(),
                q["consumed"].as_u64().unwrap_or(u64::MAX),
                q["quota"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

/// The repository root: the mocks files (`mocks/*.yaml`) are shared with the harness
/// and live there, two levels above this crate.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
