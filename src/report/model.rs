//! The one report model every exporter reads. summary.json is its serialization.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::RuleVerdict;
use crate::history::Header;
use crate::metrics::{Recorder, View};
use crate::vocab::Implementation;
use crate::vocab::OpKind;
use crate::vocab::Outcome;
use crate::vocab::PhaseStats;
use crate::vocab::Verdict;

/// summary.json's format version; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Overall verdict: fail > unknown > pass.
    pub verdict: Verdict,
    /// Whether the run was interrupted (the report holds what was done).
    pub interrupted: bool,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Run duration in seconds.
    pub duration_s: f64,
    /// What was tested.
    pub target: TargetInfo,
    /// Verdict per rule.
    pub rules: Vec<RuleVerdict>,
    /// Verdict per threshold.
    pub thresholds: Vec<ThresholdResult>,
    /// Statistics per operation label.
    pub operations: BTreeMap<String, OpStats>,
    /// Delivery per phase.
    pub phases: Vec<PhaseStats>,
    /// Consumed and limit over time per quota, from every list the run read.
    #[serde(default)]
    pub quotas: BTreeMap<String, Vec<QuotaPoint>>,
    /// The causes of every unexpected outcome (error, indeterminate, not_sent,
    /// rejected_rate), grouped by cause and counted, most frequent first (at most
    /// [`MAX_ERROR_CAUSES`]; `errors_left_off` counts the causes left off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorCause>,
    /// Causes beyond the first [`MAX_ERROR_CAUSES`], left off `errors`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errors_left_off: u64,
    /// The budget plan: per phase and quota, units planned and available; the phases'
    /// order; shortfalls (which make the run unknown); objects left behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::vocab::BudgetPlan>,
    /// Notices every format shows above everything else (an insecure TLS setting, a
    /// shard's share of the run): features add theirs here, formats render them all.
    /// The interrupt is not one of them: it has its own field, `interrupted`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banners: Vec<Banner>,
    /// Where history.jsonl stopped when a write to it failed (a full disk): the run
    /// was stopped there and is an error (exit 2); every format shows it as a notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_write: Option<crate::history::WriteStopped>,
}

/// A notice shown at the top of every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Banner {
    /// How loud: `warning` (the run's figures may mislead without it) or `info`.
    pub level: BannerLevel,
    /// The notice in words, one sentence or two.
    pub text: String,
}

/// How loud a [`Banner`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BannerLevel {
    /// Read it before the figures.
    Warning,
    /// Context.
    Info,
}

/// What a report's headline says: the verdict, or that the run was interrupted (then
/// the verdict judges only what ran before the stop, and is never shown as a pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headline {
    /// The run went to its end: its verdict.
    Verdict(Verdict),
    /// The run was stopped; the verdict over what it did.
    Interrupted(Verdict),
}

impl Headline {
    /// The one word a headline shows: `pass`, `fail`, `unknown` or `interrupted`.
    pub fn word(self) -> &'static str {
        match self {
            Headline::Verdict(v) => v.as_str(),
            Headline::Interrupted(_) => "interrupted",
        }
    }
}

/// The text of the notice an interrupted run carries in every format.
pub const INTERRUPTED_BANNER: &str =
    "Interrupted: this report holds what was done before the stop; it is no pass.";

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many error causes a report lists.
pub const MAX_ERROR_CAUSES: usize = 20;

/// One cause of unexpected outcomes, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ErrorCause {
    /// What happened, volatile parts (ids, numbers) normalized: `connection refused`,
    /// `503 Service Unavailable`.
    pub cause: String,
    /// How many operations it ended.
    pub count: u64,
    /// Their outcome class.
    pub outcome: Outcome,
    /// The first operation it ended (id in history.jsonl).
    pub first_op: u64,
}

impl Report {
    /// The headline: an interrupted run says so instead of its verdict.
    pub fn headline(&self) -> Headline {
        if self.interrupted {
            Headline::Interrupted(self.verdict)
        } else {
            Headline::Verdict(self.verdict)
        }
    }

