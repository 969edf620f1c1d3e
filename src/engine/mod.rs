//! The load engine: phases in sequence, each a closed (virtual users) or open
//! (arrival schedule) workload; every operation is recorded once, as it completes.
//!
//! The engine knows nothing of specific APIs: it sends compiled profile operations.

#[cfg(test)]
mod alloc_count;
mod arrivals;
mod cleanup;
mod clock;
mod mix;
mod op;
mod phase;
pub(crate) mod plan;
mod probe;
pub mod schedule;
mod shard;
mod sink;

pub use crate::vocab::PhaseStats;
pub use mix::Mix;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;

use crate::api::Target;
use crate::error::Error;
use crate::history::{Header, History, HistoryWriter, OpDecl, HISTORY_VERSION};
use crate::metrics::Recorder;
use crate::scenario::{Loaded, MixEntry};
use crate::vocab::OpKind;

pub use crate::vocab::SNAPSHOT;

/// Everything the engine needs for one run.
pub struct Plan {
    /// The scenario.
    pub loaded: Loaded,
    /// Each phase's resolved mix.
    pub mixes: Vec<Vec<MixEntry>>,
    /// The target.
    pub target: Arc<Target>,
    /// Seed for the operation mix.
    pub seed: u64,
    /// Whether the target's clock can be moved.
    pub clock_control: bool,
    /// Most operation records kept in memory while the run goes on
    /// ([`DEFAULT_HISTORY_CAP`]); past it none are kept and the checker reads
    /// history.jsonl back.
    pub history_cap: usize,
    /// Live metrics (`--metrics-listen`); an empty handle collects nothing.
    pub live: crate::live::Live,
    /// `run --shard K/N`: this process's shard, copied into the history header. Its
    /// index also goes into request ids, so ids stay unique across the shards. The
    /// engine does nothing else with it: the scenario was split before it (`scenario::shard`).
    pub shard: Option<crate::history::ShardInfo>,
}

/// Records kept in memory by default while the run goes on (~150–250 bytes each; a
/// tuning knob, `QB_HISTORY_IN_MEMORY`): a longer run lets its copy go and is judged from
/// history.jsonl, read back after the load, so no verdict depends on it.
pub const DEFAULT_HISTORY_CAP: usize = 3_000_000;

/// What a run produced.
pub struct Outcome {
    /// The full history (also written to history.jsonl).
    pub history: History,
    /// Latency histograms.
    pub recorder: Arc<Recorder>,
    /// Per-phase delivery figures.
    pub phases: Vec<PhaseStats>,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Records written to history.jsonl but not in `history` (0, or every record when
    /// the run outgrew the cap: then `history` holds none and history.jsonl is the
    /// history to judge).
    pub not_kept: u64,
    /// Consumed and limit over time per quota of the run's tenant, over the whole run.
    pub quotas: std::collections::BTreeMap<String, Vec<crate::metrics::quota_series::QuotaPoint>>,
    /// Latency per second of each operation label, over the whole run.
    pub over_time: std::collections::BTreeMap<String, Vec<crate::metrics::intervals::TimePoint>>,
    /// The budget plan, checked at each phase, with what the run could not clean up.
    pub plan: crate::vocab::BudgetPlan,
    /// Where history.jsonl stopped, when a write to it failed (the run was stopped
    /// there; `history` still holds what completed after it, in memory only).
    pub history_write: Option<crate::history::WriteStopped>,
}

/// State shared by the coordinator and every worker of a run.
pub(crate) struct Shared {
    pub target: Arc<Target>,
    pub recorder: Arc<sink::RunRecorder>,
    pub start: Instant,
    pub seq: AtomicU64,
    pub stop: CancellationToken,
    /// Live objects per operation (setup objects, consumed objects), for later
    /// consumes and releases.
    pub pools: HashMap<String, Mutex<Vec<op::Obj>>>,
    /// The target's time minus the wall clock's, seconds: set by each clock read
    /// (`clock.rs`), moved by each accepted clock move.
    pub clock_offset: AtomicI64,
    /// The clock read got a definite refusal (a target without the route): not sent again.
    pub clock_refused: std::sync::atomic::AtomicBool,
    pub run_id: String,
    pub sink: sink::Sink,
    pub counters: Arc<crate::progress::Counters>,
    /// What probes could not clean up on other tenants (in words).
    pub left: Mutex<Vec<String>>,
    /// Live metrics: counted where records are completed (`op::record`).
    pub live: crate::live::Live,
}

impl Shared {
    /// The same run seen through another target (other headers or tenant), for probes:
    /// its requests share the run's metrics, clock and history. Probes run alone, so ids
    /// continue from the run's counter; hand them back with `seq.fetch_max` when done.
    pub(crate) fn with_target(&self, target: Arc<Target>) -> Shared {
        use std::sync::atomic::Ordering::Relaxed;
        Shared {
            target,
            recorder: self.recorder.clone(),
            start: self.start,
            seq: AtomicU64::new(self.seq.load(Relaxed)),
            stop: self.stop.clone(),
            // The same pools, empty: what a variant creates is its own to clean up.
            pools: self
                .pools
                .keys()
                .map(|k| (k.clone(), Mutex::new(Vec::new())))
                .collect(),
            clock_offset: AtomicI64::new(self.clock_offset.load(Relaxed)),
            clock_refused: self.clock_refused.load(Relaxed).into(),
            run_id: self.run_id.clone(),
            sink: self.sink.clone(),
            counters: self.counters.clone(),
            left: Mutex::new(Vec::new()),
            live: self.live.clone(),
        }
    }

