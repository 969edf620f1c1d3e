//! Hot paths of the load engine: what every operation pays besides the network.
//!   cargo bench --bench engine_hot

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;

use quotabench::engine::schedule::Schedule;
use quotabench::engine::Mix;
use quotabench::history::Outcome;
use quotabench::metrics::Recorder;
use quotabench::target::template::Vars;
use quotabench::target::{classify, compile, read_list};

fn hot_paths(c: &mut Criterion) {
    let profile = compile::load("adobe-hygiene", Path::new(".")).expect("built-in profile");
    let consume = &profile.ops["delete_identities"];
    let list = &profile.ops["list_quotas"];

    let mut body = Vec::with_capacity(1 << 16);
    for n in [1u64, 100] {
        c.bench_function(&format!("render workorder body, {n} identities"), |b| {
            b.iter(|| {
                let vars = Vars {
                    tenant: "org-1",
                    amount: n,
                    request_id: "qb1-42",
                    seq: 42,
                    ..Vars::default()
                };
                consume
                    .body
                    .as_ref()
                    .expect("a body")
                    .render(&vars, &mut body);
                black_box(body.len())
            })
        });
    }

    let answer = br#"{"quotas":[{"name":"datasetExpirationQuota","description":"d","consumed":12,"quota":50},{"name":"dailyConsumerDeleteIdentitiesQuota","description":"d","consumed":0,"quota":600000},{"name":"monthlyConsumerDeleteIdentitiesQuota","description":"d","consumed":841,"quota":600000},{"name":"monthlyUpdatedFieldIdentitiesQuota","description":"d","consumed":0,"quota":0}]}"#;
    c.bench_function("read list answer (4 quotas)", |b| {
        b.iter(|| black_box(read_list(list, black_box(answer), &[]).map(|r| r.len())))
    });
    c.bench_function("classify answer", |b| {
        b.iter(|| black_box(classify(consume, black_box(429), b"{}")))
    });

    let rec = Recorder::new(vec!["consume".into(), "list".into()]);
    let mut i = 0u64;
    c.bench_function("record one operation (2 histograms + throughput)", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            rec.record(
                1,
                Outcome::Accepted,
                500 + i % 10_000,
                400 + i % 9_000,
                ((i >> 10) % 600) as usize,
            )
        })
    });

    let mix = Mix::new(&[9, 1, 1, 3]);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
    c.bench_function("pick from a 4-way mix", |b| {
        b.iter(|| black_box(mix.pick(&mut rng)))
    });

    let ramp = Schedule::stages(0.0, &[(30.0, 2000.0), (60.0, 2000.0)]);
    let mut n = 0u64;
    c.bench_function("schedule: intended time of the next arrival (ramp)", |b| {
        b.iter(|| {
            n = (n + 1) % 100_000;
            black_box(ramp.at(n))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = hot_paths
}
criterion_main!(benches);