    /// Every notice to show on top: a failed history write, the interrupt, then
    /// `--insecure`.
    pub fn notices(&self) -> Vec<Banner> {
        let lost = self.history_write.as_ref().map(|w| Banner {
            level: BannerLevel::Warning,
            text: format!(
                "History write failed: {}. The run stopped there; no verdict rests on the lost records.",
                w.said()
            ),
        });
        let stop = self.interrupted.then(|| Banner {
            level: BannerLevel::Warning,
            text: INTERRUPTED_BANNER.into(),
        });
        let insecure = self.target.insecure.then(|| Banner {
            level: BannerLevel::Warning,
            text: format!("Insecure: {INSECURE_NOTE}."),
        });
        lost.into_iter()
            .chain(stop)
            .chain(insecure)
            .chain(self.banners.iter().cloned())
            .collect()
    }

    /// A notice when the target's rate limiter turned away a large share of the
    /// workload: those operations never reached the quota logic, so a limit was pressed
    /// by far fewer requests than planned — a race may have had no chance to show, and a
    /// pass says less than it seems. Workers do not retry (that would distort the load).
    pub fn rate_limited(&self) -> Option<Banner> {
        let (mut limited, mut all) = (0u64, 0u64);
        for (_, o) in self.user_operations() {
            limited += o
                .outcomes
                .get(Outcome::RejectedRate.as_str())
                .copied()
                .unwrap_or(0);
            all += o.count;
        }
        // A quarter: an occasional 429 is normal; past this, the run is mostly measuring
        // the rate limiter.
        (all > 0 && limited * 4 >= all).then(|| Banner {
            level: BannerLevel::Warning,
            text: format!(
                "Rate-limited: {limited} of {all} workload operations ({:.0}%) were turned away by the target's rate limiter (rejected_rate) and never reached its quota logic, so the limits were pressed by fewer requests than planned; lower the scenario's concurrency or rate to the target's allowance, or raise the allowance for the test tenant",
                100.0 * limited as f64 / all as f64
            ),
        })
    }

    /// Rules in the order people read them: failures, then unknowns (both need a
    /// look), then passes and skips.
    pub fn rules_by_concern(&self) -> (Vec<&RuleVerdict>, Vec<&RuleVerdict>) {
        let rank = |v: Verdict| match v {
            Verdict::Fail => 0,
            Verdict::Unknown => 1,
            Verdict::Pass => 2,
            Verdict::Skipped => 3,
        };
        let mut all: Vec<&RuleVerdict> = self.rules.iter().collect();
        // Stable: the catalogue's order within one verdict.
        all.sort_by_key(|r| rank(r.verdict));
        all.into_iter()
            .partition(|r| matches!(r.verdict, Verdict::Fail | Verdict::Unknown))
    }

    /// The operations a user's workload sent, by label.
    pub fn user_operations(&self) -> impl Iterator<Item = (&String, &OpStats)> {
        self.operations.iter().filter(|(_, o)| !o.internal)
    }

    /// The coordinator's own operations (snapshots, clock reads, probes, cleanup).
    pub fn internal_operations(&self) -> impl Iterator<Item = (&String, &OpStats)> {
        self.operations.iter().filter(|(_, o)| o.internal)
    }

    /// Completions per second by outcome class over the user operations, classes in
    /// [`Outcome::ALL`] order, only those that occurred: the stacked chart of outcomes
    /// over time.
    pub fn outcomes_over_time(&self) -> Vec<(Outcome, Vec<u64>)> {
        Outcome::ALL
            .iter()
            .filter_map(|o| {
                let mut sum: Vec<u64> = Vec::new();
                for (_, op) in self.user_operations() {
                    let Some(v) = op.outcomes_per_second.get(o.as_str()) else {
                        continue;
                    };
                    if sum.len() < v.len() {
                        sum.resize(v.len(), 0);
                    }
                    for (s, n) in sum.iter_mut().zip(v) {
                        *s += n;
                    }
                }
                sum.iter().any(|n| *n > 0).then_some((*o, sum))
            })
            .collect()
    }

