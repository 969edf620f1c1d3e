//! `quotabench merge`: the run folders of `run --shard K/N` put together into one run
//! folder, judged as one run (docs/distributed.md).
//!
//! - `inputs`: the shard folders, refused unless they are shards 1..N of one run;
//! - `align`: every shard's records on the target's time line, widened by its clock
//!   bound, ids and workers unique, only shard 1's coordinator quiescent;
//! - `stats`: phases' delivery and the budget plan from the shards' summaries;
//!
//! Histograms are rebuilt exactly from each shard's own records (every operation the
//! recorder counted is in the history with the same µs) and added
//! ([`Recorder::absorb`]); rules, thresholds and the report come from the same code a
//! single run uses (`run::conclude`).

mod align;
mod inputs;

mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{exit, Error};
use crate::history::{History, HistoryWriter, OpRecord};
use crate::metrics::Recorder;
use crate::report::export::style::Style;
use crate::run::{self, Evidence, RunResult};
use crate::thresholds::Threshold;
use crate::vocab::Verdict;

/// Merges the shard run folders `dirs` into a new run folder under `out`; prints the
/// summary with `print`. The result's code is the one `run` would give.
pub fn merge(dirs: &[PathBuf], out: &Path, print: Option<Style>) -> Result<RunResult, Error> {
    let shards = inputs::load(dirs)?;
    for s in &shards {
        for w in &s.warnings {
            eprintln!("warning: shard {}: {w}", s.info.index);
        }
    }
    let first = &shards[0];
    let scenario = first.history.header.scenario.clone();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;

    let input: Vec<(&Path, &History, &crate::history::ShardInfo)> = shards
        .iter()
        .map(|s| (s.dir.as_path(), &s.history, &s.info))
        .collect();
    let lined = align::line_up(&input)?;
    let zero_at = lined.zero;
    let dir = run::run_dir(out, &scenario, Some("merged"), zero_at)?;
    // Each shard's recorder, rebuilt from its own (aligned, unwidened) records.
    let recorders: Vec<Recorder> = (1..=shards.len() as u32)
        .map(|k| {
            rebuild(
                lined
                    .aligned
                    .iter()
                    .filter(|(_, s)| *s == k)
                    .map(|(o, _)| o),
            )
        })
        .collect();
    let mut recorder = Recorder::new(Vec::new());
    for r in &recorders {
        recorder.absorb(r);
    }
    let hlog = crate::metrics::hlog::HlogStream::create(
        &dir.join("latency.hlog"),
        std::time::SystemTime::from(zero_at),
        &scenario,
    )?;
    let mut intervals = crate::metrics::intervals::Intervals::new(Some(hlog));
    let mut quota_series =
        crate::metrics::quota_series::QuotaSeries::new(&first.history.header.tenant);
    for (o, _) in &lined.aligned {
        intervals.record(o.op, o.done_us, o.done_us.saturating_sub(o.intended_us));
        quota_series.record(o);
    }
    let over_time = intervals.finish()?;

    let mut writer = HistoryWriter::create(&dir.join("history.jsonl"), &lined.judged.header)?;
    for (o, k) in lined.judged.ops.iter().zip(&lined.judged_shard) {
        writer.append_in_shard(o, *k)?;
    }
    writer.finish()?;
    let history = lined.judged;
    let shifts = lined.shifts;

    let reports: Vec<&crate::report::Report> = shards.iter().map(|s| &s.report).collect();
    let phases = stats::phases(&reports);
    let plan = stats::plan(
        &shards
            .iter()
            .map(|s| (s.info.index, &s.report))
            .collect::<Vec<_>>(),
    );
    // Thresholds as the shards were given them, judged over the union.
    let thresholds = first
        .report
        .thresholds
        .iter()
        .map(|t| {
            Threshold::parse(&t.threshold).map_err(|e| {
                Error::Usage(format!(
                    "{}: threshold {:?} in summary.json: {e}",
                    first.dir.display(),
                    t.threshold
                ))
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    // The rules the shards judged (`checks: none` judged none).
    let ids: Vec<String> = first.report.rules.iter().map(|r| r.id.clone()).collect();
    let checks = (!ids.is_empty()).then_some(ids.as_slice());
    let elapsed = shards
        .iter()
        .zip(&shifts)
        .map(|(s, &shift)| {
            Duration::from_micros(shift) + Duration::from_secs_f64(s.report.duration_s.max(0.0))
        })
        .max()
        .unwrap_or_default();
    let interrupted = shards.iter().any(|s| s.report.interrupted);
    let report = run::conclude(Evidence {
        scenario,
        started_at: zero_at.to_string(),
        target: first.report.target.clone(),
        history: &history,
        recorder: &recorder,
        over_time: &over_time,
        quotas: quota_series.finish(),
        phases,
        plan: plan.clone(),
        elapsed,
        interrupted,
        too_big: None,
        streamed: None,
        incomplete: shards.iter().any(|s| !s.warnings.is_empty()),
        history_write: None,
        checks,
        max_indefinite: first.info.max_indefinite,
        thresholds: &thresholds,
        reproduce_on: None,
    });
    run::write_and_print(&report, &dir, print, &plan)?;
    let code = match (run::code_for(report.verdict), interrupted) {
        // A shard stopped early: a failure on what was done still fails; a pass was not
        // earned by the whole run.
        (exit::FAIL, _) => exit::FAIL,
        (_, true) => exit::UNKNOWN,
        (c, false) => c,
    };
    if interrupted && report.verdict != Verdict::Fail {
        eprintln!("quotabench: a shard's run was interrupted: the merged run did not do all it planned (exit 3)");
    }
    Ok(RunResult { report, dir, code })
}

/// The recorder a shard's run held, rebuilt from its records (moved onto the merged
/// time line): the engine records each operation's completion minus intended start
/// and minus send, in µs, under its label, exactly as the history keeps them.
fn rebuild<'a>(ops: impl Iterator<Item = &'a OpRecord> + Clone) -> Recorder {
    let mut labels: Vec<String> = Vec::new();
    for o in ops.clone() {
        if !labels.iter().any(|l| l == o.op.as_str()) {
            labels.push(o.op.to_string());
        }
    }
    let mut r = Recorder::new(labels);
    for o in ops {
        let i = r.label_index(o.op.as_str()).unwrap_or(0);
        r.record(
            i,
            o.outcome,
            o.done_us.saturating_sub(o.intended_us),
            o.done_us.saturating_sub(o.sent_us),
            (o.done_us / 1_000_000) as usize,
        );
    }
    r
}

#[cfg(test)]
mod skew_tests;
