//! Every seeded fault makes the ground truth (admin state) deviate as documented in
//! docs/faults.md, while the same scenario on the correct fake does not.
//! (`non-atomic` needs concurrency: see fake_http.rs.)

use std::time::Duration;

use crate::support::*;
use quotabench_fake::{Fake, FakeRequest, FakeResponse};
use serde_json::json;

const DAILY: &str = "dailyConsumerDeleteIdentitiesQuota";
const MONTHLY: &str = "monthlyConsumerDeleteIdentitiesQuota";
const EXPIRATIONS: &str = "datasetExpirationQuota";

/// The same scenario on the correct fake and on the faulty one.
fn both(faults: &[&str]) -> (std::sync::Arc<Fake>, std::sync::Arc<Fake>) {
    (fake(SMALL_VIRTUAL, &[]), fake(SMALL_VIRTUAL, faults))
}

fn ttl(f: &Fake, org: &str, dataset: &str) -> FakeResponse {
    f.handle(
        &adobe("POST", "/ttl", org)
            .body(json!({"datasetId": dataset, "expiry": "2026-01-01T00:00:00Z"}).to_string()),
    )
}

#[test]
fn count_invalid_counts_validation_rejected_orders() {
    let (good, bad) = both(&["count-invalid"]);
    let invalid = json!({"action": "delete_identity", "datasetId": "ALL",
        "identities": [{"namespace": {"code": "email"}, "id": "a"}],
        "namespacesIdentities": [{"namespace": {"code": "email"}, "ids": ["b", "c", "d", "e"]}]});
    for f in [&good, &bad] {
        let r = f.handle(&adobe("POST", "/workorder", "o").body(invalid.to_string()));
        assert_eq!(r.status, 400);
        let r = f.handle(
            &adobe("POST", "/ttl", "o")
                .body(json!({"datasetId": "d", "expiry": "soon"}).to_string()),
        );
        assert_eq!(r.status, 400);
    }
    assert_eq!(consumed(&good, "o", DAILY), 0);
    assert_eq!(consumed(&good, "o", EXPIRATIONS), 0);
    assert_eq!(consumed(&bad, "o", DAILY), 5);
    assert_eq!(consumed(&bad, "o", MONTHLY), 5);
    assert_eq!(consumed(&bad, "o", EXPIRATIONS), 1);
    assert_eq!(truth(&bad, "o", EXPIRATIONS)["active"], 0);
    // Unparseable bodies have no amount: still nothing.
    bad.handle(&adobe("POST", "/workorder", "p").body("{"));
    assert_eq!(consumed(&bad, "p", DAILY), 0);
}

#[test]
fn count_quota_rejected_counts_refused_attempts() {
    let (good, bad) = both(&["count-quota-rejected"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 990).status, 201);
        assert_eq!(order(f, "o", 11).status, 429);
    }
    assert_eq!(consumed(&good, "o", DAILY), 990);
    assert_eq!(consumed(&bad, "o", DAILY), 1001);
    assert_eq!(consumed(&bad, "o", MONTHLY), 1001);
}

#[test]
fn daily_never_resets_keeps_yesterday() {
    let (good, bad) = both(&["daily-never-resets"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 1000).status, 201);
        advance(f, 86_400.0);
    }
    assert_eq!(consumed(&good, "o", DAILY), 0);
    assert_eq!(order(&good, "o", 1).status, 201);
    assert_eq!(consumed(&bad, "o", DAILY), 1000);
    assert_eq!(order(&bad, "o", 1).status, 429);
    let t = truth(&bad, "o", DAILY);
    assert_ne!(t["period"], t["current_period"]);
}