    /// How a quota's readings are drawn: not at all (a limit of 0, or nothing ever
    /// consumed: a flat line says nothing), or scaled to what was used, with the limit
    /// on the chart only when it is within reach of the use.
    pub fn quota_scale(&self, name: &str) -> QuotaScale {
        let pts = self.quotas.get(name).map(Vec::as_slice).unwrap_or_default();
        let used = pts.iter().map(|p| p.consumed).max().unwrap_or(0);
        let limit = pts.iter().map(|p| p.limit).max().unwrap_or(0);
        if limit == 0 {
            QuotaScale::NotDrawn("its limit is 0")
        } else if used == 0 {
            QuotaScale::NotDrawn("nothing was consumed")
        } else if limit > used.saturating_mul(QUOTA_OFF_SCALE) {
            QuotaScale::LimitOffScale { used, limit }
        } else {
            QuotaScale::WithLimit { limit }
        }
    }
}

/// A limit (or threshold) more than this many times the peak use is noted, not drawn:
/// drawn, it would flatten the use into the axis (600,000 against 690); within it, the
/// use keeps at least a tenth of the chart's height.
pub const QUOTA_OFF_SCALE: u64 = 10;

/// How [`Report::quota_scale`] says a quota is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaScale {
    /// Not charted, and why.
    NotDrawn(&'static str),
    /// Scaled to the peak use; the limit is written, not drawn.
    LimitOffScale {
        /// Peak consumed.
        used: u64,
        /// Highest limit read.
        limit: u64,
    },
    /// Scaled to the limit, drawn as a line.
    WithLimit {
        /// Highest limit read.
        limit: u64,
    },
}

impl Report {
    /// (operations without a definite expected answer, operations) over the whole run:
    /// see [`OpStats::errors`].
    pub fn error_counts(&self) -> (u64, u64) {
        self.operations.values().fold((0, 0), |(e, n), o| {
            (e + o.errors(), n + o.count.saturating_sub(o.interrupted))
        })
    }
}

pub use crate::metrics::intervals::TimePoint;
pub use crate::metrics::quota_series::{QuotaPoint, MAX_SERIES_POINTS};

/// The target as the report names it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct TargetInfo {
    /// Base URL.
    pub url: String,
    /// Whether this was the bundled fake.
    pub bundled_fake: bool,
    /// Faults switched on in the bundled fake.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
    /// Profile name.
    pub profile: String,
    /// Tenant.
    pub tenant: String,
    /// The implementation as its vendor names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
    /// Whether the clock could be moved.
    pub clock_control: bool,
    /// Whose time the periods were judged in: the target's (its clock read), or the
    /// wall clock's as an assumption, with why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// What the profile declares the target supports and tolerates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<crate::vocab::Capabilities>,
    /// Whether TLS certificate verification was off (`--insecure`, `target.insecure`):
    /// the target's identity was not checked.
    #[serde(default)]
    pub insecure: bool,
    /// The proxy requests went through, without its credentials, and where it was set
    /// (`http://proxy:3128 (HTTPS_PROXY)`); absent when they went direct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

/// What every report says when certificate verification was off.
pub const INSECURE_NOTE: &str =
    "TLS certificate verification was OFF (--insecure): the target's identity was not checked";

/// One threshold's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ThresholdResult {
    /// As written.
    pub threshold: String,
    /// pass or fail.
    pub verdict: Verdict,
    /// The measured value (µs for latencies, a fraction for rates, ops/s for rps).
    pub value: Option<f64>,
    /// The measured value with its unit, for people (`7.09 ms`, `0.5%`, `1,200/s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<String>,
    /// Where the threshold can be drawn: a bound on one operation's latency or rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<ThresholdLine>,
}

/// A threshold as a line on a chart: one operation's latency (µs) or rate (per second).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ThresholdLine {
    /// The operation label it bounds.
    pub op: String,
    /// What it bounds.
    pub on: LineOn,
    /// The bound, µs for latency, operations per second for rate.
    pub bound: f64,
}

