//! report.md: GitHub-flavoured Markdown for CI step summaries and pull-request comments.

use std::fmt::Write;

use super::Exporter;
use crate::check::RuleVerdict;
use crate::error::Error;
use crate::report::{BannerLevel, Headline, OpStats, Percentiles, Report};
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

/// A verdict's badge in this report: a pass within an interrupted run held only for
/// what ran before the stop, so it never reads as a plain pass.
fn badge_in(r: &Report, v: Verdict) -> &'static str {
    match (r.headline(), v) {
        (Headline::Interrupted(_), Verdict::Pass) => "⏹️ pass before the stop",
        _ => badge(v),
    }
}

fn headline(h: Headline) -> String {
    match h {
        Headline::Verdict(v) => badge(v).into(),
        Headline::Interrupted(_) => "⏹️ interrupted".into(),
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
            headline(r.headline())
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
        notices(&mut s, r);
        rules(&mut s, r);
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
                    badge_in(r, t.verdict),
                    escape(&t.shown())
                );
            }
            s.push('\n');
        }
        phases(&mut s, r);
        latency(&mut s, r);
        internal(&mut s, r);
        Ok(s.into_bytes())
    }
}

/// The interrupt and every banner, each a quoted paragraph under the headline.
fn notices(s: &mut String, r: &Report) {
    for b in r.notices() {
        let mark = match b.level {
            BannerLevel::Warning => "⚠️ ",
            BannerLevel::Info => "",
        };
        let _ = writeln!(s, "> {mark}{}\n", escape(&b.text));
    }
    if let Headline::Interrupted(v) = r.headline() {
        let _ = writeln!(
            s,
            "Judged on what ran before the stop: {}.\n",
            match v {
                Verdict::Pass => "nothing failed, but the run did not finish",
                Verdict::Fail => "failed",
                Verdict::Unknown | Verdict::Skipped => "unknown",
            }
        );
    }
}

fn rule_row(s: &mut String, r: &Report, v: &RuleVerdict) {
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
        badge_in(r, v.verdict),
        witness
    );
}

const RULE_HEAD: &str = "| rule | level | verdict | witness |\n|---|---|---|---|\n";

/// Failures and unknowns first, in the open; passes and skips folded in `<details>`
/// (a CI summary is read for what needs a look).
fn rules(s: &mut String, r: &Report) {
    if r.rules.is_empty() {
        return;
    }
    let (open, folded) = r.rules_by_concern();
    let _ = writeln!(s, "### Rules\n");
    let count = |v: Verdict| r.rules.iter().filter(|x| x.verdict == v).count();
    let _ = writeln!(
        s,
        "{} failed · {} unknown · {} passed · {} skipped\n",
        count(Verdict::Fail),
        count(Verdict::Unknown),
        count(Verdict::Pass),
        count(Verdict::Skipped)
    );
    if !open.is_empty() {
        s.push_str(RULE_HEAD);
        for v in open {
            rule_row(s, r, v);
        }
        s.push('\n');
    }
    if !folded.is_empty() {
        // GitHub renders Markdown inside <details> only after a blank line.
        let _ = writeln!(
            s,
            "<details><summary>{} passed or skipped</summary>\n",
            folded.len()
        );
        s.push_str(RULE_HEAD);
        for v in folded {
            rule_row(s, r, v);
        }
        s.push_str("\n</details>\n\n");
    }
}

/// Latency per user operation; one row when both views read the same (a closed model
/// has no gap between intended start and send), else latency and service apart.
fn latency(s: &mut String, r: &Report) {
    if r.user_operations().next().is_none() {
        return;
    }
    let _ = writeln!(s, "### Latency (ms)\n");
    let _ = writeln!(
        s,
        "*latency* is measured from the intended start (coordinated-omission corrected); \
         *service* from the actual send; one row reads *latency = service* when they agree.\n"
    );
    let _ = writeln!(
        s,
        "| operation | view | p50 | p90 | p95 | p99 | p99.9 | max |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|");
    for (op, o) in r.user_operations() {
        if o.views_identical() {
            percentile_row(s, op, "latency = service", &o.latency_us);
        } else {
            percentile_row(s, op, "latency", &o.latency_us);
            percentile_row(s, op, "service", &o.service_time_us);
        }
    }
    s.push('\n');
    let _ = writeln!(s, "| operation | count | ops/s | outcomes |");
    let _ = writeln!(s, "|---|---:|---:|---|");
    for (op, o) in r.user_operations() {
        count_row(s, op, o);
    }
    s.push('\n');
}

