//! The Adobe Data Hygiene routes of the fake, driven through `Fake::handle`.

use crate::support::*;
use quotabench_fake::FakeRequest;
use serde_json::{json, Value};

const DAILY: &str = "dailyConsumerDeleteIdentitiesQuota";
const MONTHLY: &str = "monthlyConsumerDeleteIdentitiesQuota";
const EXPIRATIONS: &str = "datasetExpirationQuota";

fn err_code(r: &quotabench_fake::FakeResponse) -> String {
    r.json_body()["error_code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn quota_list_shows_the_seed_table() {
    let f = fake("", &[]);
    let l = listed(&f, "org-a");
    assert_eq!(
        l,
        vec![
            (EXPIRATIONS.to_string(), 0, 50),
            (DAILY.to_string(), 0, 600_000),
            (MONTHLY.to_string(), 0, 600_000),
            ("monthlyUpdatedFieldIdentitiesQuota".to_string(), 0, 0),
        ]
    );
    let r = f.handle(&adobe("GET", "/quota", "org-a"));
    assert!(r.json_body()["quotas"][0]["description"].is_string());
    // Listing does not create state.
    assert!(!f.state("org-a").exists);
}

#[test]
fn quota_type_filters_and_unknown_type_is_400() {
    let f = fake("", &[]);
    let r = f.handle(&adobe("GET", &format!("/quota?quotaType={DAILY}"), "o"));
    assert_eq!(r.status, 200);
    let q = r.json_body()["quotas"].as_array().unwrap().clone();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["name"], DAILY);
    for bad in ["nope", "exports_configs"] {
        let r = f.handle(&adobe("GET", &format!("/quota?quotaType={bad}"), "o"));
        assert_eq!(r.status, 400);
        assert_eq!(err_code(&r), "400 BAD REQUEST");
    }
}

#[test]
fn credentials_are_required_in_adobe_style() {
    let f = fake("", &[]);
    let base = || FakeRequest::new("GET", "/data/core/hygiene/quota");
    let cases = [
        (
            base()
                .header("x-api-key", "k")
                .header("x-gw-ims-org-id", "o"),
            401,
        ),
        (
            base()
                .header("authorization", "Bearer ")
                .header("x-api-key", "k")
                .header("x-gw-ims-org-id", "o"),
            401,
        ),
        (
            base()
                .header("authorization", "Basic abc")
                .header("x-api-key", "k")
                .header("x-gw-ims-org-id", "o"),
            401,
        ),
        (
            base()
                .header("authorization", "Bearer t")
                .header("x-gw-ims-org-id", "o"),
            403,
        ),
        (
            base()
                .header("authorization", "Bearer t")
                .header("x-api-key", "k"),
            403,
        ),
    ];
    for (req, status) in cases {
        let r = f.handle(&req);
        assert_eq!(r.status, status, "{req:?}");
        let code = err_code(&r);
        assert_eq!(
            code,
            if status == 401 {
                "401 UNAUTHORIZED"
            } else {
                "403 FORBIDDEN"
            }
        );
    }
}

#[test]
fn fixed_credentials_accept_only_the_listed_ones() {
    let f = fake(
        "credentials:\n  mode: fixed\n  bearer_tokens: [good]\n  api_keys: [key]\n",
        &[],
    );
    let ok = adobe("GET", "/quota", "o");
    assert_eq!(
        f.handle(&ok).status,
        401,
        "the helper's token `tok` is not listed"
    );
    let req = |tok: &str, key: &str| {
        FakeRequest::new("GET", "/data/core/hygiene/quota")
            .header("authorization", &format!("Bearer {tok}"))
            .header("x-api-key", key)
            .header("x-gw-ims-org-id", "o")
    };
    assert_eq!(f.handle(&req("good", "key")).status, 200);
    assert_eq!(f.handle(&req("good", "nope")).status, 403);
    assert_eq!(f.handle(&req("bad", "key")).status, 401);
}

