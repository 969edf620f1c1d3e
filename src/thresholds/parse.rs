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

const METRICS: &str = "expected a percentile pNN or pNN.N (p50, p95, p99.9; p999 is p99.9), max, mean, rps, error_rate or achieved_rate";

/// The percentile a `pNN` name asks for: `95` → 95, `99.9` → 99.9, and the
/// HdrHistogram/wrk spelling without a dot, `999` → 99.9, `9999` → 99.99. Strictly
/// between 0 and 100 (`max` is the 100th).
fn percentile(digits: &str) -> Option<f64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let p: f64 = if !digits.contains('.') && digits.len() > 2 && digits.starts_with("99") {
        format!("99.{}", &digits[2..]).parse().ok()?
    } else {
        digits.parse().ok()?
    };
    (p > 0.0 && p < 100.0).then_some(p)
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
            p if p.starts_with('p') && p.len() > 1 => {
                let pct = percentile(&p[1..])
                    .ok_or_else(|| format!("unknown metric {name:?}; {METRICS}"))?;
                Metric::Percentile {
                    p: pct,
                    op: need_op(arg)?,
                }
            }
            _ => return Err(format!("unknown metric {name:?}; {METRICS}")),
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

    /// A measured value in the metric's unit, for people: `7.09 ms`, `0.5%`, `1,200/s`.
    pub fn show(&self, value: f64) -> String {
        match self.metric {
            Metric::Percentile { .. } | Metric::Max(_) | Metric::Mean(_) => latency(value),
            Metric::ErrorRate(_) | Metric::AchievedRate => percent(value),
            Metric::Rps(_) => format!("{}/s", grouped(value)),
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

/// µs as the largest unit that keeps three significant digits.
fn latency(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// A fraction as a percentage, with enough decimals that a small non-zero rate never
/// reads as 0%.
fn percent(f: f64) -> String {
    let p = f * 100.0;
    if p == 0.0 || p >= 1.0 {
        format!("{p:.1}%")
    } else if p >= 0.01 {
        format!("{p:.2}%")
    } else {
        format!("{p:.4}%")
    }
}

/// A rate with thousands separators and one decimal below 100.
fn grouped(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    let n = v.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    fn measurements_are_shown_with_their_unit() {
        let t = |s: &str| Threshold::parse(s).unwrap();
        assert_eq!(t("p99(list) < 50ms").show(7087.0), "7.09 ms");
        assert_eq!(t("max(list) < 50ms").show(850.0), "850 µs");
        assert_eq!(t("mean(list) < 5s").show(1_250_000.0), "1.25 s");
        assert_eq!(t("error_rate < 1%").show(0.0), "0.0%");
        assert_eq!(t("error_rate < 1%").show(0.0001), "0.01%");
        assert_eq!(t("error_rate < 1%").show(0.000001), "0.0001%");
        assert_eq!(t("achieved_rate >= 95%").show(1.0), "100.0%");
        assert_eq!(t("rps(list) > 10").show(123456.7), "123,457/s");
        assert_eq!(t("rps(list) > 10").show(12.34), "12.3/s");
    }

    #[test]
    fn any_percentile_parses() {
        let p = |t: &str| match Threshold::parse(t).unwrap().metric {
            Metric::Percentile { p, .. } => p,
            m => panic!("{m:?}"),
        };
        assert_eq!(p("p95(list) < 5ms"), 95.0);
        assert_eq!(p("p42(list) < 5ms"), 42.0);
        assert_eq!(p("p99.9(list) < 5ms"), 99.9);
        assert_eq!(p("p999(list) < 5ms"), 99.9);
        assert_eq!(p("p9999(list) < 5ms"), 99.99);
        assert_eq!(p("p97.5(list) < 1m30s"), 97.5);
        assert_eq!(Threshold::parse("p95(list) < 1m30s").unwrap().bound, 90e6);
    }

    #[test]
    fn unknown_metrics_and_units_are_errors() {
        for bad in ["p100", "p0", "p", "p9x", "p99.9.9", "p-5"] {
            assert!(
                Threshold::parse(&format!("{bad}(consume) < 5ms"))
                    .unwrap_err()
                    .contains("unknown metric"),
                "{bad}"
            );
        }
        assert!(Threshold::parse("latency < 5ms").is_err());
        assert!(Threshold::parse("p99(consume) < 5").is_err());
        assert!(Threshold::parse("p99() < 5ms").is_err());
        assert!(Threshold::parse("fast").is_err());
    }
}