/// What a [`ThresholdLine`] bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LineOn {
    /// Latency (a percentile, the max or the mean), µs.
    Latency,
    /// Completions per second.
    Rate,
}

impl ThresholdResult {
    /// The measurement for people: with its unit when known, else the bare value (a
    /// summary from before units were recorded), else "no data".
    pub fn shown(&self) -> String {
        match (&self.measured, self.value) {
            (Some(m), _) => m.clone(),
            (None, Some(v)) => format!("{v}"),
            (None, None) => "no data".into(),
        }
    }
}

/// Latency percentiles in µs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 90th.
    pub p90: u64,
    /// 95th (absent in summaries written before it was added: read as 0).
    #[serde(default)]
    pub p95: u64,
    /// 99th.
    pub p99: u64,
    /// 99.9th.
    pub p999: u64,
    /// Maximum.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// Statistics of one operation label.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct OpStats {
    /// Operations completed.
    pub count: u64,
    /// Completions per second over the run.
    pub per_second: f64,
    /// Latency from the intended start (coordinated-omission corrected), µs.
    pub latency_us: Percentiles,
    /// Raw service time (send to completion), µs.
    pub service_time_us: Percentiles,
    /// Count per outcome class.
    pub outcomes: BTreeMap<String, u64>,
    /// Completions per second, by second since the run started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throughput: Vec<u64>,
    /// The latency distribution: (percentile, µs) pairs at HdrHistogram's log steps,
    /// for plots with a 1/(1−p) axis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spectrum: Vec<(f64, u64)>,
    /// The service-time distribution, same steps as `spectrum`, so plots can show
    /// what coordinated omission hides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_spectrum: Vec<(f64, u64)>,
    /// Latency per second of the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over_time: Vec<TimePoint>,
    /// Operations cut by the run's interrupt (counted as `indeterminate` in `outcomes`,
    /// but neither errors nor evidence).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interrupted: u64,
    /// The coordinator's own operation (a quiescent snapshot, a clock read, a probe,
    /// cleanup), not the workload's: reported apart, never charted with the workload.
    #[serde(default, skip_serializing_if = "is_false")]
    pub internal: bool,
    /// Completions per second by outcome class (only classes that occurred), by second
    /// since the run started: the errors and outcomes over time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outcomes_per_second: BTreeMap<String, Vec<u64>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl OpStats {
    fn outcome(&self, o: Outcome) -> u64 {
        self.outcomes.get(o.as_str()).copied().unwrap_or(0)
    }

    /// Operations without a definite expected answer: `error` + `indeterminate` +
    /// `not_sent`, less those cut by an interrupt. Rate-limited answers (`rejected_rate`)
    /// are a definite answer and shown apart ([`OpStats::rate_limited`]), not counted.
    pub fn errors(&self) -> u64 {
        (self.outcome(Outcome::Error)
            + self.outcome(Outcome::Indeterminate)
            + self.outcome(Outcome::NotSent))
        .saturating_sub(self.interrupted)
    }

    /// Rate-limited answers.
    pub fn rate_limited(&self) -> u64 {
        self.outcome(Outcome::RejectedRate)
    }

    /// Whether latency and service time read the same in every percentile at the
    /// 10 µs the formats print (a closed model has no gap between intended start and
    /// send): the formats then show one row, not two identical ones.
    pub fn views_identical(&self) -> bool {
        let (a, b) = (&self.latency_us, &self.service_time_us);
        // As the formats round: to the nearest 10 µs.
        let r = |v: u64| (v + 5) / 10;
        [
            (a.p50, b.p50),
            (a.p90, b.p90),
            (a.p95, b.p95),
            (a.p99, b.p99),
            (a.p999, b.p999),
            (a.max, b.max),
        ]
        .iter()
        .all(|&(x, y)| r(x) == r(y))
    }

    /// `errors() / (count − interrupted)`.
    pub fn error_rate(&self) -> f64 {
        self.errors() as f64 / self.count.saturating_sub(self.interrupted).max(1) as f64
    }
}

