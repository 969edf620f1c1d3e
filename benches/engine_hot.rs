//! Hot paths of the load engine: what every operation pays besides the network.
//!   cargo bench --bench engine_hot
//!
//! Besides criterion's timings, the bench counts the allocations of each step of the
//! per-request path (its own counting allocator) and prints them per operation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;

use quotabench::api::template::Vars;
use quotabench::api::{classify, read_list};
use quotabench::engine::schedule::Schedule;
use quotabench::engine::Mix;
use quotabench::history::{Header, HistoryWriter, OpRecord};
use quotabench::metrics::intervals::Intervals;
use quotabench::metrics::Recorder;
use quotabench::vocab::{Outcome, Reading};

/// The bench binary's allocator: the system's, counting calls (not sizes).
struct Counting;
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations per call of `f`, over `n` calls after `n` warm-up calls.
fn allocations_per_call(n: u64, mut f: impl FnMut()) -> f64 {
    for _ in 0..n {
        f();
    }
    let before = ALLOCATIONS.load(Relaxed);
    for _ in 0..n {
        f();
    }
    (ALLOCATIONS.load(Relaxed) - before) as f64 / n as f64
}

fn hot_paths(c: &mut Criterion) {
    let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).expect("built-in profile");
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
        b.iter(|| black_box(read_list(list, black_box(answer), &[]).map(|r| r.readings.len())))
    });
    let no_headers = hyper::http::HeaderMap::new();
    c.bench_function("classify answer", |b| {
        b.iter(|| black_box(classify(consume, black_box(429), &no_headers, b"{}")))
    });

    let mut rec = Recorder::new(vec!["consume".into(), "list".into()]);
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

    // The collector's share of every operation: its history line, and its second's histogram.
    let header: Header = serde_json::from_value(serde_json::json!({
        "type": "header", "history_version": quotabench::history::HISTORY_VERSION,
        "scenario": "bench", "profile": "adobe-hygiene", "target": "http://127.0.0.1:1",
        "tenant": "org-1", "started_at": "2026-11-21T00:00:00Z", "phases": ["p"],
        "quotas": [], "operations": {}, "capabilities": {}, "clock_control": false
    }))
    .expect("a valid header");
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut writer =
        HistoryWriter::create(&dir.path().join("history.jsonl"), &header).expect("a file");
    let snapshot: quotabench::vocab::Readings = (0..4)
        .map(|q| Reading::new(format!("quota{q}"), 600_000, 841 * q))
        .collect::<Vec<_>>()
        .into();
    let mut record = OpRecord {
        id: 0,
        phase: 0,
        worker: 3,
        op: "list".into(),
        name: "list_quotas".into(),
        tenant: "org-1".into(),
        amount: 0,
        intended_us: 0,
        sent_us: 0,
        done_us: 0,
        outcome: Outcome::Accepted,
        status: Some(200),
        object: None,
        parent: None,
        snapshot: Some(snapshot),
        note: None,
    };
    c.bench_function("history: append one list record (shared snapshot)", |b| {
        b.iter(|| {
            record.id += 1;
            record.done_us += 12;
            writer.append(black_box(&record)).expect("written")
        })
    });
    let mut intervals = Intervals::new(None);
    let mut t = 0u64;
    c.bench_function("intervals: record one operation into its second", |b| {
        b.iter(|| {
            t += 13;
            intervals.record(record.op, t, 400 + t % 9_000)
        })
    });

    // The whole per-request path a load worker pays besides the network: render the
    // request (prepared URL and headers cloned, request id, body), count it in the
    // histograms, write its history line and its second's histogram.
    let target = quotabench::api::Target::new(
        "http://127.0.0.1:9",
        "org-1",
        profile.clone(),
        &[
            ("authorization".into(), "Bearer bench".into()),
            ("x-api-key".into(), "bench".into()),
        ],
        std::time::Duration::from_secs(10),
        1,
    )
    .expect("a target");
    let mut scratch = Vec::with_capacity(1 << 12);
    let mut shard_recorder = Recorder::new(vec!["consume".into(), "list".into()]);
    let mut render = |seq: u64| {
        let vars = Vars {
            tenant: "org-1",
            request_id: "qb1-42",
            seq,
            ..Vars::default()
        };
        let req = target
            .render_into(list, &vars, &mut scratch)
            .expect("rendered");
        black_box(req);
    };
    let step = |record: &mut OpRecord| {
        record.id += 1;
        record.done_us += 12;
        record.intended_us = record.done_us - 500;
        record.sent_us = record.done_us - 400;
    };
    c.bench_function(
        "per request: render list + record it (histograms, history line, second)",
        |b| {
            b.iter(|| {
                step(&mut record);
                render(record.id);
                shard_recorder.record_op(1, black_box(&record));
                writer.append(black_box(&record)).expect("written");
                intervals.record(record.op, record.done_us, 500);
            })
        },
    );
    // Allocations per operation of each step (printed, not timed).
    let n = 20_000;
    let render_allocs = allocations_per_call(n, || render(42));
    let record_allocs = allocations_per_call(n, || {
        step(&mut record);
        shard_recorder.record_op(1, &record);
        writer.append(&record).expect("written");
        intervals.record(record.op, record.done_us, 500);
    });
    println!(
        "allocations per operation: render list {render_allocs:.2}, \
         record it (histograms + history line + second) {record_allocs:.4}"
    );

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

