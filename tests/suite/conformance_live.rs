//! A suite knows nothing of its target in advance: against a "live" implementation (a
//! fake served on loopback and reached with `--target`, with its own limits, counters
//! already in use, fixed credentials from `${VAR}`s and other tenants) it reads each
//! quota first, sizes its traffic from what remains, and judges correctly.

use crate::conformance_support;

use std::sync::Arc;

use quotabench_fake::{serve, Fake, FakeConfig, FaultSet};
use serde_json::{json, Value};

const CONFIG: &str = "clock:\n  mode: virtual\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 250000\n  monthlyConsumerDeleteIdentitiesQuota: 900000\n  datasetExpirationQuota: 7\ncredentials:\n  mode: fixed\n  bearer_tokens: [live-token]\n  api_keys: [live-key]\n";
const IN_USE: u64 = 12_345;

async fn live(faults: &[&str]) -> quotabench_fake::RunningFake {
    let config = FakeConfig::from_text(std::path::Path::new("live.yaml"), CONFIG).unwrap();
    let faults =
        FaultSet::parse(&faults.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap();
    let fake = serve(
        Arc::new(Fake::new(config, faults)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    // The org has been in use: some identities deleted today, one expiration pending.
    let client = reqwest::Client::new();
    let ids: Vec<Value> = (0..IN_USE)
        .map(|i| json!({"namespace": {"code": "email"}, "id": format!("u{i}@example.com")}))
        .collect();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", fake.url))
            .header("authorization", "Bearer live-token")
            .header("x-api-key", "live-key")
            .header("x-gw-ims-org-id", "live-org")
            .json(&body)
            .send()
    };
    let r = post(
        "/data/core/hygiene/workorder",
        json!({"action": "delete_identity", "datasetId": "ALL", "identities": ids}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let expiry = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30);
    let r = post(
        "/data/core/hygiene/ttl",
        json!({"datasetId": "ds-live", "expiry": expiry.to_string()}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    fake
}

async fn run_against(url: String) -> conformance_support::Run {
    tokio::task::spawn_blocking(move || {
        conformance_support::run_with(
            conformance_support::ADOBE,
            3,
            &["--target", &url],
            &[
                ("ADOBE_ACCESS_TOKEN", "live-token"),
                ("ADOBE_API_KEY", "live-key"),
                ("ADOBE_ORG_ID", "live-org"),
                ("ADOBE_OTHER_ORG_ID", "live-other-org"),
            ],
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adobe_suite_sizes_itself_from_what_a_live_target_reports() {
    let fake = live(&[]).await;
    let r = run_against(fake.url.clone()).await;
    assert_eq!(r.code, 0, "{}", r.explain());
    assert!(
        r.failed().is_empty() && r.with_verdict("unknown").is_empty(),
        "{}",
        r.explain()
    );
    for id in [
        "limit.rejection-justified",
        "order.all-or-nothing",
        "reset.period-boundary",
        "concurrent.cap",
        "auth.required",
        "isolation.tenants",
    ] {
        assert!(
            r.with_verdict("pass").iter().any(|p| p == id),
            "{id} did not pass:\n{}",
            r.explain()
        );
    }
    // The suite read the target's own numbers: the first snapshot shows the counters in
    // use and the non-default limit, and the boundary probe's orders stayed small.
    let h = quotabench::history::load(&r.dir.join("history.jsonl")).unwrap();
    let first = h.ops.iter().find_map(|o| o.snapshot.as_ref()).unwrap();
    let daily = first
        .iter()
        .find(|x| x.name == "dailyConsumerDeleteIdentitiesQuota")
        .unwrap();
    assert_eq!((daily.consumed, daily.limit), (IN_USE, 250_000));
    let boundary: Vec<u64> = h
        .ops
        .iter()
        .filter(|o| o.op == "probe.boundary")
        .map(|o| o.amount)
        .collect();
    assert!(
        boundary.iter().rev().take(3).all(|&a| a <= 1001),
        "{boundary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_in_a_live_target_is_caught_with_its_own_numbers() {
    let fake = live(&["reject-before-limit"]).await;
    let r = run_against(fake.url.clone()).await;
    assert_eq!(r.code, 1, "{}", r.explain());
    assert!(
        r.failed().iter().any(|f| f == "limit.rejection-justified"),
        "{}",
        r.explain()
    );
}
