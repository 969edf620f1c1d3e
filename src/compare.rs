//! `quotabench compare RUN-A RUN-B`: percentiles and throughput side by side, with the
//! ratio B/A, and a regression gate for CI.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::error::{exit, Error};
use crate::report::{OpStats, Report, SCHEMA_VERSION};

/// The summary.json a path stands for: the file itself, a run folder's summary, or, for
/// an `--out` folder holding several run folders, the newest run's (by `started_at`).
pub fn summary_path(p: &Path) -> Result<PathBuf, Error> {
    if !p.is_dir() {
        return Ok(p.to_path_buf());
    }
    let own = p.join("summary.json");
    if own.exists() {
        return Ok(own);
    }
    let mut newest: Option<(String, PathBuf)> = None;
    let entries = std::fs::read_dir(p).map_err(|e| Error::io(p, e))?;
    for e in entries.flatten() {
        let f = e.path().join("summary.json");
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let started = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("started_at")?.as_str().map(str::to_string));
        if let Some(at) = started {
            if newest.as_ref().is_none_or(|(n, _)| at > *n) {
                newest = Some((at, f));
            }
        }
    }
    newest.map(|(_, f)| f).ok_or_else(|| {
        Error::Usage(format!(
            "{}: holds no summary.json, nor run folders that do",
            p.display()
        ))
    })
}

/// Reads a run's summary.json (given the file, the run folder, or an `--out` folder of
/// runs: its newest).
pub fn load_summary(p: &Path) -> Result<Report, Error> {
    let file = summary_path(p)?;
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a summary.json: {e}", file.display())))?;
    match v.get("schema_version").and_then(|x| x.as_u64()) {
        Some(n) if n == SCHEMA_VERSION as u64 => {}
        other => {
            return Err(Error::Usage(format!(
                "{}: schema_version {} is not supported; expected {SCHEMA_VERSION}",
                file.display(),
                other.map_or("missing".into(), |n| n.to_string())
            )))
        }
    }
    serde_json::from_value(v).map_err(|e| Error::Usage(format!("{}: {e}", file.display())))
}

/// One figure compared.
struct Row {
    what: &'static str,
    a: f64,
    b: f64,
    /// Larger is worse (latency) or better (throughput).
    larger_is_worse: bool,
}

fn rows(a: &OpStats, b: &OpStats) -> Vec<Row> {
    let (la, lb) = (&a.latency_us, &b.latency_us);
    let lat = |what, x: u64, y: u64| Row {
        what,
        a: x as f64,
        b: y as f64,
        larger_is_worse: true,
    };
    vec![
        lat("p50", la.p50, lb.p50),
        lat("p90", la.p90, lb.p90),
        lat("p95", la.p95, lb.p95),
        lat("p99", la.p99, lb.p99),
        lat("p99.9", la.p999, lb.p999),
        lat("max", la.max, lb.max),
        Row {
            what: "ops/s",
            a: a.per_second,
            b: b.per_second,
            larger_is_worse: false,
        },
    ]
}

/// Whether a row regresses past `bound` (a fraction): p50/p90/p95/p99 up, or throughput
/// down, by more than the bound. The tail (p99.9, max) is shown but not gated: a single
/// slow request decides it.
fn regresses(r: &Row, bound: f64) -> bool {
    if r.a <= 0.0 {
        return false;
    }
    let ratio = r.b / r.a;
    match (r.what, r.larger_is_worse) {
        ("p50" | "p90" | "p95" | "p99", true) => ratio > 1.0 + bound,
        (_, false) => ratio < 1.0 - bound,
        _ => false,
    }
}

/// Fewest operations, in each run, for an operation's figures to be gated by default:
/// a p99 of fewer than 100 samples is its maximum, and one slow request decides it.
pub const DEFAULT_MIN_COUNT: u64 = 100;

/// Default bound on B's rise in error rate, in percentage points as a fraction (1 pp).
pub const DEFAULT_MAX_ERROR_INCREASE: f64 = 0.01;

