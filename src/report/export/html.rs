//! report.html: one self-contained page (inline CSS and SVG, no script, no network)
//! that a person can open offline or from a CI artifact.

use std::fmt::Write;

use super::Exporter;
use crate::error::Error;
use crate::report::escape::escape;
use crate::report::plot::charts;
use crate::report::{Percentiles, Report};
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
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #eee;max-width:100%;height:auto}
.banner{background:#fff3bf;padding:.5rem 1rem;border-left:4px solid #f59f00}
";

fn verdict(v: Verdict) -> String {
    format!("<span class=\"v {0}\">{0}</span>", v.as_str())
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
        verdict(r.verdict)
    );
    if r.interrupted {
        let _ = write!(
            s,
            "<p class=\"banner\">Interrupted: this report holds what was done before the stop.</p>"
        );
    }
    if r.target.insecure {
        let _ = write!(
            s,
            "<p class=\"banner\">Insecure: {}.</p>",
            escape(crate::report::INSECURE_NOTE)
        );
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
    for v in &r.rules {
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
            verdict(v.verdict)
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
    if !r.thresholds.is_empty() {
        s.push_str("<h2 id=\"thresholds\">Thresholds</h2><table><tr><th>threshold</th><th>verdict</th><th>measured</th></tr>");
        for t in &r.thresholds {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(&t.threshold),
                verdict(t.verdict),
                escape(&t.shown())
            );
        }
        s.push_str("</table>");
    }
    if !r.phases.is_empty() {
        s.push_str("<h2 id=\"phases\">Phases</h2><table><tr><th>phase</th><th>seconds</th><th>operations</th><th>asked /s</th><th>achieved /s</th><th>late</th><th>dropped</th></tr>");
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
        s.push_str("</table>");
    }
}

fn operations(s: &mut String, r: &Report) {
    if r.operations.is_empty() {
        return;
    }
    s.push_str(
        "<h2 id=\"operations\">Operations</h2>\
         <p>Latency is measured from the intended start (coordinated-omission corrected); \
         service time from the actual send. Milliseconds.</p>\
         <table><tr><th>operation</th><th>view</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th>\
         <th>count</th><th>ops/s</th><th>outcomes</th></tr>",
    );
    for (op, o) in &r.operations {
        let outcomes: Vec<String> = o
            .outcomes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{}={n}", escape(k)))
            .collect();
        let _ = write!(
            s,
            "<tr><td rowspan=\"2\">{}</td><td>latency</td>{}<td rowspan=\"2\" class=\"n\">{}</td>\
             <td rowspan=\"2\" class=\"n\">{:.1}</td><td rowspan=\"2\">{}</td></tr>\
             <tr><td>service</td>{}</tr>",
            escape(op),
            percentile_cells(&o.latency_us),
            o.count,
            o.per_second,
            outcomes.join(" "),
            percentile_cells(&o.service_time_us)
        );
    }
    s.push_str("</table>");
}

fn plots(s: &mut String, r: &Report) {
    if !r.operations.is_empty() {
        s.push_str("<h2 id=\"distribution\">Latency distribution</h2><div class=\"charts\">");
        for (op, o) in &r.operations {
            s.push_str(&charts::spectrum(op, o).to_svg());
        }
        s.push_str("</div><h2 id=\"over-time\">Over time</h2><div class=\"charts\">");
        for (op, o) in &r.operations {
            s.push_str(&charts::latency_over_time(op, o).to_svg());
            s.push_str(&charts::throughput(op, o).to_svg());
        }
        s.push_str("</div>");
    }
    if !r.quotas.is_empty() {
        s.push_str("<h2 id=\"quotas\">Quotas</h2><p>Consumed as each list read it; a reset shows as a drop.</p><div class=\"charts\">");
        for (name, pts) in &r.quotas {
            s.push_str(&charts::quota(name, pts, r.duration_s).to_svg());
        }
        s.push_str("</div>");
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
             <title>quotabench {} — {}</title><style>{STYLE}</style></head><body>",
            escape(&r.scenario),
            r.verdict.as_str()
        );
        header(&mut s, r);
        rules(&mut s, r);
        thresholds_and_phases(&mut s, r);
        operations(&mut s, r);
        plots(&mut s, r);
        let _ = writeln!(
            s,
            "<footer><p><small>quotabench {} · summary.json schema {}</small></p></footer></body></html>",
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
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert_eq!(escape("a\"b"), "a&quot;b");
    }

    #[test]
    fn self_contained_no_external_resources() {
        let h = html();
        for bad in [
            "<script",
            "<link",
            "src=",
            "@import",
            "url(",
            "xlink:href",
            "href=\"http",
        ] {
            assert!(!h.contains(bad), "report.html contains {bad}");
        }
    }

    #[test]
    fn one_plot_per_operation_view_and_quota() {
        let h = html();
        for id in [
            "spectrum-consume",
            "spectrum-list",
            "latency-over-time-consume",
            "throughput-list",
        ] {
            assert!(h.contains(&format!("<svg id=\"{id}\"")), "missing {id}");
        }
        assert!(h.contains("<svg id=\"quota-orders-day-"));
        assert_eq!(h.matches("<svg ").count(), 2 + 4 + 1);
    }
}
