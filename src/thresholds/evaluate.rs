//! Evaluates SLO thresholds against the report's figures.

use std::collections::BTreeMap;

use super::{Metric, Threshold};
use crate::report::{LineOn, OpStats, ThresholdLine, ThresholdResult};
use crate::vocab::PhaseStats;
use crate::vocab::Verdict;

/// The latency (µs) of an operation label at a percentile (0–100), read from its
/// full histogram so any `pNN` is exact, not interpolated from a table.
pub(crate) type Quantile<'a> = &'a dyn Fn(&str, f64) -> Option<u64>;

/// Judges each threshold; a metric with no data is a failure, never a silent pass.
pub fn evaluate(
    ts: &[Threshold],
    ops: &BTreeMap<String, OpStats>,
    phases: &[PhaseStats],
    quantile: Quantile,
) -> Vec<ThresholdResult> {
    ts.iter()
        .map(|t| {
            let value = measure(t, ops, phases, quantile);
            ThresholdResult {
                threshold: t.text.clone(),
                verdict: match value {
                    Some(v) if t.holds(v) => Verdict::Pass,
                    _ => Verdict::Fail,
                },
                value,
                measured: value.map(|v| t.show(v)),
                line: line(t),
            }
        })
        .collect()
}

/// The threshold as a line on one operation's chart, when it bounds one operation's
/// latency or rate (an error rate or the achieved share has no chart line).
fn line(t: &Threshold) -> Option<ThresholdLine> {
    let (op, on) = match &t.metric {
        Metric::Percentile { op, .. } | Metric::Max(op) | Metric::Mean(op) => (op, LineOn::Latency),
        Metric::Rps(op) => (op, LineOn::Rate),
        Metric::ErrorRate(_) | Metric::AchievedRate => return None,
    };
    Some(ThresholdLine {
        op: op.clone(),
        on,
        bound: t.bound,
    })
}

fn measure(
    t: &Threshold,
    ops: &BTreeMap<String, OpStats>,
    phases: &[PhaseStats],
    quantile: Quantile,
) -> Option<f64> {
    let errors = |o: &OpStats| o.errors();
    Some(match &t.metric {
        Metric::Percentile { p, op } => {
            ops.get(op)?;
            quantile(op, *p)? as f64
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
