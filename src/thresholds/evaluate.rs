//! Evaluates SLO thresholds against the report's figures.

use std::collections::BTreeMap;

use super::{Metric, Threshold};
use crate::report::{OpStats, ThresholdResult};
use crate::vocab::PhaseStats;
use crate::vocab::Verdict;

/// Judges each threshold; a metric with no data is a failure, never a silent pass.
pub fn evaluate(
    ts: &[Threshold],
    ops: &BTreeMap<String, OpStats>,
    phases: &[PhaseStats],
) -> Vec<ThresholdResult> {
    ts.iter()
        .map(|t| {
            let value = measure(t, ops, phases);
            ThresholdResult {
                threshold: t.text.clone(),
                verdict: match value {
                    Some(v) if t.holds(v) => Verdict::Pass,
                    _ => Verdict::Fail,
                },
                value,
            }
        })
        .collect()
}

fn measure(t: &Threshold, ops: &BTreeMap<String, OpStats>, phases: &[PhaseStats]) -> Option<f64> {
    let errors = |o: &OpStats| o.errors();
    Some(match &t.metric {
        Metric::Percentile { p, op } => {
            let l = &ops.get(op)?.latency_us;
            // The parser admits exactly these four.
            (if *p == 50.0 {
                l.p50
            } else if *p == 90.0 {
                l.p90
            } else if *p == 99.0 {
                l.p99
            } else {
                l.p999
            }) as f64
        }
        Metric::Max(op) => ops.get(op)?.latency_us.max as f64,
        Metric::Mean(op) => ops.get(op)?.latency_us.mean,
        Metric::Rps(op) => ops.get(op)?.per_second,
        Metric::ErrorRate(Some(op)) => {
            let o = ops.get(op)?;
            o.error_rate()
        }
        Metric::ErrorRate(None) => {
            let (e, n) = ops.values().fold((0, 0), |(e, n), o| {
                (e + errors(o), n + o.count.saturating_sub(o.interrupted))
            });
            e as f64 / n.max(1) as f64
        }
        Metric::AchievedRate => {
            let (asked, sent) = phases
                .iter()
                .filter_map(|p| p.asked_rate.map(|r| (r * p.seconds, p.operations as f64)))
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            if asked <= 0.0 {
                return None;
            }
            (sent / asked).min(1.0)
        }
    })
}