/// B ran "far fewer" operations than A below this share of A's count: its figures do not
/// stand for the same work (a run cut short, a dead target), and the comparison fails.
pub const MIN_COUNT_SHARE: f64 = 0.5;

/// What `compare` gates on besides latency and throughput.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    /// Bound on B's error rate minus A's (a fraction: 0.01 = 1 percentage point).
    pub max_error_increase: f64,
    /// Compare runs of different scenarios anyway.
    pub allow_different: bool,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            max_error_increase: DEFAULT_MAX_ERROR_INCREASE,
            allow_different: false,
        }
    }
}

/// Compares two runs with the default [`Gate`].
pub fn compare(
    a: &Path,
    b: &Path,
    max_regression: Option<f64>,
    min_count: u64,
) -> Result<(String, i32), Error> {
    compare_with(a, b, max_regression, min_count, Gate::default())
}

/// Compares two runs; returns the table and the exit code (1 when B regresses past
/// `max_regression`, a fraction like 0.10, when B's error rate rose by more than
/// `gate.max_error_increase`, or when B ran fewer than [`MIN_COUNT_SHARE`] of A's
/// operations). Operations that ran fewer than `min_count` times in either run are shown
/// but never gated. Runs of different scenarios are refused (a usage error) unless
/// `gate.allow_different`.
pub fn compare_with(
    a: &Path,
    b: &Path,
    max_regression: Option<f64>,
    min_count: u64,
    gate: Gate,
) -> Result<(String, i32), Error> {
    let (ra, rb) = (load_summary(a)?, load_summary(b)?);
    if ra.scenario != rb.scenario && !gate.allow_different {
        return Err(Error::Usage(format!(
            "A ran scenario {:?} and B ran {:?}: their figures are not comparable (pass --allow-different to compare them anyway)",
            ra.scenario, rb.scenario
        )));
    }
    let mut s = String::new();
    let _ = writeln!(s, "A: {} ({}, {})", a.display(), ra.scenario, ra.started_at);
    let _ = writeln!(s, "B: {} ({}, {})", b.display(), rb.scenario, rb.started_at);
    let _ = writeln!(
        s,
        "\n  {:<20} {:<6} {:>12} {:>12} {:>8}",
        "operation", "", "A", "B", "B/A"
    );
    let ops: BTreeSet<&String> = ra.operations.keys().chain(rb.operations.keys()).collect();
    let mut regressions = Vec::new();
    for op in ops {
        let (Some(oa), Some(ob)) = (ra.operations.get(op), rb.operations.get(op)) else {
            let _ = writeln!(
                s,
                "  {op:<20} only in {}",
                if ra.operations.contains_key(op) {
                    "A"
                } else {
                    "B"
                }
            );
            continue;
        };
        let gated = oa.count >= min_count && ob.count >= min_count;
        if !gated && max_regression.is_some() {
            let _ = writeln!(
                s,
                "  {op:<20} ran {} / {} times (< {min_count}): shown, not gated",
                oa.count, ob.count
            );
        }
        for r in rows(oa, ob) {
            let unit = |x: f64| {
                if r.larger_is_worse {
                    format!("{:.2}ms", x / 1000.0)
                } else {
                    format!("{x:.1}")
                }
            };
            let ratio = if r.a > 0.0 {
                format!("{:.2}x", r.b / r.a)
            } else {
                "-".into()
            };
            let flag = match max_regression {
                Some(bound) if gated && regresses(&r, bound) => {
                    regressions.push(format!(
                        "{op} {} {} -> {} ({ratio})",
                        r.what,
                        unit(r.a),
                        unit(r.b)
                    ));
                    "  REGRESSION"
                }
                _ => "",
            };
            let _ = writeln!(
                s,
                "  {op:<20} {:<6} {:>12} {:>12} {:>8}{flag}",
                r.what,
                unit(r.a),
                unit(r.b),
                ratio
            );
        }
    }
    let ((ea, na), (eb, nb)) = (ra.error_counts(), rb.error_counts());
    let rate = |e: u64, n: u64| if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let (xa, xb) = (rate(ea, na), rate(eb, nb));
    let _ = writeln!(
        s,
        "\n  {:<27} {:>11.2}% {:>11.2}%   ({ea} of {na} / {eb} of {nb} operations without a definite expected answer)",
        "error rate",
        xa * 100.0,
        xb * 100.0
    );
    let mut failures = Vec::new();
    if xb - xa > gate.max_error_increase + 1e-12 {
        failures.push(format!(
            "the error rate rose from {:.2}% to {:.2}% (+{:.2} points > {:.2})",
            xa * 100.0,
            xb * 100.0,
            (xb - xa) * 100.0,
            gate.max_error_increase * 100.0
        ));
    }
    if (nb as f64) < MIN_COUNT_SHARE * na as f64 {
        failures.push(format!(
            "B ran {nb} operations, fewer than {:.0}% of A's {na}: its figures do not stand for the same work",
            MIN_COUNT_SHARE * 100.0
        ));
    }
    if !failures.is_empty() {
        let _ = writeln!(s, "\nB fails: {}", failures.join("; "));
    }
    let code = match max_regression {
        _ if !failures.is_empty() => {
            if !regressions.is_empty() {
                let _ = writeln!(s, "B also regresses: {}", regressions.join("; "));
            }
            exit::FAIL
        }
        Some(bound) if !regressions.is_empty() => {
            let _ = writeln!(
                s,
                "\nB regresses past {:.0}%: {}",
                bound * 100.0,
                regressions.join("; ")
            );
            exit::FAIL
        }
        Some(bound) => {
            let _ = writeln!(s, "\nno regression past {:.0}%", bound * 100.0);
            exit::PASS
        }
        None => exit::PASS,
    };
    Ok((s, code))
}