fn percentiles(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p95: h.value_at_quantile(0.95),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        mean: (h.mean() * 10.0).round() / 10.0,
    }
}

fn spectrum(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, u64)> {
    let mut out: Vec<(f64, u64)> = h
        .iter_quantiles(2)
        .map(|v| {
            (
                (v.quantile_iterated_to() * 1e6).round() / 1e4,
                v.value_iterated_to(),
            )
        })
        .collect();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Whether a label is the coordinator's: the quiescent snapshot, cleanup, a probe
/// (`probe.*`, scenario::ProbeKind::label) or an operation the header declares as a
/// clock read or move.
pub fn is_internal(label: &str, header: &Header) -> bool {
    label == crate::vocab::SNAPSHOT
        || label == crate::vocab::CLEANUP
        || label.starts_with("probe.")
        || header
            .operations
            .get(label)
            .is_some_and(|d| matches!(d.kind, OpKind::Clock | OpKind::AdvanceClock))
}

/// Builds per-label statistics from the recorder and the per-second summaries; the
/// header names which labels are the coordinator's ([`is_internal`]).
pub fn op_stats(
    rec: &Recorder,
    over_time: &BTreeMap<String, Vec<TimePoint>>,
    seconds: f64,
    header: &Header,
) -> BTreeMap<String, OpStats> {
    rec.labels()
        .iter()
        .enumerate()
        .filter_map(|(i, label)| {
            let lat = rec.merged(i, View::Latency);
            if lat.is_empty() {
                return None;
            }
            let service = rec.merged(i, View::Service);
            let counts = rec.counts(i);
            let outcomes = Outcome::ALL
                .iter()
                .map(|o| (o.as_str().to_string(), counts.get(o).copied().unwrap_or(0)))
                .collect();
            Some((
                label.clone(),
                OpStats {
                    count: lat.len(),
                    per_second: if seconds > 0.0 {
                        (lat.len() as f64 / seconds * 10.0).round() / 10.0
                    } else {
                        0.0
                    },
                    latency_us: percentiles(&lat),
                    service_time_us: percentiles(&service),
                    outcomes,
                    throughput: rec.throughput(i),
                    spectrum: spectrum(&lat),
                    service_spectrum: spectrum(&service),
                    over_time: over_time.get(label).cloned().unwrap_or_default(),
                    interrupted: 0,
                    internal: is_internal(label, header),
                    outcomes_per_second: rec
                        .outcomes_per_second(i)
                        .into_iter()
                        .map(|(o, v)| (o.as_str().to_string(), v))
                        .collect(),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod rate_notice_tests {
    use crate::report::example::example;
    use crate::vocab::Outcome;

    #[test]
    fn a_workload_mostly_turned_away_by_a_rate_limiter_is_a_notice() {
        let mut r = example();
        assert_eq!(r.rate_limited(), None, "the example was not rate limited");
        let (label, o) = r
            .user_operations()
            .next()
            .map(|(l, o)| (l.clone(), o.count))
            .unwrap();
        let all: u64 = r.user_operations().map(|(_, o)| o.count).sum();
        let op = r.operations.get_mut(&label).unwrap();
        // A quarter of the workload, all on one label: the notice, with the figures.
        let quarter = all.div_ceil(4).min(o);
        op.outcomes
            .insert(Outcome::RejectedRate.as_str().into(), quarter);
        let b = r.rate_limited().expect("a notice");
        assert!(
            b.text.starts_with(&format!(
                "Rate-limited: {quarter} of {all} workload operations"
            )),
            "{}",
            b.text
        );
        // One fewer, and it is an occasional 429.
        r.operations
            .get_mut(&label)
            .unwrap()
            .outcomes
            .insert(Outcome::RejectedRate.as_str().into(), quarter - 1);
        assert_eq!(r.rate_limited(), None);
    }
}
