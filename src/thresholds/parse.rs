//! SLO thresholds like `p99(consume) < 50ms`, `error_rate < 1%`, `achieved_rate >= 95%`.

/// What a threshold measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// A latency percentile of an operation label (µs).
    Percentile {
        /// The percentile, 0–100 (`99` for p99).
        p: f64,
        /// The operation label.
        op: String,
    },
    /// Maximum latency (µs).
    Max(String),
    /// Mean latency (µs).
    Mean(String),
    /// Share of operations ending in error or indeterminate (0..1), overall or per label.
    ErrorRate(Option<String>),
    /// Delivered share of the asked arrival rate (0..1), open-model phases.
    AchievedRate,
    /// Operations per second of a label.
    Rps(String),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    /// <
    Lt,
    /// <=
    Le,
    /// >
    Gt,
    /// >=
    Ge,
}

/// A parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// The metric.
    pub metric: Metric,
    /// The comparison.
    pub cmp: Cmp,
    /// The bound, in the metric's unit (µs, fraction, per second).
    pub bound: f64,
}

const EXPECTED: &str = "expected METRIC OP VALUE like `p99(consume) < 50ms`, `max(list) <= 1s`, `error_rate < 1%`, `achieved_rate >= 95%` or `rps(list) > 1000`";

impl Threshold {
    /// Parses one threshold.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        let (lhs, cmp, rhs) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| t.split_once(op).map(|(l, r)| (l.trim(), *op, r.trim())))
            .ok_or_else(|| format!("{EXPECTED}, found {t:?}"))?;
        let cmp = match cmp {
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            ">" => Cmp::Gt,
            _ => Cmp::Ge,
        };
        let (name, arg) = match lhs.split_once('(') {
            Some((n, rest)) => {
                let a = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("{EXPECTED}, found {t:?}"))?
                    .trim();
                (n.trim(), Some(a.to_string()))
            }
            None => (lhs, None),
        };
        let need_op = |a: Option<String>| {
            a.filter(|s| !s.is_empty()).ok_or_else(|| {
                format!("`{name}` needs an operation, like {name}(consume); found {t:?}")
            })
        };
        let metric = match name {
            "max" => Metric::Max(need_op(arg)?),
            "mean" => Metric::Mean(need_op(arg)?),
            "rps" => Metric::Rps(need_op(arg)?),
            "error_rate" => Metric::ErrorRate(arg.filter(|s| !s.is_empty())),
            "achieved_rate" => Metric::AchievedRate,
            p if p.starts_with('p') => {
                let digits = &p[1..];
                let pct: f64 = match digits {
                    "50" | "90" | "99" => digits.parse().unwrap_or(0.0),
                    "999" => 99.9,
                    _ => return Err(format!("unknown metric {name:?}; expected p50, p90, p99, p999, max, mean, rps, error_rate or achieved_rate")),
                };
                Metric::Percentile { p: pct, op: need_op(arg)? }
            }
            _ => return Err(format!("unknown metric {name:?}; expected p50, p90, p99, p999, max, mean, rps, error_rate or achieved_rate")),
        };
        let bound = match &metric {
            Metric::Percentile { .. } | Metric::Max(_) | Metric::Mean(_) => {
                crate::vocab::units::parse_duration(rhs)
                    .map(|d| d.as_secs_f64() * 1e6)
                    .ok_or_else(|| {
                        format!("expected a duration like 50ms after the comparison, found {rhs:?}")
                    })?
            }
            Metric::ErrorRate(_) | Metric::AchievedRate => rhs
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<f64>().ok())
                .map(|p| p / 100.0)
                .ok_or_else(|| {
                    format!("expected a percentage like 1% after the comparison, found {rhs:?}")
                })?,
            Metric::Rps(_) => rhs.trim_end_matches("/s").parse::<f64>().map_err(|_| {
                format!("expected a number of operations per second, found {rhs:?}")
            })?,
        };
        Ok(Threshold {
            text: t.to_string(),
            metric,
            cmp,
            bound,
        })
    }

    /// The operation label it names, if any.
    pub fn op(&self) -> Option<&str> {
        match &self.metric {
            Metric::Percentile { op, .. }
            | Metric::Max(op)
            | Metric::Mean(op)
            | Metric::Rps(op) => Some(op),
            Metric::ErrorRate(op) => op.as_deref(),
            Metric::AchievedRate => None,
        }
    }

    /// Whether `value` satisfies the threshold.
    pub fn holds(&self, value: f64) -> bool {
        match self.cmp {
            Cmp::Lt => value < self.bound,
            Cmp::Le => value <= self.bound,
            Cmp::Gt => value > self.bound,
            Cmp::Ge => value >= self.bound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_latency_rate_and_percent_thresholds() {
        let t = Threshold::parse("p99(consume) < 50ms").unwrap();
        assert_eq!(
            t.metric,
            Metric::Percentile {
                p: 99.0,
                op: "consume".into()
            }
        );
        assert_eq!(t.bound, 50_000.0);
        assert!(t.holds(49_999.0) && !t.holds(50_000.0));
        let t = Threshold::parse("error_rate < 1%").unwrap();
        assert!((t.bound - 0.01).abs() < 1e-12);
        let t = Threshold::parse("achieved_rate >= 95%").unwrap();
        assert_eq!(t.cmp, Cmp::Ge);
        assert_eq!(Threshold::parse("p999(list) <= 1s").unwrap().bound, 1e6);
    }

    #[test]
    fn unknown_metrics_and_units_are_errors() {
        assert!(Threshold::parse("p42(consume) < 5ms")
            .unwrap_err()
            .contains("unknown metric"));
        assert!(Threshold::parse("latency < 5ms").is_err());
        assert!(Threshold::parse("p99(consume) < 5").is_err());
        assert!(Threshold::parse("p99() < 5ms").is_err());
        assert!(Threshold::parse("fast").is_err());
    }
}