/// Parses `10%` into a fraction. A bare number is refused: `0.1` and `10` would both be
/// plausible readings of it.
pub fn parse_bound(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let Some(p) = t.strip_suffix('%') else {
        return Err(format!(
            "{text:?} needs a unit: write a percentage like 10%"
        ));
    };
    p.trim()
        .parse::<f64>()
        .ok()
        .map(|x| x / 100.0)
        .filter(|x| x.is_finite() && *x >= 0.0)
        .ok_or_else(|| format!("expected a percentage like 10%, found {text:?}"))
}

/// Parses a bound in percentage points, `1%` or `1pp`, into a fraction.
pub fn parse_points(text: &str) -> Result<f64, String> {
    let t = text.trim();
    match t.strip_suffix("pp") {
        Some(p) => parse_bound(&format!("{p}%")),
        None => parse_bound(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, p99: u64, rps: f64) -> PathBuf {
        write_n(dir, name, p99, rps, 1_000)
    }

    fn write_n(dir: &Path, name: &str, p99: u64, rps: f64, count: u64) -> PathBuf {
        let mut r = crate::report::example::example();
        for o in r.operations.values_mut() {
            o.latency_us.p99 = p99;
            o.per_second = rps;
            o.count = count;
        }
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("summary.json"), serde_json::to_vec(&r).unwrap()).unwrap();
        d
    }

    #[test]
    fn a_p99_regression_past_the_bound_fails_and_within_it_passes() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", 10_000, 100.0);
        let b = write(dir.path(), "b", 12_000, 100.0);
        let (table, code) = compare(&a, &b, Some(0.10), DEFAULT_MIN_COUNT).unwrap();
        assert_eq!(code, exit::FAIL, "{table}");
        assert!(
            table.contains("REGRESSION") && table.contains("1.20x"),
            "{table}"
        );
        let (_, code) = compare(&a, &b, Some(0.25), DEFAULT_MIN_COUNT).unwrap();
        assert_eq!(code, exit::PASS);
        let (_, code) = compare(&a, &b, None, DEFAULT_MIN_COUNT).unwrap();
        assert_eq!(code, exit::PASS, "without a bound it only reports");
    }

    #[test]
    fn a_throughput_drop_is_a_regression() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", 10_000, 1000.0);
        let b = write(dir.path(), "b", 10_000, 800.0);
        assert_eq!(
            compare(&a, &b, Some(0.10), DEFAULT_MIN_COUNT).unwrap().1,
            exit::FAIL
        );
        assert_eq!(
            compare(&b, &a, Some(0.10), DEFAULT_MIN_COUNT).unwrap().1,
            exit::PASS,
            "faster is no regression"
        );
    }

    #[test]
    fn rare_operations_are_shown_but_not_gated() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_n(dir.path(), "a", 10_000, 100.0, 40);
        let b = write_n(dir.path(), "b", 50_000, 100.0, 40);
        let (table, code) = compare(&a, &b, Some(0.10), DEFAULT_MIN_COUNT).unwrap();
        assert_eq!(code, exit::PASS, "{table}");
        assert!(
            table.contains("shown, not gated") && table.contains("5.00x"),
            "{table}"
        );
        // The same figures over enough operations are a regression.
        assert_eq!(compare(&a, &b, Some(0.10), 40).unwrap().1, exit::FAIL);
    }

    #[test]
    fn missing_files_and_other_schema_versions_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", 1, 1.0);
        assert!(compare(&a, &dir.path().join("nope"), None, 1).is_err());
        std::fs::write(dir.path().join("v9.json"), r#"{"schema_version": 9}"#).unwrap();
        let e = compare(&a, &dir.path().join("v9.json"), None, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema_version 9 is not supported"), "{e}");
        assert_eq!(parse_bound("10%").unwrap(), 0.10);
        assert!(parse_bound("ten").is_err());
        let bare = parse_bound("0.1").unwrap_err();
        assert!(bare.contains("needs a unit"), "{bare}");
        assert!(parse_bound("10").is_err());
        assert_eq!(parse_points("2pp").unwrap(), 0.02);
    }

    fn rewrite(d: &Path, edit: impl FnOnce(&mut Report)) {
        let f = d.join("summary.json");
        let mut r: Report = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        edit(&mut r);
        std::fs::write(&f, serde_json::to_vec(&r).unwrap()).unwrap();
    }

    #[test]
    fn a_rise_in_errors_fails_even_when_b_looks_faster() {
        // A run against a dying target looks fast: its errors are what gives it away.
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a", 1_000, 100.0);
        let b = write(dir.path(), "b", 10, 2_300.0);
        rewrite(&b, |r| {
            for o in r.operations.values_mut() {
                o.outcomes.insert("not_sent".into(), o.count / 2);
            }
        });
        let (table, code) = compare(&a, &b, Some(0.10), 1).unwrap();
        assert_eq!(code, 1, "{table}");
        assert!(table.contains("error"), "{table}");
        // Within the bound (no new errors), the same figures pass.
        let c = write(dir.path(), "c", 1_000, 100.0);
        assert_eq!(compare(&a, &c, Some(0.10), 1).unwrap().1, 0);
    }

    #[test]
    fn far_fewer_operations_fail_and_other_scenarios_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_n(dir.path(), "a", 1_000, 100.0, 1_000);
        let b = write_n(dir.path(), "b", 1_000, 100.0, 300);
        let (table, code) = compare(&a, &b, None, 1).unwrap();
        assert_eq!(code, 1, "B ran 30% of A's operations: {table}");
        let c = write(dir.path(), "c", 1_000, 100.0);
        rewrite(&c, |r| r.scenario = "another".into());
        let e = compare(&a, &c, None, 1).unwrap_err().to_string();
        assert!(e.contains("--allow-different"), "{e}");
        let gate = Gate {
            allow_different: true,
            ..Gate::default()
        };
        assert_eq!(compare_with(&a, &c, None, 1, gate).unwrap().1, 0);
    }

    #[test]
    fn a_folder_of_runs_stands_for_its_newest() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports");
        write(&out, "s-20260101T000000Z", 1_000, 100.0);
        let newest = write(&out, "s-20260102T000000Z", 5_000, 100.0);
        rewrite(&newest, |r| r.started_at = "2026-01-02T00:00:00Z".into());
        assert_eq!(summary_path(&out).unwrap(), newest.join("summary.json"));
    }
}