#[test]
fn reset_local_time_resets_two_hours_early() {
    // Start 2025-01-31T23:00Z; go back to 21:30Z, fill, then cross 22:00Z (= 00:00 at UTC+2).
    let (good, bad) = both(&["reset-local-time"]);
    for f in [&good, &bad] {
        set_clock(f, "2025-01-31T21:30:00Z");
        assert_eq!(order(f, "o", 1000).status, 201);
        set_clock(f, "2025-01-31T22:30:00Z");
    }
    assert_eq!(consumed(&good, "o", DAILY), 1000);
    assert_eq!(consumed(&bad, "o", DAILY), 0, "reset at local midnight");
    assert_eq!(order(&bad, "o", 1000).status, 201);
    for f in [&good, &bad] {
        set_clock(f, "2025-02-01T00:30:00Z");
    }
    assert_eq!(consumed(&good, "o", DAILY), 0);
    assert_eq!(consumed(&bad, "o", DAILY), 1000, "no reset at UTC midnight");
    let bad5 = fake(SMALL_VIRTUAL, &["reset-local-time=-5"]);
    set_clock(&bad5, "2025-01-31T23:30:00Z");
    order(&bad5, "o", 10);
    set_clock(&bad5, "2025-02-01T04:59:00Z");
    assert_eq!(consumed(&bad5, "o", DAILY), 10);
    set_clock(&bad5, "2025-02-01T05:00:00Z");
    assert_eq!(consumed(&bad5, "o", DAILY), 0);
}

#[test]
fn reset_rolling_counts_a_day_from_first_use() {
    let (good, bad) = both(&["reset-rolling"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 1000).status, 201); // 23:00Z
        set_clock(f, "2025-02-01T01:00:00Z");
    }
    assert_eq!(consumed(&good, "o", DAILY), 0);
    assert_eq!(consumed(&bad, "o", DAILY), 1000);
    assert_eq!(order(&bad, "o", 1).status, 429);
    set_clock(&bad, "2025-02-01T23:00:00Z");
    assert_eq!(consumed(&bad, "o", DAILY), 0);
}

#[test]
fn monthly_resets_daily_forgets_the_month() {
    let (good, bad) = both(&["monthly-resets-daily"]);
    for f in [&good, &bad] {
        set_clock(f, "2025-02-10T12:00:00Z");
        assert_eq!(order(f, "o", 800).status, 201);
        advance(f, 86_400.0);
    }
    assert_eq!(consumed(&good, "o", MONTHLY), 800);
    assert_eq!(consumed(&bad, "o", MONTHLY), 0);
}

#[test]
fn admit_over_limit_allows_one_more() {
    let (good, bad) = both(&["admit-over-limit"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 1000).status, 201);
    }
    assert_eq!(order(&good, "o", 1).status, 429);
    assert_eq!(order(&bad, "o", 1).status, 201);
    assert_eq!(consumed(&bad, "o", DAILY), 1001);
    assert_eq!(order(&bad, "o", 1).status, 429);
}

#[test]
fn reject_before_limit_refuses_the_exact_fill() {
    let (good, bad) = both(&["reject-before-limit"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 990).status, 201);
    }
    assert_eq!(order(&good, "o", 10).status, 201);
    assert_eq!(order(&bad, "o", 10).status, 429);
    assert_eq!(consumed(&bad, "o", DAILY), 990);
    assert_eq!(order(&bad, "o", 9).status, 201);
}

#[test]
fn partial_admit_counts_what_remains() {
    let (good, bad) = both(&["partial-admit"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 990).status, 201);
    }
    assert_eq!(order(&good, "o", 20).status, 429);
    let r = order(&bad, "o", 20);
    assert_eq!(r.status, 201);
    assert_eq!(r.json_body()["operationCount"], 20);
    assert_eq!(consumed(&bad, "o", DAILY), 1000);
    assert_eq!(order(&bad, "o", 1).status, 429, "nothing left: rejected");
}

