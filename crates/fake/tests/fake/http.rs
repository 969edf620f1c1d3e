//! The fake over real loopback HTTP: the hyper server (`serve`) and the wiremock
//! adapter, plus 64 concurrent clients proving the counters match the accepted orders
//! exactly on the correct fake and over-admit under `non-atomic`.

use std::sync::Arc;

use crate::support::*;
use quotabench_fake::cli::{run, FakeArgs};
use quotabench_fake::{mount_on_wiremock, serve, Fake};
use serde_json::{json, Value};

const DAILY: &str = "dailyConsumerDeleteIdentitiesQuota";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client")
}

fn adobe_post(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    org: &str,
    body: String,
) -> reqwest::RequestBuilder {
    c.post(format!("{base}/data/core/hygiene{path}"))
        .bearer_auth("tok")
        .header("x-api-key", "k")
        .header("x-gw-ims-org-id", org)
        .header("content-type", "application/json")
        .body(body)
}

/// Drives the main endpoints and error paths against `base`.
async fn exercise(base: &str, f: &Fake) {
    let c = client();
    let r = c
        .get(format!("{base}/data/core/hygiene/quota"))
        .bearer_auth("tok")
        .header("x-api-key", "k")
        .header("x-gw-ims-org-id", "o")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["quotas"].as_array().unwrap().len(), 4);

    let r = adobe_post(&c, base, "/workorder", "o", workorder_body(3).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["operationCount"], 3);
    assert_eq!(consumed(f, "o", DAILY), 3);

    let r = c
        .get(format!("{base}/data/core/hygiene/quota"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error_code"], "401 UNAUTHORIZED");

    let r = adobe_post(&c, base, "/workorder", "o", "{nope".into())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = adobe_post(&c, base, "/workorder", "o", "x".repeat(4096))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = c
        .delete(format!("{base}/data/core/hygiene/quota"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = c.get(format!("{base}/unknown")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let r = c
        .get(format!("{base}/v1/quotas?organization_id=o&$limit=1"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["data"][0]["exports_configs"], 3);

    let r = c
        .post(format!("{base}/__admin/clock"))
        .json(&json!({"advance_seconds": 86400}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{base}/__admin/orgs/o/state"))
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["quotas"][1]["consumed"], 0, "a virtual day passed");
    assert_eq!(consumed(f, "o", "monthlyConsumerDeleteIdentitiesQuota"), 3);
    assert_eq!(consumed(f, "o", DAILY), 0);
}

const HTTP_CONFIG: &str =
    "clock:\n  mode: virtual\n  start: 2025-01-10T00:00:00Z\ncaps:\n  max_body_bytes: 1024\n";

#[tokio::test]
async fn hyper_server_serves_every_kind_of_answer() {
    let f = fake(HTTP_CONFIG, &[]);
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(running.url.starts_with("http://127.0.0.1:"));
    assert!(!running.url.ends_with('/'));
    exercise(&running.url, &f).await;
    assert!(std::sync::Arc::ptr_eq(running.fake(), &f));
    let url = running.url.clone();
    running.shutdown().await;
    assert!(
        client()
            .get(format!("{url}/__admin/clock"))
            .send()
            .await
            .is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn wiremock_adapter_serves_the_same_routes() {
    let f = fake(HTTP_CONFIG, &[]);
    let server = mount_on_wiremock(f.clone()).await;
    exercise(&server.uri(), &f).await;
}

/// 64 concurrent clients each send `per_client` one-identity orders; returns the
/// number of 201s and of 429s.
async fn hammer(base: &str, clients: usize, per_client: usize) -> (u64, u64) {
    let c = client();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let c = c.clone();
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut rejected) = (0u64, 0u64);
            for _ in 0..per_client {
                let r = adobe_post(&c, &base, "/workorder", "o", workorder_body(1).to_string())
                    .send()
                    .await
                    .expect("loopback request");
                match r.status().as_u16() {
                    201 => ok += 1,
                    429 => rejected += 1,
                    s => panic!("unexpected status {s}"),
                }
            }
            (ok, rejected)
        }));
    }
    let mut total = (0, 0);
    for t in tasks {
        let (a, b) = t.await.unwrap();
        total.0 += a;
        total.1 += b;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_get_exact_accounting() {
    let f = fake(
        "clock:\n  mode: virtual\n  start: 2025-01-10T00:00:00Z\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 1000\n",
        &[],
    );
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (ok, rejected) = hammer(&running.url, 64, 25).await;
    assert_eq!(ok + rejected, 64 * 25);
    assert_eq!(ok, 1000, "exactly the limit is admitted");
    assert_eq!(consumed(&f, "o", DAILY), ok);
    assert_eq!(
        consumed(&f, "o", "monthlyConsumerDeleteIdentitiesQuota"),
        ok
    );
    assert_eq!(f.state("o").workorders_retained, 1000);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn non_atomic_over_admits_under_concurrency() {
    let f: Arc<Fake> = fake(
        "clock:\n  mode: virtual\n  start: 2025-01-10T00:00:00Z\ndefaults:\n  dailyConsumerDeleteIdentitiesQuota: 10\n",
        &["non-atomic"],
    );
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (ok, rejected) = hammer(&running.url, 64, 4).await;
    assert_eq!(ok + rejected, 64 * 4);
    // The counter still matches what was admitted — but more than the limit was.
    assert_eq!(consumed(&f, "o", DAILY), ok);
    assert!(ok > 10, "non-atomic admitted only {ok}");
    running.shutdown().await;
}

#[tokio::test]
async fn cli_lists_faults_and_rejects_bad_ones() {
    let args = |faults: Vec<String>, list: bool| FakeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        config: None,
        faults,
        list_faults: list,
        admin_token: None,
    };
    assert_eq!(run(args(vec![], true)).await.unwrap(), 0);
    let err = run(args(vec!["nope".into()], false)).await.unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("unknown fault"));
    let bad_config = FakeArgs {
        config: Some("mocks/does-not-exist.yaml".into()),
        ..args(vec![], false)
    };
    assert!(run(bad_config).await.is_err());
}

#[tokio::test]
async fn hyper_server_speaks_h2c_too() {
    let f = fake(HTTP_CONFIG, &[]);
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = adobe_post(
        &c,
        &running.url,
        "/workorder",
        "o",
        workorder_body(2).to_string(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 201);
    assert_eq!(consumed(&f, "o", DAILY), 2);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_enables_admit_exactly_the_concurrent_limit() {
    let f = fake(HTTP_CONFIG, &[]); // exports_configs: 3
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = client();
    let base = running.url.clone();
    let mut ids = Vec::new();
    for _ in 0..64 {
        let r = c
            .post(format!("{base}/v1/exports/configs?organization_id=o"))
            .bearer_auth("t")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let b: Value = r.json().await.unwrap();
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let (c, base) = (c.clone(), base.clone());
            tokio::spawn(async move {
                c.post(format!(
                    "{base}/v1/exports/configs/{id}/enable?organization_id=o"
                ))
                .bearer_auth("t")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 61);
    let q = truth(&f, "o", "exports_configs");
    assert_eq!(
        (q["consumed"].as_u64(), q["active"].as_u64()),
        (Some(3), Some(3))
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_expiration_churn_releases_every_slot() {
    let f = fake(
        "clock:\n  mode: virtual\n  start: 2025-01-10T00:00:00Z\ndefaults:\n  datasetExpirationQuota: 5\n",
        &[],
    );
    let running = serve(f.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = client();
    let mut tasks = Vec::new();
    for task in 0..32 {
        let (c, base) = (c.clone(), running.url.clone());
        tasks.push(tokio::spawn(async move {
            let mut admitted = 0u32;
            for round in 0..8 {
                let body = json!({"datasetId": format!("ds-{task}-{round}"), "expiry": "2026-01-01T00:00:00Z"});
                let r = adobe_post(&c, &base, "/ttl", "o", body.to_string()).send().await.unwrap();
                match r.status().as_u16() {
                    201 => {
                        admitted += 1;
                        let b: Value = r.json().await.unwrap();
                        let id = b["ttlId"].as_str().unwrap().to_string();
                        let r = c
                            .delete(format!("{base}/data/core/hygiene/ttl/{id}"))
                            .bearer_auth("tok")
                            .header("x-api-key", "k")
                            .header("x-gw-ims-org-id", "o")
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), 200);
                    }
                    429 => {}
                    s => panic!("unexpected {s}"),
                }
            }
            admitted
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += t.await.unwrap();
    }
    assert!(admitted >= 5, "at least the first five fit: {admitted}");
    let q = truth(&f, "o", "datasetExpirationQuota");
    assert_eq!(
        (q["consumed"].as_u64(), q["active"].as_u64()),
        (Some(0), Some(0))
    );
    running.shutdown().await;
}