#[test]
fn a_work_order_consumes_daily_and_monthly_together() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let r = order(&f, "o", 7);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let b = r.json_body();
    assert!(b["workorderId"].as_str().unwrap().starts_with("DI-"));
    assert_eq!(b["status"], "received");
    assert_eq!(b["operationCount"], 7);
    assert_eq!(b["orgId"], "o");
    assert_eq!(consumed(&f, "o", DAILY), 7);
    assert_eq!(consumed(&f, "o", MONTHLY), 7);
    let l = listed(&f, "o");
    assert_eq!(l[1], (DAILY.to_string(), 7, 1000));
    assert_eq!(l[2], (MONTHLY.to_string(), 7, 5000));

    // The alternative form counts every id of every namespace.
    let body = json!({"action": "delete_identity", "datasetId": "ds1",
        "namespacesIdentities": [
            {"namespace": {"code": "email"}, "ids": ["a@x", "b@x"]},
            {"namespace": {"code": "ecid"}, "ids": ["1"]}]});
    let r = f.handle(&adobe("POST", "/workorder", "o").body(body.to_string()));
    assert_eq!(r.status, 201);
    assert_eq!(r.json_body()["operationCount"], 3);
    assert_eq!(consumed(&f, "o", DAILY), 10);
}

#[test]
fn work_order_can_be_read_back_and_completes_later() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let id = order(&f, "o", 2).json_body()["workorderId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = f.handle(&adobe("GET", &format!("/workorder/{id}"), "o"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json_body()["workorderId"], id.as_str());
    assert_eq!(r.json_body()["status"], "received");
    advance(&f, 61.0);
    let r = f.handle(&adobe("GET", &format!("/workorder/{id}"), "o"));
    assert_eq!(r.json_body()["status"], "completed");
    // Another org cannot see it; unknown and malformed ids are 404.
    for (path, org) in [
        (format!("/workorder/{id}"), "other"),
        ("/workorder/DI-999999".to_string(), "o"),
        ("/workorder/garbage".to_string(), "o"),
    ] {
        let r = f.handle(&adobe("GET", &path, org));
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(err_code(&r), "404 NOT FOUND");
    }
}

#[test]
fn invalid_work_orders_are_400_and_change_nothing() {
    let f = fake(SMALL_VIRTUAL, &[]);
    let ids = json!([{"namespace": {"code": "email"}, "id": "a@x"}]);
    let too_many: Vec<Value> = (0..100_001)
        .map(|i| json!({"namespace": {"code": "email"}, "id": format!("{i}")}))
        .collect();
    let bodies = vec![
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": ids,
               "namespacesIdentities": [{"namespace": {"code": "email"}, "ids": ["b"]}]}),
        json!({"action": "delete_identity", "datasetId": "ALL"}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": []}),
        json!({"action": "delete_identity", "datasetId": "ALL", "namespacesIdentities": [{"namespace": {"code": "email"}, "ids": []}]}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": too_many}),
        json!({"action": "delete_identity", "identities": ids}),
        json!({"action": "delete_identity", "datasetId": "", "identities": ids}),
        json!({"action": "update_identity", "datasetId": "ALL", "identities": ids}),
        json!({"datasetId": "ALL", "identities": ids}),
        json!({"action": 7, "datasetId": "ALL", "identities": ids}),
        json!({"action": "delete_identity", "datasetId": 3, "identities": ids}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": "a@x"}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": [{"id": "a@x"}]}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": [{"namespace": {"code": "email"}, "id": 5}]}),
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": ids, "displayName": 1}),
        json!({"action": "delete_identity", "datasetId": "ALL", "namespacesIdentities": [{"namespace": {"code": "email"}, "ids": [1]}]}),
        json!([1, 2]),
    ];
    for b in bodies {
        let r = f.handle(&adobe("POST", "/workorder", "o").body(b.to_string()));
        assert_eq!(
            r.status,
            400,
            "{}",
            b.to_string().chars().take(200).collect::<String>()
        );
        assert_eq!(err_code(&r), "400 BAD REQUEST");
        assert!(!r.json_body()["message"].as_str().unwrap().is_empty());
    }
    for raw in ["", "{", "not json", "\u{0}"] {
        let r = f.handle(&adobe("POST", "/workorder", "o").body(raw));
        assert_eq!(r.status, 400, "{raw:?}");
    }
    // Exactly 100,000 is allowed (with room for it).
    f.handle(
        &FakeRequest::new("PUT", "/__admin/orgs/o/quotas")
            .body(json!({DAILY: 200_000, MONTHLY: 200_000}).to_string()),
    );
    assert_eq!(order(&f, "o", 100_000).status, 201);
    assert_eq!(consumed(&f, "o", DAILY), 100_000);
}