#[test]
fn cancel_keeps_slot_never_frees() {
    let (good, bad) = both(&["cancel-keeps-slot"]);
    for f in [&good, &bad] {
        let id = ttl(f, "o", "ds").json_body()["ttlId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            f.handle(&adobe("DELETE", &format!("/ttl/{id}"), "o"))
                .status,
            200
        );
        let c = f
            .handle(&didomi("POST", "/exports/configs", "o"))
            .json_body()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            f.handle(&didomi(
                "POST",
                &format!("/exports/configs/{c}/enable"),
                "o"
            ))
            .status,
            200
        );
        assert_eq!(
            f.handle(&didomi(
                "POST",
                &format!("/exports/configs/{c}/disable"),
                "o"
            ))
            .status,
            200
        );
        let d = f.handle(&didomi(
            "POST",
            &format!("/exports/configs/{c}/destinations"),
            "o",
        ));
        let d = d.json_body()["id"].as_str().unwrap().to_string();
        let r = f.handle(&didomi(
            "DELETE",
            &format!("/exports/configs/{c}/destinations/{d}"),
            "o",
        ));
        assert_eq!(r.status, 200);
    }
    let g = good.state("o");
    let b = bad.state("o");
    assert_eq!(
        (
            consumed(&good, "o", EXPIRATIONS),
            consumed(&good, "o", "exports_configs")
        ),
        (0, 0)
    );
    assert_eq!(consumed(&bad, "o", EXPIRATIONS), 1);
    assert_eq!(truth(&bad, "o", EXPIRATIONS)["active"], 0);
    assert_eq!(consumed(&bad, "o", "exports_configs"), 1);
    assert_eq!(truth(&bad, "o", "exports_configs")["active"], 0);
    assert_eq!(g.configs[0].destination_slots, 0);
    assert_eq!(
        (b.configs[0].destinations, b.configs[0].destination_slots),
        (0, 1)
    );
}

#[test]
fn list_lag_shows_old_counters() {
    let (good, bad) = both(&["list-lag=2s"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 5).status, 201);
    }
    assert_eq!(listed(&good, "o")[1].1, 5);
    assert_eq!(listed(&bad, "o")[1].1, 0, "list is 2 s behind");
    assert_eq!(consumed(&bad, "o", DAILY), 5, "ground truth is not");
    advance(&bad, 1.0);
    assert_eq!(order(&bad, "o", 3).status, 201);
    advance(&bad, 1.5);
    assert_eq!(listed(&bad, "o")[1].1, 5);
    advance(&bad, 1.0);
    assert_eq!(listed(&bad, "o")[1].1, 8);
}

#[test]
fn tenant_leak_adds_to_other_orgs() {
    let (good, bad) = both(&["tenant-leak"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "b", 1).status, 201);
        assert_eq!(order(f, "a", 100).status, 201);
    }
    assert_eq!(consumed(&good, "b", DAILY), 1);
    assert_eq!(consumed(&bad, "b", DAILY), 101);
    assert_eq!(
        consumed(&bad, "a", DAILY),
        100,
        "nothing leaked into a: it did not exist when b ordered"
    );
    let named = fake(SMALL_VIRTUAL, &["tenant-leak=victim"]);
    assert_eq!(order(&named, "a", 7).status, 201);
    assert_eq!(consumed(&named, "victim", DAILY), 7);
    assert_eq!(consumed(&named, "victim", MONTHLY), 7);
}

#[test]
fn quota_reject_500_breaks_the_rejection_shape() {
    let (good, bad) = both(&["quota-reject-500"]);
    for f in [&good, &bad] {
        assert_eq!(order(f, "o", 1000).status, 201);
    }
    assert_eq!(order(&good, "o", 1).status, 429);
    let r = order(&bad, "o", 1);
    assert_eq!(r.status, 500);
    assert_eq!(r.json_body()["error_code"], "500 INTERNAL SERVER ERROR");
    assert_eq!(consumed(&bad, "o", DAILY), 1000);
}

