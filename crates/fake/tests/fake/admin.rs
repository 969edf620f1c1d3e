//! The fake's admin API: clock, reset, limits, ground truth, faults.

use crate::support::*;
use quotabench_fake::{catalogue, FakeRequest};
use serde_json::json;

fn admin(method: &str, path: &str, body: serde_json::Value) -> FakeRequest {
    FakeRequest::new(method, path).body(body.to_string())
}

#[test]
fn virtual_clock_can_be_read_set_and_advanced() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let r = f.handle(&FakeRequest::new("GET", "/__admin/clock"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["now"], "2025-01-31T23:00:00Z");
    assert_eq!(r.json_body()["virtual"], true);
    let r = f.handle(&admin(
        "POST",
        "/__admin/clock",
        json!({"advance_seconds": 90.5}),
    ));
    assert_eq!(r.json_body()["now"], "2025-01-31T23:01:30.5Z");
    let r = f.handle(&admin(
        "POST",
        "/__admin/clock",
        json!({"now": "2030-06-01T12:00:00+02:00"}),
    ));
    assert_eq!(r.json_body()["now"], "2030-06-01T10:00:00Z");
    for bad in [
        json!({}),
        json!({"now": "yesterday"}),
        json!({"advance_seconds": "10"}),
        json!({"now": "2030-01-01T00:00:00Z", "advance_seconds": 1}),
        json!([1]),
    ] {
        let r = f.handle(&admin("POST", "/__admin/clock", bad.clone()));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json_body()["error"].is_string());
    }
    assert_eq!(
        f.handle(&FakeRequest::new("POST", "/__admin/clock").body("{"))
            .status,
        400
    );
    let r = f.handle(&FakeRequest::new("GET", "/__admin/clock"));
    assert_eq!(
        r.json_body()["now"],
        "2030-06-01T10:00:00Z",
        "bad requests moved nothing"
    );
}

#[test]
fn real_clock_refuses_to_move() {
    let f = fake("", &[]);
    let r = f.handle(&admin(
        "POST",
        "/__admin/clock",
        json!({"advance_seconds": 1}),
    ));
    assert_eq!(r.status, 409);
    assert_eq!(
        f.handle(&FakeRequest::new("GET", "/__admin/clock"))
            .json_body()["virtual"],
        false
    );
}

#[test]
fn limits_can_be_set_per_org_and_reset_restores_the_config() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let r = f.handle(&admin(
        "PUT",
        "/__admin/orgs/o/quotas",
        json!({"dailyConsumerDeleteIdentitiesQuota": 3, "exports_configs": 9}),
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["dailyConsumerDeleteIdentitiesQuota"], 3);
    assert_eq!(order(&f, "o", 4).status, 429);
    assert_eq!(order(&f, "o", 3).status, 201);
    assert_eq!(
        listed(&f, "o")[1],
        ("dailyConsumerDeleteIdentitiesQuota".into(), 3, 3)
    );
    let r = f.handle(&FakeRequest::new("GET", "/__admin/orgs/o/quotas"));
    assert_eq!(r.json_body()["exports_configs"], 9);
    // All or nothing: an unknown name or a bad value changes nothing.
    for bad in [
        json!({"dailyConsumerDeleteIdentitiesQuota": 50, "nope": 1}),
        json!({"exports_configs": -1}),
        json!({"exports_configs": "3"}),
        json!([]),
    ] {
        let r = f.handle(&admin("PUT", "/__admin/orgs/o/quotas", bad.clone()));
        assert_eq!(r.status, 400, "{bad}");
    }
    assert_eq!(
        f.handle(&FakeRequest::new("GET", "/__admin/orgs/o/quotas"))
            .json_body()["dailyConsumerDeleteIdentitiesQuota"],
        3
    );

    advance(&f, 10.0);
    let r = f.handle(&FakeRequest::new("POST", "/__admin/reset"));
    assert_eq!(r.status, 200);
    assert!(!f.state("o").exists);
    assert_eq!(
        listed(&f, "o")[1],
        ("dailyConsumerDeleteIdentitiesQuota".into(), 0, 1000)
    );
    let r = f.handle(&FakeRequest::new("GET", "/__admin/clock"));
    assert_eq!(r.json_body()["now"], "2025-01-31T23:00:00Z");
}

