//! report.md: GitHub-flavoured Markdown for CI step summaries and pull-request comments.

use std::fmt::Write;

use super::Exporter;
use crate::error::Error;
use crate::report::{Percentiles, Report};
use crate::vocab::Verdict;

/// Writes report.md.
pub struct MarkdownExporter;

/// Escapes text for a Markdown table cell. GitHub renders inline HTML and Markdown in
/// cells, and witnesses carry user data, so every character that could start markup is
/// neutralised; newlines become `<br>` because a raw one would end the table row.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn badge(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅ pass",
        Verdict::Fail => "❌ fail",
        Verdict::Unknown => "❔ unknown",
        Verdict::Skipped => "⏭️ skipped",
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn percentile_row(s: &mut String, op: &str, view: &str, p: &Percentiles) {
    let _ = writeln!(
        s,
        "| {} | {view} | {} | {} | {} | {} | {} | {} |",
        escape(op),
        ms(p.p50),
        ms(p.p90),
        ms(p.p95),
        ms(p.p99),
        ms(p.p999),
        ms(p.max)
    );
}

impl Exporter for MarkdownExporter {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, r: &Report) -> Result<Vec<u8>, Error> {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "## quotabench: {} — {}\n",
            escape(&r.scenario),
            badge(r.verdict)
        );
        let implementation = r.target.implementation.as_ref().map_or(String::new(), |i| {
            format!(
                ", implementation {} {}",
                escape(&i.name),
                escape(i.version.as_deref().unwrap_or(""))
            )
        });
        let _ = writeln!(
            s,
            "Target {} (profile {}{implementation}), {:.1} s.\n",
            escape(&r.target.url),
            escape(&r.target.profile),
            r.duration_s
        );
        if r.interrupted {
            let _ = writeln!(
                s,
                "> **Interrupted**: this report holds what was done before the stop.\n"
            );
        }
        if r.target.insecure {
            let _ = writeln!(s, "> **Insecure**: {}.\n", crate::report::INSECURE_NOTE);
        }
        if !r.rules.is_empty() {
            let _ = writeln!(s, "### Rules\n");
            let _ = writeln!(s, "| rule | level | verdict | witness |");
            let _ = writeln!(s, "|---|---|---|---|");
            for v in &r.rules {
                let mut witness = escape(v.witness.as_deref().unwrap_or(""));
                if let Some(p) = &v.phase {
                    let _ = write!(witness, "<br>in phase {}", escape(p));
                }
                if let Some(c) = &v.reproduce {
                    let _ = write!(witness, "<br>reproduce: {}", escape(c));
                }
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    escape(&v.id),
                    v.level.as_str(),
                    badge(v.verdict),
                    witness
                );
            }
            s.push('\n');
        }
        if !r.errors.is_empty() {
            let (e, n) = r.error_counts();
            let _ = writeln!(
                s,
                "### Errors\n\n{e} of {n} operations got no definite expected answer.\n"
            );
            let _ = writeln!(s, "| count | cause | outcome | first op |");
            let _ = writeln!(s, "|---|---|---|---|");
            for c in &r.errors {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | #{} |",
                    crate::check::facts::thousands(c.count),
                    escape(&c.cause),
                    c.outcome.as_str(),
                    c.first_op
                );
            }
            if r.errors_left_off > 0 {
                let _ = writeln!(s, "\nand {} more causes", r.errors_left_off);
            }
            s.push('\n');
        }
        if !r.thresholds.is_empty() {
            let _ = writeln!(s, "### Thresholds\n");
            let _ = writeln!(s, "| threshold | verdict | measured |");
            let _ = writeln!(s, "|---|---|---|");
            for t in &r.thresholds {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} |",
                    escape(&t.threshold),
                    badge(t.verdict),
                    escape(&t.shown())
                );
            }
            s.push('\n');
        }
        phases(&mut s, r);
        if !r.operations.is_empty() {
            let _ = writeln!(s, "### Latency (ms)\n");
            let _ = writeln!(
                s,
                "*latency* is measured from the intended start (coordinated-omission corrected); \
                 *service* from the actual send.\n"
            );
            let _ = writeln!(
                s,
                "| operation | view | p50 | p90 | p95 | p99 | p99.9 | max |"
            );
            let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|");
            for (op, o) in &r.operations {
                percentile_row(&mut s, op, "latency", &o.latency_us);
                percentile_row(&mut s, op, "service", &o.service_time_us);
            }
            s.push('\n');
            let _ = writeln!(s, "| operation | count | ops/s | outcomes |");
            let _ = writeln!(s, "|---|---:|---:|---|");
            for (op, o) in &r.operations {
                let outcomes: Vec<String> = o
                    .outcomes
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| format!("{}={n}", escape(k)))
                    .collect();
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.1} | {} |",
                    escape(op),
                    o.count,
                    o.per_second,
                    outcomes.join(" ")
                );
            }
        }
        Ok(s.into_bytes())
    }
}