/// A loopback HTTP/1.1 server on its own thread answering every request (headers end,
/// no body: the list's GET) with nginx's answer to the benchmark's list: the other end
/// of a worker's connection, without a target's own cost in the way.
fn loopback_server(answer: &'static [u8]) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = l.local_addr().expect("its address");
    std::thread::spawn(move || {
        for tcp in l.incoming() {
            let Ok(mut tcp) = tcp else { return };
            std::thread::spawn(move || {
                let _ = tcp.set_nodelay(true);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
                    answer.len()
                );
                let reply = [head.as_bytes(), answer].concat();
                let (mut buf, mut held) = (vec![0u8; 16384], Vec::new());
                while let Ok(n) = tcp.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    held.extend_from_slice(&buf[..n]);
                    while let Some(end) = held.windows(4).position(|w| w == b"\r\n\r\n") {
                        held.drain(..end + 4);
                        if tcp.write_all(&reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// One list on a worker's own connection, the whole way: render, one write, the
/// answer read and parsed, classified, the list read (api::Target::perform).
fn worker_connection(c: &mut Criterion) {
    let answer: &'static [u8] = br#"{"quotas":[{"name":"datasetExpirationQuota","description":"d","consumed":12,"quota":50},{"name":"dailyConsumerDeleteIdentitiesQuota","description":"d","consumed":0,"quota":600000},{"name":"monthlyConsumerDeleteIdentitiesQuota","description":"d","consumed":841,"quota":600000},{"name":"monthlyUpdatedFieldIdentitiesQuota","description":"d","consumed":0,"quota":0}]}"#;
    let addr = loopback_server(answer);
    let profile = quotabench::api::load("adobe-hygiene", Path::new(".")).expect("built-in profile");
    let headers = vec![
        ("authorization".to_string(), "Bearer bench".to_string()),
        ("x-api-key".to_string(), "bench".to_string()),
    ];
    let opts = quotabench::api::TransportOptions {
        proxy: quotabench::api::ProxySetting::Off,
        ..Default::default()
    };
    let target = quotabench::api::Target::with_options(
        &format!("http://{addr}"),
        "quotabench-org",
        profile.clone(),
        &headers,
        &opts,
    )
    .expect("a target");
    let list = &profile.ops["list_quotas"];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let vars = Vars {
        tenant: "quotabench-org",
        request_id: "qb1-42",
        seq: 42,
        ..Vars::default()
    };
    let run = |iters: u64| {
        rt.block_on(quotabench::api::owning_connection(async {
            let mut scratch = Vec::new();
            // The connection is opened outside the timing.
            let p = target.perform(list, &vars, &mut scratch).await;
            assert_eq!(p.outcome, Outcome::Accepted, "{:?}", p.note);
            let (t, a) = (std::time::Instant::now(), ALLOCATIONS.load(Relaxed));
            for _ in 0..iters {
                black_box(target.perform(list, &vars, &mut scratch).await);
            }
            (t.elapsed(), ALLOCATIONS.load(Relaxed) - a)
        }))
    };
    c.bench_function(
        "per request on a worker's connection: list over loopback (render, write, read, classify, read the list)",
        |b| b.iter_custom(|iters| run(iters).0),
    );
    let n = 5_000;
    println!(
        "allocations per list on a worker's connection: {:.2}",
        run(n).1 as f64 / n as f64
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2));
    targets = hot_paths, worker_connection
}
criterion_main!(benches);