#[test]
fn state_is_the_exact_ground_truth() {
    let f = fake(SMALL_VIRTUAL, &[]);
    order(&f, "o", 5);
    let r = f.handle(&FakeRequest::new("GET", "/__admin/orgs/o/state"));
    assert_eq!(r.status, 200);
    let b = r.json_body();
    assert_eq!(b["org"], "o");
    assert_eq!(b["exists"], true);
    assert_eq!(b["workorders_retained"], 1);
    let daily = truth(&f, "o", "dailyConsumerDeleteIdentitiesQuota");
    assert_eq!(daily["consumed"], 5);
    assert_eq!(daily["limit"], 1000);
    assert_eq!(daily["kind"], "daily");
    // 2025-01-31 is day 20119 since the epoch; January 2025 is month 2025*12+0.
    assert_eq!(daily["period"], 20119);
    assert_eq!(daily["current_period"], 20119);
    let monthly = truth(&f, "o", "monthlyConsumerDeleteIdentitiesQuota");
    assert_eq!(monthly["period"], 2025 * 12);
    let conc = truth(&f, "o", "datasetExpirationQuota");
    assert_eq!(
        (conc["consumed"].as_u64(), conc["active"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn faults_endpoint_lists_catalogue_and_active_ones() {
    let f = fake("", &["partial-admit", "latency=1ms"]);
    let r = f.handle(&FakeRequest::new("GET", "/__admin/faults"));
    assert_eq!(r.status, 200);
    let b = r.json_body();
    assert_eq!(b["active"], json!(["partial-admit", "latency=1ms"]));
    assert_eq!(b["catalogue"].as_array().unwrap().len(), catalogue().len());
    let active: Vec<_> = b["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["active"] == true)
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(active, vec!["partial-admit", "latency"]);
    // Admin answers are never delayed by performance faults.
    assert_eq!(r.delay, None);
}

#[test]
fn admin_errors_for_unknown_routes_and_methods() {
    let f = fake("", &[]);
    assert_eq!(
        f.handle(&FakeRequest::new("GET", "/__admin/nope")).status,
        404
    );
    assert_eq!(
        f.handle(&FakeRequest::new("GET", "/__admin/reset")).status,
        405
    );
    assert_eq!(
        f.handle(&FakeRequest::new("DELETE", "/__admin/orgs/o/state"))
            .status,
        405
    );
}

#[test]
fn catalogue_has_the_agreed_names_and_rule_ids() {
    let got: Vec<(&str, &str)> = catalogue().iter().map(|f| (f.name, f.rule_id)).collect();
    assert_eq!(
        got,
        vec![
            ("non-atomic", "limit.never-exceeded"),
            ("count-invalid", "rejected.invalid-not-counted"),
            ("count-quota-rejected", "rejected.quota-not-counted"),
            ("daily-never-resets", "reset.period-boundary"),
            ("reset-local-time", "reset.period-boundary"),
            ("reset-rolling", "reset.period-boundary"),
            ("monthly-resets-daily", "reset.monthly-not-daily"),
            ("admit-over-limit", "limit.never-exceeded"),
            ("reject-before-limit", "limit.rejection-justified"),
            ("partial-admit", "order.all-or-nothing"),
            ("cancel-keeps-slot", "concurrent.release-frees"),
            ("list-lag", "accounting.snapshots-consistent"),
            ("tenant-leak", "isolation.tenants"),
            ("quota-reject-500", "limit.rejection-shape"),
            ("filter-ignored", "listing.filter"),
            ("unknown-filter-lists-all", "listing.unknown-filter"),
            ("no-auth", "auth.required"),
            ("latency", "-"),
            ("stall", "-"),
            ("error-rate", "-"),
        ]
    );
}

#[test]
fn every_mocks_file_loads() {
    let dir = repo_root().join("mocks");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            quotabench_fake::FakeConfig::load(&p).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 2);
    let err =
        quotabench_fake::FakeConfig::load(std::path::Path::new("mocks/missing.yaml")).unwrap_err();
    assert!(err.message.contains("cannot read"));
}

#[test]
fn admin_paths_percent_decode_org_ids() {
    let f = fake(SMALL_VIRTUAL, &[]);
    assert_eq!(order(&f, "ABC 1@AdobeOrg", 4).status, 201);
    let r = f.handle(&FakeRequest::new(
        "GET",
        "/__admin/orgs/ABC%201%40AdobeOrg/state",
    ));
    assert_eq!(r.json_body()["org"], "ABC 1@AdobeOrg");
    assert_eq!(r.json_body()["quotas"][1]["consumed"], 4);
}

#[test]
fn reject_400_mocks_shape_rejections_as_declared() {
    let path = repo_root().join("mocks/reject-400.yaml");
    let config = quotabench_fake::FakeConfig::load(&path).unwrap();
    let f = std::sync::Arc::new(quotabench_fake::Fake::new(
        config,
        quotabench_fake::FaultSet::none(),
    ));
    assert_eq!(order(&f, "o", 1000).status, 201);
    let r = order(&f, "o", 1);
    assert_eq!(r.status, 400);
    assert_eq!(r.json_body()["code"], "QUOTA_EXCEEDED");
    assert_eq!(r.json_body()["quota"], "dailyConsumerDeleteIdentitiesQuota");
    assert!(r.json_body()["message"]
        .as_str()
        .unwrap()
        .starts_with("quota exceeded: dailyConsumerDeleteIdentitiesQuota"));
    let mut last = None;
    for _ in 0..4 {
        let c = f
            .handle(&didomi("POST", "/exports/configs", "o"))
            .json_body()["id"]
            .as_str()
            .unwrap()
            .to_string();
        last = Some(f.handle(&didomi(
            "POST",
            &format!("/exports/configs/{c}/enable"),
            "o",
        )));
    }
    let r = last.unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json_body()["message"],
        "quota exports_configs reached (3/3)"
    );
}

#[test]
fn a_clock_move_out_of_range_is_refused_not_clamped() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let now = |f: &quotabench_fake::Fake| f.handle(&FakeRequest::new("GET", "/__admin/clock")).body;
    let before = now(&f);
    for secs in ["3e11", "-3e11", "1e300"] {
        let r = f.handle(
            &FakeRequest::new("POST", "/__admin/clock")
                .body(format!("{{\"advance_seconds\": {secs}}}")),
        );
        assert_eq!(
            r.status,
            400,
            "{secs}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(
        now(&f),
        before,
        "a refused move leaves the clock where it was"
    );
    advance(&f, 86_400.0 * 365.0);
}
