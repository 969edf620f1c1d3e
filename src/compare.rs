//! `quotabench compare RUN-A RUN-B`: two runs' summary.json side by side, ratios B/A
//! per operation, and an optional regression gate for CI.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{exit, Error};
use crate::report::{Percentiles, SCHEMA_VERSION};

/// The part of summary.json compare reads; unknown fields are ignored, so runs written
/// by later versions with added fields still compare.
#[derive(Debug, Deserialize)]
struct Summary {
    scenario: String,
    operations: BTreeMap<String, Op>,
}

#[derive(Debug, Deserialize)]
struct Op {
    count: u64,
    per_second: f64,
    latency_us: Percentiles,
}

/// A run folder or a summary.json path → the summary.json path.
fn summary_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("summary.json")
    } else {
        p.to_path_buf()
    }
}

fn load(p: &Path) -> Result<Summary, Error> {
    let path = summary_path(p);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "{}: cannot read ({e}); pass a run folder holding summary.json or the file itself",
            path.display()
        ))
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not JSON: {e}", path.display())))?;
    match v.get("schema_version").and_then(|s| s.as_u64()) {
        Some(n) if n == u64::from(SCHEMA_VERSION) => {}
        found => {
            return Err(Error::Usage(format!(
                "{}: schema_version {} is not supported; this quotabench reads {SCHEMA_VERSION}",
                path.display(),
                found.map_or("missing".into(), |n| n.to_string())
            )))
        }
    }
    serde_json::from_value(v)
        .map_err(|e| Error::Usage(format!("{}: not a quotabench summary: {e}", path.display())))
}

/// Parses a bound like `10%` or `0.1` into a fraction (0.1).
pub fn parse_bound(s: &str) -> Result<f64, Error> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(f) if f >= 0.0 && f.is_finite() => Ok(f),
        _ => Err(Error::Usage(format!(
            "--max-regression: expected a percentage like 10% or a fraction like 0.1, found {s:?}"
        ))),
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (a > 0.0).then(|| b / a)
}