    pub fn us(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_micros() as u64
    }
}

/// Runs every phase of the plan, streaming the history to `history_path`.
pub async fn run(
    plan: &Plan,
    history_path: &Path,
    stop: CancellationToken,
) -> Result<Outcome, Error> {
    let s = &plan.loaded.scenario;
    let target = plan.target.clone();
    let mut labels: Vec<String> = Vec::new();
    for m in plan.mixes.iter().flatten() {
        if !labels.contains(&m.label) {
            labels.push(m.label.clone());
        }
    }
    labels.push(SNAPSHOT.into());
    labels.push(cleanup::CLEANUP.into());
    for kind in s.phases.iter().filter_map(|p| p.probe) {
        if !labels.iter().any(|l| l == kind.label()) {
            labels.push(kind.label().into());
        }
    }
    // Operations sent on demand (setups, a release's fallback consume) report under
    // their own names; unused labels cost nothing (histograms are allocated lazily).
    for name in target.profile.ops.keys() {
        if !labels.contains(name) {
            labels.push(name.clone());
        }
    }
    let recorder = Arc::new(sink::RunRecorder::new(labels));
    // `started_at` and the zero of every `*_us` offset are read at one moment: a merge
    // lines shards up by `started_at`, so a gap between the two would misplace a
    // shard's every record by it.
    let wall = jiff::Timestamp::now();
    let start = Instant::now();
    let header = Header {
        kind: "header".into(),
        history_version: HISTORY_VERSION,
        scenario: s.name.clone(),
        profile: target.profile.profile.name.clone(),
        target: target.base_url.clone(),
        tenant: target.tenant.clone(),
        started_at: wall.to_string(),
        phases: s.phases.iter().map(|p| p.name.clone()).collect(),
        quotas: target.profile.profile.quotas.clone(),
        operations: target
            .profile
            .ops
            .iter()
            .map(|(n, o)| {
                (
                    n.clone(),
                    OpDecl {
                        kind: o.kind,
                        touches: o.touches.clone(),
                        releases: o.releases.clone(),
                        reason: o.reason.clone(),
                        filter: o.filter.clone(),
                    },
                )
            })
            .collect(),
        capabilities: target.profile.profile.capabilities.clone(),
        clock_control: plan.clock_control,
        reset_wait: s.phases.iter().enumerate().find_map(|(i, p)| {
            let wait = p
                .wait
                .filter(|_| p.probe == Some(crate::scenario::ProbeKind::Reset))?;
            Some(crate::history::ResetWait {
                phase: i as u32,
                wait_s: wait.0.as_secs(),
            })
        }),
        shards: plan.shard.iter().cloned().collect(),
    };
    let mut writer = HistoryWriter::create(history_path, &header)?;
    let (tx, rx, spares) = sink::Sink::new();
    let shared = Arc::new(Shared {
        target: target.clone(),
        recorder: recorder.clone(),
        start,
        seq: AtomicU64::new(1),
        stop: stop.clone(),
        pools: target
            .profile
            .ops
            .values()
            .filter(|o| matches!(o.kind, OpKind::Consume | OpKind::Setup))
            .map(|o| (o.name.clone(), Mutex::new(Vec::new())))
            .collect(),
        clock_offset: AtomicI64::new(0),
        clock_refused: false.into(),
        // Shards start together (`--start-at`): the shard keeps their ids apart.
        run_id: match &plan.shard {
            Some(k) => format!("qb{}s{}", wall.as_millisecond() % 100_000_000, k.index),
            None => format!("qb{}", wall.as_millisecond() % 100_000_000),
        },
        sink: tx,
        counters: Arc::new(crate::progress::Counters::default()),
        left: Mutex::new(Vec::new()),
        live: plan.live.clone(),
    });

    // The writer task keeps the history on disk as it grows: an interrupted run keeps it.
    // Past `cap` records the file keeps growing but memory does not: the copy is let go
    // and the run judges history.jsonl, read back once the load is over (`run.rs`).
    let cap = plan.history_cap;
    // latency.hlog and the per-second summaries are built here too, from every record:
    // they cover the whole run even past the in-memory bound.
    let hlog = crate::metrics::hlog::HlogStream::create(
        &history_path.with_file_name("latency.hlog"),
        std::time::SystemTime::from(wall),
        &s.name,
    )?;
    let mut intervals = crate::metrics::intervals::Intervals::new(Some(hlog));
    let mut quota_series = crate::metrics::quota_series::QuotaSeries::new(&target.tenant);
    // A failed history write (a full disk) stops the run at once: going on would send
    // requests whose evidence is lost. Where the file stopped comes back as data
    // (`Outcome::history_write`), so the run still reports, saying so.
    let stop_on_write_error = stop.clone();
    // The history writer has a thread of its own: it blocks on the records the shards
    // and the coordinator send (batches), never on the runtime they run on.
    let collector = std::thread::Builder::new()
        .name("qb-history".into())
        .spawn(move || {
            let mut ops = Vec::new();
            let mut dropped = 0u64;
            let mut stopped: Option<crate::history::WriteStopped> = None;
            // Ends when every sender is gone: the shards, the coordinator and its copies.
            while let Ok(mut batch) = rx.recv() {
                for rec in batch.drain(..) {
                    match &mut stopped {
                        // Completed after the file stopped: in memory, not on disk.
                        Some(s) => s.records_lost += 1,
                        None => {
                            if let Err(e) = writer.append(&rec) {
                                eprintln!("error: {e}; stopping the run (the history cannot grow)");
                                stop_on_write_error.cancel();
                                stopped = Some(written_up_to(&writer, e)?);
                            }
                        }
                    }
                    intervals.record(
                        rec.op,
                        rec.done_us,
                        rec.done_us.saturating_sub(rec.intended_us),
                    );
                    quota_series.record(&rec);
                    if dropped == 0 && ops.len() < cap {
                        ops.push(rec);
                    } else {
                        // Outgrown: the checker reads history.jsonl back instead, so the
                        // copy is let go now rather than held through the rest of the load.
                        if dropped == 0 {
                            dropped = ops.len() as u64;
                            ops = Vec::new();
                        }
                        dropped += 1;
                    }
                }
                spares.give_back(batch);
            }
            if stopped.is_none() {
                if let Err(e) = writer.close() {
                    eprintln!("error: {e}");
                    stopped = Some(written_up_to(&writer, e)?);
                }
            }
            let over_time = match (intervals.finish(), &stopped) {
                (Ok(t), _) => t,
                (Err(e), None) => return Err(e),
                // The same disk: latency.hlog is lost too; the report goes on without
                // its per-second charts rather than not at all.
                (Err(e), Some(_)) => {
                    eprintln!("error: {e}");
                    Default::default()
                }
            };
            Ok((ops, dropped, over_time, quota_series.finish(), stopped))
        })
        .map_err(|e| Error::Target(format!("cannot start the history writer: {e}")))?;

    let mut phases = Vec::new();
    let window = target.profile.profile.capabilities.consistency_window.0;
    // The budget: one list of the main tenant (and one of the other, the first of the
    // isolation evidence) before the first phase, and the phases' order planned from it.
    let names: Vec<String> = s.phases.iter().map(|p| p.name.clone()).collect();
    // The target's time first: the plan names when quotas reset, and whether a reset
    // probe's wait reaches a boundary, in the target's time.
    clock::read(&shared, 0).await;
    let mut demands = plan::demands(&target.profile, &s.phases, &plan.mixes);
    plan::waits(
        &mut demands,
        &target.profile,
        &s.phases,
        plan.clock_control,
        target_now(&shared),
    );
    let (order, moves) = plan::order(&demands, &names, plan.clock_control);
    tokio::time::sleep(window).await;
    let start_read = op::snapshot(&shared, 0).await;
    if s.phases
        .iter()
        .any(|p| p.probe == Some(crate::scenario::ProbeKind::Isolation))
    {
        if let Some(v) = other_tenant(plan, &shared) {
            op::snapshot(&v, 0).await;
            shared.seq.fetch_max(
                v.seq.load(std::sync::atomic::Ordering::Relaxed),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }
    let mut budget = plan::build(
        &target.profile,
        &names,
        &demands,
        &order,
        moves,
        start_read.as_deref().unwrap_or_default(),
        plan.clock_control,
    );
    if start_read.is_none() {
        budget
            .shortfalls
            .push("the list read before the first phase failed: nothing could be planned".into());
    }
    eprint!("{}", plan::render(&budget));
    for &i in &order {
        let (phase, mix) = (&s.phases[i], &plan.mixes[i]);
        if stop.is_cancelled() {
            break;
        }
        // A quiescent snapshot opens each phase: baseline for the rules, and the
        // remaining capacity that `amount: auto` sizes orders from.
        tokio::time::sleep(window).await;
        clock::read(&shared, i as u32).await;
        let snap = op::snapshot(&shared, i as u32).await;
        let now = target_now(&shared);
        for line in plan::check(
            &mut budget,
            &target.profile,
            &phase.name,
            snap.as_deref(),
            now,
        ) {
            eprintln!("budget: {line}");
        }
        let view = crate::progress::PhaseProgress::start(
            &phase.name,
            shared.counters.clone(),
            phase.workload.operations,
            phase.workload.duration.map(|d| d.0),
        );
        shared.live.phase_started(&phase.name);
        let began = shared.start.elapsed().as_secs_f64();
        let mut stats = match phase.probe {
            Some(kind) => probe::run(&shared, plan, i as u32, phase, kind).await,
            None => {
                let (stats, sizing) =
                    phase::run(&shared, i as u32, phase, mix, snap.as_deref(), plan.seed).await;
                if let Some(why) = sizing {
                    eprintln!("budget: phase {}: {why}", phase.name);
                    for e in budget.entries.iter_mut().filter(|e| e.phase == phase.name) {
                        e.note = Some(why.clone());
                    }
                }
                stats
            }
        };
        // Where the phase's band sits on the report's charts.
        stats.started_s = Some((began * 1000.0).round() / 1000.0);
        view.finish().await;
        shared.live.phase_done(&stats);
        crate::progress::phase_done(&stats);
        phases.push(stats);
    }
    let last = s.phases.len().saturating_sub(1) as u32;
    if !stop.is_cancelled() {
        tokio::time::sleep(window).await;
        op::snapshot(&shared, last).await;
    }
    // Everything the run still holds is released and deleted, also after a stop.
    let cleaner = cleanup::detached(&shared);
    let before = cleaner.seq.load(std::sync::atomic::Ordering::Relaxed);
    let mut left = cleanup::clean(&cleaner, last).await;
    if cleaner.seq.load(std::sync::atomic::Ordering::Relaxed) > before {
        tokio::time::sleep(window).await;
        op::snapshot(&cleaner, last).await;
    }
    left.extend(shared.left.lock().drain(..));
    for l in &left {
        eprintln!("cleanup: left behind: {l}");
    }
    budget.left_behind = left;
    drop(cleaner);
    let elapsed = shared.start.elapsed();
    let interrupted = stop.is_cancelled();
    let recorder = Arc::new(shared.recorder.take());
    drop(shared);
    let (mut ops, not_kept, over_time, quotas, history_write) =
        tokio::task::spawn_blocking(move || collector.join())
            .await
            .map_err(|e| Error::Target(format!("history writer failed: {e}")))?
            .map_err(|_| Error::Target("the history writer ended abnormally".into()))??;
    ops.sort_by_key(|o| (o.done_us, o.id));
    Ok(Outcome {
        history: History { header, ops },
        recorder,
        phases,
        interrupted,
        elapsed,
        not_kept,
        over_time,
        quotas,
        plan: budget,
        history_write,
    })
}

/// Where the history stopped after `e`; a failure that is no stopped write (the flush
/// to disk at the end) stays an error.
fn written_up_to(writer: &HistoryWriter, e: Error) -> Result<crate::history::WriteStopped, Error> {
    writer.stopped().cloned().ok_or(e)
}

/// The target's time as the run knows it, Unix seconds: the wall clock plus the offset
/// the latest clock read found and every clock move since.
pub(crate) fn target_now(sh: &Shared) -> i64 {
    jiff::Timestamp::now().as_second() + sh.clock_offset.load(std::sync::atomic::Ordering::Relaxed)
}

/// The run seen through `target.other_tenant`, when the scenario names one.
pub(crate) fn other_tenant(plan: &Plan, sh: &Shared) -> Option<Shared> {
    let t = &plan.loaded.scenario.target;
    let other = t
        .other_tenant
        .as_ref()
        .map(|o| o.value.clone())
        .filter(|o| !o.is_empty())?;
    let headers: Vec<(String, String)> = t
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    let timeout = t.timeout.map_or(Duration::from_secs(10), |d| d.0);
    let target = Target::new(
        &sh.target.base_url,
        &other,
        sh.target.profile.clone(),
        &headers,
        timeout,
        1,
    )
    .ok()?;
    Some(sh.with_target(Arc::new(target)))
}

/// Sleeps for `d`; false when the run was stopped first.
pub(crate) async fn sleep_or_stop(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stop.cancelled() => false,
    }
}