#[test]
fn orders_over_the_remaining_quota_are_rejected_whole() {
    let f = fake(SMALL_VIRTUAL, &[]);
    assert_eq!(order(&f, "o", 990).status, 201);
    let r = order(&f, "o", 11);
    assert_eq!(r.status, 429);
    assert_eq!(err_code(&r), "429 TOO MANY REQUESTS");
    let msg = r.json_body()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("quota exceeded") && msg.contains(DAILY),
        "{msg}"
    );
    assert_eq!(consumed(&f, "o", DAILY), 990);
    assert_eq!(consumed(&f, "o", MONTHLY), 990);
    // Exactly filling is admitted; then nothing more.
    assert_eq!(order(&f, "o", 10).status, 201);
    assert_eq!(consumed(&f, "o", DAILY), 1000);
    assert_eq!(order(&f, "o", 1).status, 429);
    assert_eq!(consumed(&f, "o", DAILY), 1000);
}

#[test]
fn zero_limit_admits_nothing() {
    let f = fake("defaults:\n  dailyConsumerDeleteIdentitiesQuota: 0\n", &[]);
    let r = order(&f, "o", 1);
    assert_eq!(r.status, 429);
    assert_eq!(consumed(&f, "o", MONTHLY), 0);
}

#[test]
fn daily_resets_at_utc_midnight_and_monthly_on_the_first() {
    // Virtual start 2025-01-31T23:00Z: daily limit 1000, monthly 5000.
    let f = fake(SMALL_VIRTUAL, &[]);
    assert_eq!(order(&f, "o", 1000).status, 201);
    assert_eq!(order(&f, "o", 1).status, 429);
    advance(&f, 3599.0); // 23:59:59 — same day
    assert_eq!(order(&f, "o", 1).status, 429);
    advance(&f, 1.0); // 2025-02-01T00:00:00Z — new day AND new month
    assert_eq!(consumed(&f, "o", DAILY), 0);
    assert_eq!(consumed(&f, "o", MONTHLY), 0);
    // Within February the monthly counter accumulates across days.
    for day in 0..5 {
        assert_eq!(order(&f, "o", 1000).status, 201, "day {day}");
        advance(&f, 86_400.0);
    }
    assert_eq!(consumed(&f, "o", MONTHLY), 5000);
    assert_eq!(consumed(&f, "o", DAILY), 0);
    let r = order(&f, "o", 1);
    assert_eq!(r.status, 429);
    assert!(r.json_body()["message"].as_str().unwrap().contains(MONTHLY));
    set_clock(&f, "2025-03-01T00:00:00Z");
    assert_eq!(order(&f, "o", 1).status, 201);
    assert_eq!(consumed(&f, "o", MONTHLY), 1);
    let t = truth(&f, "o", DAILY);
    assert_eq!(t["period"], t["current_period"]);
}

#[test]
fn scaled_test_periods_reset_on_their_own_length() {
    let f = fake(
        "clock:\n  mode: virtual\n  start: 1970-01-01T00:00:00Z\nperiods:\n  day: 2s\n  days_per_month: 3\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 10\n  monthlyConsumerDeleteIdentitiesQuota: 25\n",
        &[],
    );
    assert_eq!(order(&f, "o", 10).status, 201);
    assert_eq!(order(&f, "o", 1).status, 429);
    advance(&f, 2.0);
    assert_eq!(order(&f, "o", 10).status, 201);
    advance(&f, 2.0);
    assert_eq!(order(&f, "o", 10).status, 429, "month (6 s) holds 25");
    assert_eq!(order(&f, "o", 5).status, 201);
    advance(&f, 2.0); // t = 6 s: new month
    assert_eq!(consumed(&f, "o", MONTHLY), 0);
}

#[test]
fn rejection_status_and_body_are_configurable() {
    let f = fake(
        "defaults:\n  dailyConsumerDeleteIdentitiesQuota: 1\nrejection:\n  adobe:\n    status: 400\n    body:\n      error_code: QUOTA_EXCEEDED\n      detail: \"{quota} {consumed}/{limit} +{amount}\"\n",
        &[],
    );
    assert_eq!(order(&f, "o", 1).status, 201);
    let r = order(&f, "o", 2);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json_body(),
        json!({"error_code": "QUOTA_EXCEEDED", "detail": format!("{DAILY} 1/1 +2")})
    );
}