fn names(r: &FakeResponse) -> Vec<String> {
    r.json_body()["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn filter_ignored_lists_every_quota() {
    let (good, bad) = both(&["filter-ignored"]);
    let q = adobe("GET", &format!("/quota?quotaType={DAILY}"), "o");
    assert_eq!(names(&good.handle(&q)), [DAILY]);
    let r = bad.handle(&q);
    assert_eq!(r.status, 200);
    assert_eq!(names(&r).len(), 4, "{:?}", names(&r));
    // An unknown filter is still refused.
    assert_eq!(
        bad.handle(&adobe("GET", "/quota?quotaType=nope", "o"))
            .status,
        400
    );
}

#[test]
fn unknown_filter_lists_all_answers_an_unknown_quota_type() {
    let (good, bad) = both(&["unknown-filter-lists-all"]);
    let q = adobe("GET", "/quota?quotaType=nope", "o");
    let r = good.handle(&q);
    assert_eq!(r.status, 400);
    assert_eq!(r.json_body()["error_code"], "400 BAD REQUEST");
    let r = bad.handle(&q);
    assert_eq!(r.status, 200);
    assert_eq!(names(&r).len(), 4);
    // A known filter still works.
    let known = adobe("GET", &format!("/quota?quotaType={DAILY}"), "o");
    assert_eq!(names(&bad.handle(&known)), [DAILY]);
}

#[test]
fn no_auth_accepts_anything() {
    let (good, bad) = both(&["no-auth"]);
    let bare = FakeRequest::new("POST", "/data/core/hygiene/workorder")
        .body(workorder_body(3).to_string());
    assert_eq!(good.handle(&bare).status, 401);
    assert_eq!(bad.handle(&bare).status, 201);
    assert_eq!(consumed(&bad, "default", DAILY), 3);
    let r = bad.handle(&FakeRequest::new("GET", "/v1/quotas?organization_id=o"));
    assert_eq!(r.status, 200);
    let with_org = fake("default_org: acme\n", &["no-auth"]);
    with_org.handle(&bare);
    assert_eq!(consumed(&with_org, "acme", DAILY), 3);
}

#[test]
fn latency_delays_api_answers() {
    let f = fake("", &["latency=5ms"]);
    let r = f.handle(&adobe("GET", "/quota", "o"));
    assert_eq!(r.delay, Some(Duration::from_millis(5)));
    let f = fake("", &["latency=uniform:1ms..3ms"]);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let d = f.handle(&adobe("GET", "/quota", "o")).delay.unwrap();
        assert!(
            d >= Duration::from_millis(1) && d <= Duration::from_millis(3),
            "{d:?}"
        );
        seen.insert(d);
    }
    // Drawn, not fixed: 50 draws from 2,001 microseconds all alike would be a broken
    // generator (a chance below 1e-160).
    assert!(seen.len() > 1, "every delay was {seen:?}");
    assert_eq!(
        fake("", &[]).handle(&adobe("GET", "/quota", "o")).delay,
        None
    );
}

#[test]
fn stall_holds_requests_in_its_window() {
    let f = fake("", &["stall=1h@0s"]);
    let d = f
        .handle(&adobe("GET", "/quota", "o"))
        .delay
        .expect("stalled");
    assert!(
        d > Duration::from_secs(3500) && d <= Duration::from_secs(3600),
        "{d:?}"
    );
    let f = fake("", &["stall=2s@1h"]);
    assert_eq!(f.handle(&adobe("GET", "/quota", "o")).delay, None);
}

#[test]
fn error_rate_fails_exactly_that_share_without_state() {
    let f = fake(SMALL_VIRTUAL, &["error-rate=25%"]);
    let statuses: Vec<u16> = (0..20).map(|_| order(&f, "o", 1).status).collect();
    let failed = statuses.iter().filter(|s| **s == 503).count();
    let ok = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!((failed, ok), (5, 15));
    assert_eq!(consumed(&f, "o", DAILY), 15);
    let r = f.handle(&didomi("GET", "/quotas", "o"));
    let r2 = f.handle(&didomi("GET", "/quotas", "o"));
    let r3 = f.handle(&didomi("GET", "/quotas", "o"));
    let r4 = f.handle(&didomi("GET", "/quotas", "o"));
    let fe = [r, r2, r3, r4]
        .into_iter()
        .find(|r| r.status == 503)
        .expect("one in four");
    assert_eq!(fe.json_body()["name"], "Unavailable");
}
