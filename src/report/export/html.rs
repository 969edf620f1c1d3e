//! report.html: one self-contained page (inline CSS, SVG and one small script of our
//! own, no network: its Content-Security-Policy forbids any load) that a person can
//! open offline or from a CI artifact.

use std::fmt::Write;

use super::Exporter;
use crate::error::Error;
use crate::report::escape::escape;
use crate::report::plot::charts;
use crate::report::{BannerLevel, Headline, OpStats, Percentiles, QuotaScale, Report};
use crate::vocab::Verdict;

/// Writes report.html.
pub struct HtmlExporter;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1500px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}
.v{font-weight:700;padding:.1rem .5rem;border-radius:.3rem;white-space:nowrap}
.pass{background:#d3f9d8;color:#2b8a3e}.fail{background:#ffe3e3;color:#c92a2a}
.unknown{background:#fff3bf;color:#8a6d00}.skipped{background:#e9ecef;color:#495057}
pre{background:#f6f8fa;padding:.4rem;white-space:pre-wrap;word-break:break-all;margin:.3rem 0}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1rem;align-items:start}
.grid>*{min-width:0}.chart{border:1px solid #eee;width:100%;height:auto;display:block}
@media (max-width:900px){.grid{grid-template-columns:minmax(0,1fr)}}
.banner{background:#fff3bf;padding:.5rem 1rem;border-left:4px solid #f59f00}
.banner.info{background:#e7f5ff;border-left-color:#1c7ed6}
h3{margin:.8rem 0 .3rem}.note{color:#555}
";

/// Nothing may load: no network, no file, no frame; only our inline style and script.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// The crosshair and readout of every chart (a constant: no user data is in it).
const HOVER: &str = include_str!("../plot/hover.js");

fn verdict(v: Verdict) -> String {
    format!("<span class=\"v {0}\">{0}</span>", v.as_str())
}

/// A verdict's badge in this report: a pass within an interrupted run held only for
/// what ran before the stop.
fn verdict_in(r: &Report, v: Verdict) -> String {
    match (r.headline(), v) {
        (Headline::Interrupted(_), Verdict::Pass) => {
            "<span class=\"v unknown\">pass before the stop</span>".into()
        }
        _ => verdict(v),
    }
}

/// The headline's badge: an interrupted run shows `interrupted`, never its verdict.
fn headline(h: Headline) -> String {
    match h {
        Headline::Verdict(v) => verdict(v),
        Headline::Interrupted(_) => "<span class=\"v unknown\">interrupted</span>".into(),
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn percentile_cells(p: &Percentiles) -> String {
    [p.p50, p.p90, p.p95, p.p99, p.p999, p.max]
        .iter()
        .map(|v| format!("<td class=\"n\">{}</td>", ms(*v)))
        .collect()
}

fn header(s: &mut String, r: &Report) {
    let _ = write!(
        s,
        "<h1>quotabench: {} {}</h1>",
        escape(&r.scenario),
        headline(r.headline())
    );
    for b in r.notices() {
        let class = match b.level {
            BannerLevel::Warning => "banner",
            BannerLevel::Info => "banner info",
        };
        let _ = write!(s, "<p class=\"{class}\">{}</p>", escape(&b.text));
    }
    let t = &r.target;
    let implementation = t.implementation.as_ref().map_or("not stated".into(), |i| {
        format!(
            "{} {}",
            escape(&i.name),
            escape(i.version.as_deref().unwrap_or(""))
        )
    });
    let fake = if t.bundled_fake {
        if t.faults.is_empty() {
            " (bundled fake)".to_string()
        } else {
            format!(" (bundled fake, faults: {})", escape(&t.faults.join(", ")))
        }
    } else {
        String::new()
    };
    let rows = [
        ("target", format!("{}{fake}", escape(&t.url))),
        ("profile", escape(&t.profile)),
        ("implementation", implementation),
        ("tenant", escape(&t.tenant)),
        ("proxy", escape(t.proxy.as_deref().unwrap_or("none"))),
        (
            "clock control",
            if t.clock_control { "yes" } else { "no" }.into(),
        ),
        ("started", escape(&r.started_at)),
        ("duration", format!("{:.1} s", r.duration_s)),
    ];
    s.push_str("<table>");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    s.push_str("</table>");
}

fn rules(s: &mut String, r: &Report) {
    if r.rules.is_empty() {
        return;
    }
    s.push_str("<h2 id=\"rules\">Rules</h2><table><tr><th>rule</th><th>level</th><th>verdict</th><th>witness</th></tr>");
    // Failures and unknowns first: they are what needs a look.
    let (open, rest) = r.rules_by_concern();
    for v in open.into_iter().chain(rest) {
        let mut w = v.witness.as_deref().map(escape).unwrap_or_default();
        if !v.ops.is_empty() {
            let ops: Vec<String> = v.ops.iter().map(|o| format!("#{o}")).collect();
            let at = v
                .phase
                .as_deref()
                .map(|p| format!(" in phase {}", escape(p)))
                .unwrap_or_default();
            let _ = write!(w, "<br><small>operations {}{at}</small>", ops.join(" "));
        }
        if let Some(c) = &v.reproduce {
            let _ = write!(w, "<pre><code>{}</code></pre>", escape(c));
        }
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{w}</td></tr>",
            escape(&v.id),
            v.level.as_str(),
            verdict_in(r, v.verdict)
        );
    }
    s.push_str("</table>");
}

fn thresholds_and_phases(s: &mut String, r: &Report) {
    if !r.errors.is_empty() {
        let (e, n) = r.error_counts();
        let _ = write!(
            s,
            "<h2 id=\"errors\">Errors</h2><p>{e} of {n} operations got no definite expected answer.</p><table><tr><th>count</th><th>cause</th><th>outcome</th><th>first op</th></tr>"
        );
        for c in &r.errors {
            let _ = write!(
                s,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>#{}</td></tr>",
                crate::check::facts::thousands(c.count),
                escape(&c.cause),
                c.outcome.as_str(),
                c.first_op
            );
        }
        s.push_str("</table>");
        if r.errors_left_off > 0 {
            let _ = write!(s, "<p>and {} more causes</p>", r.errors_left_off);
        }
    }
    // Thresholds and phases side by side: two short tables.
    s.push_str("<div class=\"grid\">");
    if !r.thresholds.is_empty() {
        s.push_str("<div><h2 id=\"thresholds\">Thresholds</h2><table><tr><th>threshold</th><th>verdict</th><th>measured</th></tr>");
        for t in &r.thresholds {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(&t.threshold),
                verdict_in(r, t.verdict),
                escape(&t.shown())
            );
        }
        s.push_str("</table></div>");
    }
    if !r.phases.is_empty() {
        s.push_str("<div><h2 id=\"phases\">Phases</h2><table><tr><th>phase</th><th>seconds</th><th>operations</th><th>asked /s</th><th>achieved /s</th><th>late</th><th>dropped</th></tr>");
        for p in &r.phases {
            let achieved = p.achieved_rate.unwrap_or_else(|| p.achieved_per_second());
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{achieved:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&p.name),
                p.seconds,
                p.operations,
                p.asked_rate.map_or("closed".into(), |a| format!("{a:.1}")),
                p.late,
                p.dropped
            );
        }
        s.push_str("</table></div>");
    }
    s.push_str("</div>");
}

fn outcome_cell(o: &OpStats) -> String {
    let outcomes: Vec<String> = o
        .outcomes
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{}={n}", escape(k)))
        .collect();
    outcomes.join(" ")
}

fn operations(s: &mut String, r: &Report) {
    if r.user_operations().next().is_some() {
        s.push_str(
            "<h2 id=\"operations\">Operations</h2>\
             <p>Latency is measured from the intended start (coordinated-omission corrected); \
             service time from the actual send; one row reads <i>latency = service</i> when they agree. Milliseconds.</p>\
             <table><tr><th>operation</th><th>view</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th>\
             <th>count</th><th>ops/s</th><th>outcomes</th></tr>",
        );
        for (op, o) in r.user_operations() {
            // A closed model has no gap between intended start and send: one row.
            let (span, first, second) = if o.views_identical() {
                (1, "latency = service", String::new())
            } else {
                (
                    2,
                    "latency",
                    format!(
                        "<tr><td>service</td>{}</tr>",
                        percentile_cells(&o.service_time_us)
                    ),
                )
            };
            let _ = write!(
                s,
                "<tr><td rowspan=\"{span}\">{}</td><td>{first}</td>{}<td rowspan=\"{span}\" class=\"n\">{}</td>\
                 <td rowspan=\"{span}\" class=\"n\">{:.1}</td><td rowspan=\"{span}\">{}</td></tr>{second}",
                escape(op),
                percentile_cells(&o.latency_us),
                o.count,
                o.per_second,
                outcome_cell(o),
            );
        }
        s.push_str("</table>");
    }
    let internal: Vec<_> = r.internal_operations().collect();
    if !internal.is_empty() {
        s.push_str(
            "<h3 id=\"internal\">Internal operations</h3>\
             <p class=\"note\">The harness's own reads and writes (quiescent snapshots, clock reads, probes, cleanup): \
             not load, so not charted. Milliseconds.</p>\
             <table><tr><th>operation</th><th>count</th><th>p50</th><th>p99</th><th>max</th><th>outcomes</th></tr>",
        );
        for (op, o) in internal {
            let p = &o.latency_us;
            let _ = write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td>{}</td></tr>",
                escape(op),
                o.count,
                ms(p.p50),
                ms(p.p99),
                ms(p.max),
                outcome_cell(o)
            );
        }
        s.push_str("</table>");
    }
}

fn plots(s: &mut String, r: &Report) {
    if r.user_operations().next().is_some() {
        s.push_str(
            "<h2 id=\"over-time\">Over the run</h2>\
             <p class=\"note\">Shaded bands are the phases; dotted lines the thresholds (red: failed). \
             Hover a chart for time and values.</p><div class=\"grid\">",
        );
        s.push_str(&charts::throughput(r).to_svg());
        s.push_str(&charts::outcomes(r).to_svg());
        s.push_str("</div><h2 id=\"per-operation\">Per operation</h2>");
        for (op, o) in r.user_operations() {
            let _ = write!(s, "<h3>{}</h3><div class=\"grid\">", escape(op));
            s.push_str(&charts::latency_over_time(r, op, o).to_svg());
            s.push_str(&charts::spectrum(r, op, o).to_svg());
            s.push_str("</div>");
        }
    }
    if !r.quotas.is_empty() {
        s.push_str("<h2 id=\"quotas\">Quotas</h2><p>Consumed as each list read it; a reset shows as a drop. \
                    Each chart is scaled to what was used.</p><div class=\"grid\">");
        let mut skipped = Vec::new();
        for name in r.quotas.keys() {
            match charts::quota(r, name) {
                Some(c) => s.push_str(&c.to_svg()),
                None => {
                    if let QuotaScale::NotDrawn(why) = r.quota_scale(name) {
                        skipped.push(format!("{} ({why})", escape(name)));
                    }
                }
            }
        }
        s.push_str("</div>");
        if !skipped.is_empty() {
            let _ = write!(
                s,
                "<p class=\"note\" id=\"quotas-not-drawn\">Not drawn: {}.</p>",
                skipped.join(", ")
            );
        }
    }
}

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, r: &Report) -> Result<Vec<u8>, Error> {
        let mut s = String::with_capacity(64 * 1024);
        let _ = write!(
            s,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
             <title>quotabench {} — {}</title><style>{STYLE}</style></head><body>",
            escape(&r.scenario),
            r.headline().word()
        );
        header(&mut s, r);
        rules(&mut s, r);
        thresholds_and_phases(&mut s, r);
        operations(&mut s, r);
        plots(&mut s, r);
        let _ = writeln!(
            s,
            "<footer><p><small>quotabench {} · summary.json schema {}</small></p></footer>\
             <script>{HOVER}</script></body></html>",
            env!("CARGO_PKG_VERSION"),
            r.schema_version
        );
        Ok(s.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;

    fn html() -> String {
        String::from_utf8(HtmlExporter.render(&example()).unwrap()).unwrap()
    }

    #[test]
    fn user_text_is_escaped() {
        let h = html();
        assert!(!h.contains("<script>alert"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert_eq!(escape("a\"b"), "a&quot;b");
    }

    #[test]
    fn self_contained_no_external_resources() {
        let h = html();
        for bad in [
            "<link",
            "src=",
            "@import",
            "url(",
            "xlink:href",
            "href=\"http",
            "http://",
            "https://",
        ] {
            // The target's URL is text in a table cell, not a resource.
            let h = h.replace("http://127.0.0.1:9", "");
            assert!(!h.contains(bad), "report.html contains {bad}");
        }
        // One script, ours, inline; and a policy that forbids any load.
        assert_eq!(h.matches("<script").count(), 1);
        assert!(h.contains(&format!("<script>{HOVER}</script>")));
        assert!(h.contains("content=\"default-src 'none';"));
    }

    #[test]
    fn user_operations_are_charted_and_internal_ones_listed_apart() {
        let h = html();
        for id in [
            "throughput",
            "outcomes-over-time",
            "spectrum-consume",
            "spectrum-list",
            "latency-over-time-consume",
            "latency-over-time-list",
        ] {
            assert!(h.contains(&format!("<svg id=\"{id}\"")), "missing {id}");
        }
        assert!(!h.contains("-snapshot\""), "the snapshot is charted");
        let internal = h.split("id=\"internal\"").nth(1).expect("internal table");
        assert!(internal.contains("<td>snapshot</td>"));
        let users = h.split("id=\"internal\"").next().unwrap();
        assert!(
            !users.contains("<td rowspan=\"1\">snapshot"),
            "snapshot among user ops"
        );
        // Quotas: orders/day (limit in reach) and records/day (limit off scale) drawn;
        // a limit of 0 and a quota never used are named, not drawn.
        assert!(h.contains("<svg id=\"quota-orders-day-"));
        assert!(h.contains("<svg id=\"quota-records-day-"));
        assert!(h.contains(
            "Not drawn: exports/day (nothing was consumed), orders/month (its limit is 0)."
        ));
        assert_eq!(h.matches("<svg ").count(), 2 + 2 * 2 + 2);
    }

    #[test]
    fn interrupted_runs_never_headline_a_pass() {
        let mut r = example();
        r.verdict = Verdict::Pass;
        r.interrupted = true;
        let h = String::from_utf8(HtmlExporter.render(&r).unwrap()).unwrap();
        assert!(
            h.contains("<span class=\"v unknown\">interrupted</span></h1>"),
            "{h}"
        );
        assert!(h.contains("<title>quotabench example — interrupted</title>"));
        assert!(h.contains(crate::report::INTERRUPTED_BANNER));
        assert!(
            !h.contains("<span class=\"v pass\">"),
            "a plain pass badge remains"
        );
        r.interrupted = false;
        let h = String::from_utf8(HtmlExporter.render(&r).unwrap()).unwrap();
        assert!(h.contains("<span class=\"v pass\">pass</span></h1>"));
    }

    #[test]
    fn banners_show_on_top() {
        let mut r = example();
        r.banners.push(crate::report::Banner {
            level: BannerLevel::Warning,
            text: "TLS verification off (--insecure) <b>".into(),
        });
        let h = String::from_utf8(HtmlExporter.render(&r).unwrap()).unwrap();
        let at = h
            .find("TLS verification off (--insecure) &lt;b&gt;")
            .unwrap();
        assert!(at < h.find("id=\"rules\"").unwrap());
    }

    #[test]
    fn closed_model_rows_are_not_repeated() {
        let mut r = example();
        let o = r.operations.get_mut("list").unwrap();
        o.service_time_us = o.latency_us.clone();
        let h = String::from_utf8(HtmlExporter.render(&r).unwrap()).unwrap();
        assert!(h.contains("<td rowspan=\"1\">list</td><td>latency = service</td>"));
        assert!(h.contains("<td rowspan=\"2\">consume</td><td>latency</td>"));
    }
}
