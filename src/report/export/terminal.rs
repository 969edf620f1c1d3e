//! The terminal summary: verdict per rule, thresholds, latency per operation.

use std::fmt::Write;

use super::rule_lines;
use super::style::Style;
use super::Exporter;
use crate::error::Error;
use crate::report::Report;
use crate::vocab::Verdict;

/// Renders the human summary printed at the end of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalExporter {
    /// Colour and quietness.
    pub style: Style,
}

fn ms(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.0}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}ms", us as f64 / 1000.0)
    }
}

/// `Interrupted: this report…` → `INTERRUPTED: this report…`; a notice without a short
/// lead word is printed as it is.
fn shout(text: &str) -> String {
    match text.split_once(": ") {
        Some((head, rest)) if head.len() <= 24 && !head.contains(' ') => {
            format!("{}: {rest}", head.to_uppercase())
        }
        _ => text.to_string(),
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
        // The same notices report.md and report.html show on top (one model), their
        // lead word in capitals so a terminal reader cannot miss them.
        for n in r.notices() {
            let _ = writeln!(s, "{}", shout(&n.text));
        }
        if let Some(p) = &r.target.proxy {
            let _ = writeln!(s, "through proxy {p}");
        }
        let style = self.style;
        if !r.rules.is_empty() {
            let _ = writeln!(s, "\nrules");
            s.push_str(&rule_lines::rules(&r.rules, &style));
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
            for t in r
                .thresholds
                .iter()
                .filter(|t| !style.quiet || t.verdict != Verdict::Pass)
            {
                let _ = writeln!(
                    s,
                    "  {} {}  (measured {})",
                    style.verdict(t.verdict, 8),
                    t.threshold,
                    t.shown()
                );
            }
        }
        if !style.quiet {
            operations(&mut s, r);
        }
        let counts = rule_lines::counts(
            r.rules
                .iter()
                .map(|v| v.verdict)
                .chain(r.thresholds.iter().map(|t| t.verdict)),
        );
        let _ = writeln!(s, "\nverdict: {}  ({counts})", style.verdict(r.verdict, 0));
        if r.interrupted {
            let _ = writeln!(s, "interrupted: judged on what ran before the stop");
        }
        Ok(s.into_bytes())
    }
}

/// Count, rate, latency percentiles and outcomes per operation label.
fn operations(s: &mut String, r: &Report) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;
    use crate::report::{Banner, BannerLevel};

    fn render(r: &Report) -> String {
        String::from_utf8(TerminalExporter::default().render(r).unwrap()).unwrap()
    }

    #[test]
    fn every_notice_of_the_report_model_is_printed_on_top() {
        let mut r = example();
        assert!(!render(&r).contains("INTERRUPTED"));
        r.interrupted = true;
        r.target.insecure = true;
        r.banners.push(Banner {
            level: BannerLevel::Warning,
            text: "a notice with no lead word".into(),
        });
        let t = render(&r);
        let rules = t.find("\nrules").unwrap();
        for n in [
            "INTERRUPTED: this report holds what was done before the stop",
            "INSECURE: ",
            "a notice with no lead word",
        ] {
            let at = t.find(n).unwrap_or_else(|| panic!("{n:?} missing:\n{t}"));
            assert!(at < rules, "{n:?} after the rules:\n{t}");
        }
    }
}