fn cell(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

/// Compares run B against run A. `a` and `b` are run folders or summary.json paths;
/// `max_regression` is a fraction (0.1 = 10 %, see [`parse_bound`]).
///
/// Returns the table and the exit code: 0, or 1 when B regresses past the bound
/// (latency p50/p90/p99 up by more than it, or throughput down by more). A missing or
/// unreadable file, or an unsupported schema_version, is an `Err` whose
/// [`Error::exit_code`] is 2.
pub fn compare(a: &Path, b: &Path, max_regression: Option<f64>) -> Result<(String, i32), Error> {
    let (ra, rb) = (load(a)?, load(b)?);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "A: {} ({})\nB: {} ({})\n",
        summary_path(a).display(),
        ra.scenario,
        summary_path(b).display(),
        rb.scenario
    );
    let _ = writeln!(
        s,
        "{:<16} {:<7} {:>12} {:>12} {:>8}",
        "operation", "metric", "A", "B", "B/A"
    );
    let mut regressions = Vec::new();
    let ops: std::collections::BTreeSet<&String> =
        ra.operations.keys().chain(rb.operations.keys()).collect();
    for op in ops {
        let (Some(x), Some(y)) = (ra.operations.get(op), rb.operations.get(op)) else {
            let side = if ra.operations.contains_key(op) {
                "A"
            } else {
                "B"
            };
            let _ = writeln!(s, "{op:<16} only in {side}; not compared");
            continue;
        };
        let rows: [(&str, f64, f64, bool); 7] = [
            (
                "p50",
                x.latency_us.p50 as f64,
                y.latency_us.p50 as f64,
                true,
            ),
            (
                "p90",
                x.latency_us.p90 as f64,
                y.latency_us.p90 as f64,
                true,
            ),
            (
                "p99",
                x.latency_us.p99 as f64,
                y.latency_us.p99 as f64,
                true,
            ),
            (
                "p99.9",
                x.latency_us.p999 as f64,
                y.latency_us.p999 as f64,
                false,
            ),
            (
                "max",
                x.latency_us.max as f64,
                y.latency_us.max as f64,
                false,
            ),
            ("ops/s", x.per_second, y.per_second, true),
            ("count", x.count as f64, y.count as f64, false),
        ];
        for (metric, va, vb, gated) in rows {
            let r = ratio(va, vb);
            let shown = |v: f64| match metric {
                "ops/s" => format!("{v:.1}"),
                "count" => format!("{v:.0}"),
                _ => format!("{:.2}ms", v / 1000.0),
            };
            let mut flag = "";
            if let (Some(bound), Some(r), true) = (max_regression, r, gated) {
                let regressed = if metric == "ops/s" {
                    r < 1.0 - bound
                } else {
                    r > 1.0 + bound
                };
                if regressed {
                    flag = "  REGRESSION";
                    regressions.push(format!("{op} {metric} {}", cell(Some(r))));
                }
            }
            let _ = writeln!(
                s,
                "{op:<16} {metric:<7} {:>12} {:>12} {:>8}{flag}",
                shown(va),
                shown(vb),
                cell(r)
            );
        }
    }
    let code = match max_regression {
        Some(bound) if !regressions.is_empty() => {
            let _ = writeln!(
                s,
                "\nB regresses past {:.1}%: {}",
                bound * 100.0,
                regressions.join(", ")
            );
            exit::FAIL
        }
        Some(bound) => {
            let _ = writeln!(s, "\nno regression past {:.1}%", bound * 100.0);
            exit::PASS
        }
        None => exit::PASS,
    };
    Ok((s, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(dir: &Path, name: &str, version: u32, p99: u64, rps: f64) -> PathBuf {
        let run = dir.join(name);
        std::fs::create_dir_all(&run).unwrap();
        let v = serde_json::json!({
            "schema_version": version,
            "scenario": "s",
            "verdict": "pass",
            "a_field_added_later": true,
            "operations": {
                "consume": {
                    "count": 1000, "per_second": rps,
                    "latency_us": {"p50": 1000, "p90": 2000, "p99": p99, "p999": 9000, "max": 20000, "mean": 1100.0},
                    "outcomes": {"accepted": 1000}
                },
                "list": {
                    "count": 10, "per_second": 1.0,
                    "latency_us": {"p50": 100, "p90": 100, "p99": 100, "p999": 100, "max": 100, "mean": 100.0},
                    "outcomes": {"accepted": 10}
                }
            }
        });
        std::fs::write(run.join("summary.json"), v.to_string()).unwrap();
        run
    }

    #[test]
    fn side_by_side_with_ratios() {
        let d = tempfile::tempdir().unwrap();
        let a = summary(d.path(), "a", 1, 4000, 100.0);
        let b = summary(d.path(), "b", 1, 5000, 100.0);
        let (table, code) = compare(&a, &b.join("summary.json"), None).unwrap();
        assert_eq!(code, 0, "no bound, no gate");
        let row = table
            .lines()
            .find(|l| l.starts_with("consume          p99"))
            .unwrap();
        assert!(
            row.contains("4.00ms") && row.contains("5.00ms") && row.ends_with("1.25x"),
            "{row}"
        );
    }

    #[test]
    fn gates_latency_up_and_throughput_down() {
        let d = tempfile::tempdir().unwrap();
        let a = summary(d.path(), "a", 1, 4000, 100.0);
        let slower = summary(d.path(), "slower", 1, 4500, 100.0);
        assert_eq!(compare(&a, &slower, Some(0.10)).unwrap().1, 1, "p99 +12.5%");
        assert_eq!(compare(&a, &slower, Some(0.15)).unwrap().1, 0, "within 15%");
        let fewer = summary(d.path(), "fewer", 1, 4000, 85.0);
        let (table, code) = compare(&a, &fewer, Some(0.10)).unwrap();
        assert_eq!(code, 1, "{table}");
        assert!(table.contains("consume ops/s 0.85x"));
        assert_eq!(compare(&a, &a, Some(0.0)).unwrap().1, 0);
    }

    #[test]
    fn missing_file_and_unknown_schema_are_usage_errors() {
        let d = tempfile::tempdir().unwrap();
        let a = summary(d.path(), "a", 1, 4000, 100.0);
        let e = compare(&a, &d.path().join("nope"), None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("nope/summary.json") || e.to_string().contains("nope"));
        let future = summary(d.path(), "future", 2, 4000, 100.0);
        let e = compare(&a, &future, None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("schema_version 2 is not supported"),
            "{e}"
        );
    }

    #[test]
    fn bounds_parse_as_percent_or_fraction() {
        assert_eq!(parse_bound("10%").unwrap(), 0.1);
        assert_eq!(parse_bound("0.25").unwrap(), 0.25);
        assert!(parse_bound("-5%").is_err() && parse_bound("ten").is_err());
    }
}
