//! The terminal summary: verdict per rule, thresholds, latency per operation.

use std::fmt::Write;

use super::Exporter;
use crate::error::Error;
use crate::report::Report;
use crate::vocab::Verdict;

/// Renders the human summary printed at the end of a run.
pub struct TerminalExporter;

fn ms(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.0}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}ms", us as f64 / 1000.0)
    }
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Unknown => "UNKNOWN",
        Verdict::Skipped => "SKIP",
    }
}

impl Exporter for TerminalExporter {
    fn file_name(&self) -> &'static str {
        "summary.txt"
    }

    fn render(&self, r: &Report) -> Result<Vec<u8>, Error> {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {}  target {} ({})",
            r.scenario, r.target.url, r.target.profile
        );
        if r.interrupted {
            let _ = writeln!(
                s,
                "INTERRUPTED: the report holds what was done before the stop"
            );
        }
        if !r.rules.is_empty() {
            let _ = writeln!(s, "\nrules");
        }
        for v in &r.rules {
            let _ = writeln!(
                s,
                "  {:<8} {:<6} {}  ({} definite, {} undecided)",
                mark(v.verdict),
                v.level.as_str(),
                v.id,
                v.evidence.definite,
                v.evidence.indeterminate
            );
            if v.verdict != Verdict::Pass {
                if let Some(w) = &v.witness {
                    let _ = writeln!(s, "           {w}");
                }
                if let Some(c) = &v.reproduce {
                    let _ = writeln!(s, "           reproduce: {c}");
                }
            }
        }
        if !r.errors.is_empty() {
            let (e, n) = r.error_counts();
            let _ = writeln!(
                s,
                "\nerrors: {e} of {n} operations got no definite expected answer"
            );
            for c in &r.errors {
                let _ = writeln!(s, "  {}", crate::report::errors::line(c));
            }
            if r.errors_left_off > 0 {
                let _ = writeln!(s, "  and {} more causes", r.errors_left_off);
            }
        }
        if !r.thresholds.is_empty() {
            let _ = writeln!(s, "\nthresholds");
            for t in &r.thresholds {
                let _ = writeln!(
                    s,
                    "  {:<8} {}  (measured {})",
                    mark(t.verdict),
                    t.threshold,
                    t.shown()
                );
            }
        }
        let _ = writeln!(
            s,
            "\n  {:<16} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  outcomes",
            "operation", "count", "ops/s", "p50", "p90", "p95", "p99", "p99.9", "max"
        );
        for (name, o) in &r.operations {
            let outcomes: Vec<String> = o
                .outcomes
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            let l = &o.latency_us;
            let _ = writeln!(
                s,
                "  {:<16} {:>7} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
                name,
                o.count,
                o.per_second,
                ms(l.p50),
                ms(l.p90),
                ms(l.p95),
                ms(l.p99),
                ms(l.p999),
                ms(l.max),
                outcomes.join(" ")
            );
        }
        let _ = writeln!(s, "\nverdict: {}", r.verdict.as_str().to_uppercase());
        Ok(s.into_bytes())
    }
}