fn ttl(
    f: &quotabench_fake::Fake,
    org: &str,
    dataset: &str,
    expiry: &str,
) -> quotabench_fake::FakeResponse {
    f.handle(
        &adobe("POST", "/ttl", org).body(
            json!({"datasetId": dataset, "expiry": expiry, "displayName": "n", "description": "d"})
                .to_string(),
        ),
    )
}

#[test]
fn dataset_expirations_hold_a_slot_while_pending() {
    // Virtual start 2025-01-31T23:00Z; 2 expirations at most.
    let f = fake(SMALL_VIRTUAL, &[]);
    let r = ttl(&f, "o", "ds1", "2025-02-05T00:00:00Z");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id1 = r.json_body()["ttlId"].as_str().unwrap().to_string();
    assert!(id1.starts_with("SD-"));
    assert_eq!(r.json_body()["status"], "pending");
    assert_eq!(consumed(&f, "o", EXPIRATIONS), 1);
    // One pending expiration per dataset.
    let r = ttl(&f, "o", "ds1", "2025-02-06T00:00:00Z");
    assert_eq!(r.status, 400);
    assert_eq!(ttl(&f, "o", "ds2", "2025-02-06").status, 201);
    let r = ttl(&f, "o", "ds3", "2025-02-06T00:00:00Z");
    assert_eq!(r.status, 429);
    assert!(r.json_body()["message"]
        .as_str()
        .unwrap()
        .contains(EXPIRATIONS));
    assert_eq!(consumed(&f, "o", EXPIRATIONS), 2);
    assert_eq!(truth(&f, "o", EXPIRATIONS)["active"], 2);

    // Cancel frees the slot; a second cancel is 404.
    let r = f.handle(&adobe("DELETE", &format!("/ttl/{id1}"), "o"));
    assert_eq!(r.status, 200);
    assert!(r.json_body()["message"]
        .as_str()
        .unwrap()
        .contains("cancelled"));
    assert_eq!(consumed(&f, "o", EXPIRATIONS), 1);
    assert_eq!(
        f.handle(&adobe("DELETE", &format!("/ttl/{id1}"), "o"))
            .status,
        404
    );
    assert_eq!(f.handle(&adobe("DELETE", "/ttl/SD-x", "o")).status, 404);
    let r = f.handle(&adobe("GET", &format!("/ttl/{id1}"), "o"));
    assert_eq!(r.json_body()["status"], "cancelled");
    assert_eq!(ttl(&f, "o", "ds3", "2025-02-06T00:00:00Z").status, 201);

    // When the expiry passes, the expiration executes and frees its slot.
    set_clock(&f, "2025-02-06T00:00:00Z");
    assert_eq!(consumed(&f, "o", EXPIRATIONS), 0);
    let r = f.handle(&adobe("GET", "/ttl?status=completed", "o"));
    assert_eq!(r.json_body()["total_count"], 2);
}

#[test]
fn expiry_must_be_a_day_ahead_and_valid() {
    let f = fake(SMALL_VIRTUAL, &[]);
    for (body, why) in [
        (
            json!({"datasetId": "d", "expiry": "2025-02-01T22:59:59Z"}),
            "too close",
        ),
        (
            json!({"datasetId": "d", "expiry": "2020-01-01T00:00:00Z"}),
            "past",
        ),
        (
            json!({"datasetId": "d", "expiry": "tomorrow"}),
            "not a date",
        ),
        (json!({"datasetId": "d"}), "missing expiry"),
        (json!({"expiry": "2026-01-01T00:00:00Z"}), "missing dataset"),
        (
            json!({"datasetId": 1, "expiry": "2026-01-01T00:00:00Z"}),
            "wrong type",
        ),
        (json!({"datasetId": "d", "expiry": 5}), "wrong type"),
        (
            json!({"datasetId": "d", "expiry": "2026-01-01T00:00:00Z", "displayName": []}),
            "wrong type",
        ),
    ] {
        let r = f.handle(&adobe("POST", "/ttl", "o").body(body.to_string()));
        assert_eq!(r.status, 400, "{why}");
        assert_eq!(err_code(&r), "400 BAD REQUEST");
    }
    assert!(!f.state("o").exists, "invalid expirations create no state");
    assert_eq!(
        ttl(&f, "o", "d", "2025-02-01T23:00:00Z").status,
        201,
        "exactly 24 h"
    );
    assert_eq!(consumed(&f, "o", EXPIRATIONS), 1);
}

