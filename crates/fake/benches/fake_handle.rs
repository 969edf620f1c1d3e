//! Hot paths of the bundled fake, without any transport: consuming (POST /workorder,
//! Didomi enable/disable) and listing (GET /quota), through `Fake::handle`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quotabench_fake::{Fake, FakeConfig, FakeRequest, FaultSet};

fn fake() -> Fake {
    // Limits high enough that every order in the bench is admitted.
    let config = FakeConfig::from_text(
        std::path::Path::new("<bench>"),
        "defaults:\n  dailyConsumerDeleteIdentitiesQuota: 1000000000000\n  monthlyConsumerDeleteIdentitiesQuota: 1000000000000\n",
    )
    .expect("bench config");
    Fake::new(config, FaultSet::none())
}

fn adobe(method: &str, path: &str, org: &str) -> FakeRequest {
    FakeRequest::new(method, &format!("/data/core/hygiene{path}"))
        .header("authorization", "Bearer tok")
        .header("x-api-key", "key")
        .header("x-gw-ims-org-id", org)
        .header("content-type", "application/json")
}

fn bench(c: &mut Criterion) {
    let f = fake();
    let mut g = c.benchmark_group("fake_handle");
    g.throughput(Throughput::Elements(1));

    let order = adobe("POST", "/workorder", "bench-org").body(
        r#"{"action":"delete_identity","datasetId":"ALL","displayName":"b","description":"b","identities":[{"namespace":{"code":"email"},"id":"a@example.com"}]}"#,
    );
    g.bench_function("consume_workorder_1_identity", |b| {
        b.iter(|| {
            let r = f.handle(black_box(&order));
            debug_assert_eq!(r.status, 201);
            r
        })
    });

    let list = adobe("GET", "/quota", "bench-org");
    g.bench_function("list_quota", |b| b.iter(|| f.handle(black_box(&list))));

    let rejected = {
        let f2 = Fake::new(
            FakeConfig::from_text(
                std::path::Path::new("<bench>"),
                "defaults:\n  dailyConsumerDeleteIdentitiesQuota: 0\n",
            )
            .expect("config"),
            FaultSet::none(),
        );
        let r = order.clone();
        move |b: &mut criterion::Bencher| b.iter(|| f2.handle(black_box(&r)))
    };
    g.bench_function("consume_workorder_quota_rejected", rejected);

    // Didomi: enable + disable one configuration (concurrent acquire and release).
    let org = "bench-didomi";
    let create = FakeRequest::new(
        "POST",
        &format!("/v1/exports/configs?organization_id={org}"),
    )
    .header("authorization", "Bearer tok");
    let id = f.handle(&create).json_body()["id"]
        .as_str()
        .expect("config id")
        .to_string();
    let enable = FakeRequest::new(
        "POST",
        &format!("/v1/exports/configs/{id}/enable?organization_id={org}"),
    )
    .header("authorization", "Bearer tok");
    let disable = FakeRequest::new(
        "POST",
        &format!("/v1/exports/configs/{id}/disable?organization_id={org}"),
    )
    .header("authorization", "Bearer tok");
    g.bench_function("didomi_enable_disable_pair", |b| {
        b.iter(|| {
            f.handle(black_box(&enable));
            f.handle(black_box(&disable))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