/// Delivery per phase: asked beside achieved, so a rate the engine or the target could
/// not keep reads as such (with what was dropped), never as a rate the target held.
fn phases(s: &mut String, r: &Report) {
    if r.phases.is_empty() {
        return;
    }
    let _ = writeln!(s, "### Phases\n");
    let _ = writeln!(
        s,
        "| phase | seconds | operations | asked /s | achieved /s | late | dropped |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|");
    for p in &r.phases {
        let achieved = p.achieved_rate.unwrap_or_else(|| p.achieved_per_second());
        let _ = writeln!(
            s,
            "| {} | {:.1} | {} | {} | {achieved:.1} | {} | {} |",
            escape(&p.name),
            p.seconds,
            p.operations,
            p.asked_rate.map_or("closed".into(), |a| format!("{a:.1}")),
            p.late,
            p.dropped
        );
    }
    s.push('\n');
}

/// Appends report.md to the file named by `$GITHUB_STEP_SUMMARY`, when that is set
/// (GitHub Actions shows it on the run's summary page); does nothing otherwise.
pub fn append_step_summary(report: &Report) -> Result<(), Error> {
    match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(p) if !p.is_empty() => append_to(report, std::path::Path::new(&p)),
        _ => Ok(()),
    }
}

/// Appends report.md to `path`, keeping what other steps wrote there. Goes through
/// write_atomic (read, concatenate, rename) so the summary is redacted and never torn.
fn append_to(report: &Report, path: &std::path::Path) -> Result<(), Error> {
    let mut text = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.extend(MarkdownExporter.render(&crate::report::redacted(report))?);
    crate::report::write_atomic(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;

    fn md() -> String {
        String::from_utf8(MarkdownExporter.render(&example()).unwrap()).unwrap()
    }

    #[test]
    fn witness_markup_is_neutralised_and_rows_stay_whole() {
        let m = md();
        assert!(!m.contains("<script>"), "{m}");
        assert!(m.contains("&lt;script&gt;"));
        let row = m
            .lines()
            .find(|l| l.starts_with("| limits.reject-when-full"))
            .unwrap();
        assert!(row.contains("❌ fail") && row.contains("reproduce: curl"));
        // A pipe in user data must not add cells.
        assert_eq!(escape("a|b\nc"), "a\\|b<br>c");
    }

    #[test]
    fn latency_table_has_both_views_per_operation() {
        let m = md();
        let r = example();
        let l = &r.operations["consume"];
        let lat = format!("| consume | latency | {} |", ms(l.latency_us.p50));
        let svc = format!("| consume | service | {} |", ms(l.service_time_us.p50));
        assert!(m.contains(&lat), "{m}");
        assert!(m.contains(&svc), "{m}");
        assert!(m.contains("| p99(consume) &lt; 20ms | ❌ fail |"));
    }

    #[test]
    fn appends_after_what_other_steps_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("summary.md");
        std::fs::write(&p, "earlier step").unwrap();
        append_to(&example(), &p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("earlier step\n## quotabench: example"));
    }
}