#[test]
fn ttl_list_pages() {
    let f = fake(
        "clock:\n  mode: virtual\n  start: 2025-01-01T00:00:00Z\n",
        &[],
    );
    for i in 0..5 {
        assert_eq!(
            ttl(&f, "o", &format!("ds{i}"), "2026-01-01T00:00:00Z").status,
            201
        );
    }
    let r = f.handle(&adobe("GET", "/ttl?limit=2&page=1", "o"));
    assert_eq!(r.status, 200);
    let b = r.json_body();
    assert_eq!(b["total_count"], 5);
    assert_eq!(b["total_pages"], 3);
    assert_eq!(b["current_page"], 1);
    assert_eq!(b["results"].as_array().unwrap().len(), 2);
    let id = f
        .handle(&adobe("GET", "/ttl?datasetId=ds1", "o"))
        .json_body()["results"][0]["ttlId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        f.handle(&adobe("DELETE", &format!("/ttl/{id}"), "o"))
            .status,
        200
    );
    let count = |q: &str| {
        f.handle(&adobe("GET", &format!("/ttl?{q}"), "o"))
            .json_body()["total_count"]
            .clone()
    };
    assert_eq!(count("status=pending"), 4);
    assert_eq!(count("status=cancelled"), 1);
    assert_eq!(count("status=pending,cancelled"), 5);
    assert_eq!(count("status=executing"), 0);
    let r = f.handle(&adobe("GET", "/ttl?datasetId=ds3", "o"));
    assert_eq!(r.json_body()["total_count"], 1);
    for bad in ["limit=0", "limit=101", "page=-1", "status=weird"] {
        assert_eq!(
            f.handle(&adobe("GET", &format!("/ttl?{bad}"), "o")).status,
            400,
            "{bad}"
        );
    }
}

#[test]
fn unknown_paths_methods_and_big_bodies() {
    let f = fake("caps:\n  max_body_bytes: 1024\n", &[]);
    let r = f.handle(&adobe("GET", "/nope", "o"));
    assert_eq!(r.status, 404);
    assert_eq!(err_code(&r), "404 NOT FOUND");
    let r = f.handle(&adobe("DELETE", "/quota", "o"));
    assert_eq!(r.status, 405);
    assert_eq!(err_code(&r), "405 METHOD NOT ALLOWED");
    assert!(r.headers.iter().any(|(n, v)| n == "allow" && v == "GET"));
    assert_eq!(f.handle(&adobe("PUT", "/workorder", "o")).status, 405);
    let r = f.handle(&adobe("POST", "/workorder", "o").body(vec![b'x'; 2048]));
    assert_eq!(r.status, 413);
    assert_eq!(err_code(&r), "413 PAYLOAD TOO LARGE");
    assert!(!f.state("o").exists);
    let r = f.handle(&FakeRequest::new("GET", "/elsewhere"));
    assert_eq!(r.status, 404);
}

#[test]
fn organizations_are_isolated() {
    let f = fake(SMALL_VIRTUAL, &[]);
    assert_eq!(order(&f, "a", 1000).status, 201);
    assert_eq!(order(&f, "b", 1000).status, 201);
    assert_eq!(consumed(&f, "a", DAILY), 1000);
    assert_eq!(consumed(&f, "b", DAILY), 1000);
    assert_eq!(consumed(&f, "c", DAILY), 0);
}

#[test]
fn per_org_overrides_and_retention_cap() {
    let f = fake(
        "orgs:\n  big:\n    quotas:\n      dailyConsumerDeleteIdentitiesQuota: 5\ncaps:\n  max_workorders_per_org: 2\n  max_orgs: 2\n",
        &[],
    );
    assert_eq!(listed(&f, "big")[1].2, 5);
    assert_eq!(listed(&f, "small")[1].2, 600_000);
    let ids: Vec<String> = (0..3)
        .map(|_| {
            order(&f, "big", 1).json_body()["workorderId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        f.handle(&adobe("GET", &format!("/workorder/{}", ids[0]), "big"))
            .status,
        404
    );
    assert_eq!(
        f.handle(&adobe("GET", &format!("/workorder/{}", ids[2]), "big"))
            .status,
        200
    );
    assert_eq!(
        consumed(&f, "big", DAILY),
        3,
        "forgetting records never changes counters"
    );
    assert_eq!(order(&f, "second", 1).status, 201);
    let r = order(&f, "third", 1);
    assert_eq!(r.status, 400, "org cap reached");
    assert!(!f.state("third").exists);
}