fn count_row(s: &mut String, op: &str, o: &OpStats) {
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

/// The coordinator's own operations, folded: they are the harness's reads, not load.
fn internal(s: &mut String, r: &Report) {
    let ops: Vec<_> = r.internal_operations().collect();
    if ops.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "<details><summary>Internal operations: {} (snapshots, clock reads, probes, cleanup)</summary>\n",
        ops.len()
    );
    let _ = writeln!(s, "| operation | count | ops/s | outcomes |");
    let _ = writeln!(s, "|---|---:|---:|---|");
    for (op, o) in ops {
        count_row(s, op, o);
    }
    s.push_str("\n</details>\n\n");
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
    fn failures_first_and_open_passes_folded() {
        let m = md();
        let fail = m.find("| limits.reject-when-full").unwrap();
        let unknown = m.find("| resets.on-period-boundary").unwrap();
        let details = m
            .find("<details><summary>2 passed or skipped</summary>")
            .unwrap();
        let pass = m.find("| limits.never-exceeded").unwrap();
        let skipped = m.find("| listing.filter").unwrap();
        assert!(fail < unknown && unknown < details, "{m}");
        assert!(details < pass && details < skipped);
        assert!(pass < m.find("</details>").unwrap());
        assert!(m.contains("1 failed · 1 unknown · 1 passed · 1 skipped"));
        // The blank line GitHub needs before a table inside <details>.
        assert!(m.contains("</summary>\n\n| rule |"));
    }

    #[test]
    fn identical_views_are_one_row() {
        let mut r = example();
        let o = r.operations.get_mut("list").unwrap();
        o.service_time_us = o.latency_us.clone();
        let m = String::from_utf8(MarkdownExporter.render(&r).unwrap()).unwrap();
        assert_eq!(m.matches("| list | latency = service |").count(), 1, "{m}");
        assert!(!m.contains("| list | service |"));
        assert!(m.contains("| consume | latency |") && m.contains("| consume | service |"));
    }

    #[test]
    fn internal_operations_are_folded_apart() {
        let m = md();
        let details = m
            .find("<details><summary>Internal operations: 1 (snapshots")
            .unwrap();
        assert_eq!(m.matches("| snapshot |").count(), 1);
        assert!(m.find("| snapshot |").unwrap() > details);
        assert!(!m.contains("| snapshot | latency"), "{m}");
    }

    #[test]
    fn an_interrupted_run_never_reads_as_a_pass() {
        let mut r = example();
        r.verdict = Verdict::Pass;
        r.interrupted = true;
        let m = String::from_utf8(MarkdownExporter.render(&r).unwrap()).unwrap();
        assert!(
            m.starts_with("## quotabench: example — ⏹️ interrupted\n"),
            "{m}"
        );
        assert!(!m.contains("✅ pass"), "{m}");
        assert!(m.contains("⏹️ pass before the stop"));
        assert!(m.contains(crate::report::INTERRUPTED_BANNER));
        r.interrupted = false;
        let m = String::from_utf8(MarkdownExporter.render(&r).unwrap()).unwrap();
        assert!(m.starts_with("## quotabench: example — ✅ pass\n"));
    }

    #[test]
    fn banners_are_quoted_under_the_headline() {
        let mut r = example();
        r.banners.push(crate::report::Banner {
            level: BannerLevel::Warning,
            text: "TLS verification off (--insecure)".into(),
        });
        let m = String::from_utf8(MarkdownExporter.render(&r).unwrap()).unwrap();
        let at = m.find("> ⚠️ TLS verification off (--insecure)").unwrap();
        assert!(at < m.find("### Rules").unwrap());
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
