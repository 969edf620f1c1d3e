//! The three plot families of report.html, built only from figures in the Report:
//! latency distribution (1/(1−p) axis), latency and throughput over time, and quota
//! consumption over time.

use super::svg::{dom_id, nice_max, nice_ticks, number, Axis, Chart, Series, Style};
use crate::report::{OpStats, QuotaPoint};

const BLUE: &str = "#1f6feb";
const ORANGE: &str = "#d9480f";
const GREEN: &str = "#2f9e44";
const GREY: &str = "#495057";
const RED: &str = "#c92a2a";

/// Milliseconds with just enough digits for an axis label.
fn ms_label(ms: f64) -> String {
    if ms == 0.0 {
        "0".into()
    } else if ms >= 10.0 {
        format!("{ms:.0}")
    } else if ms >= 1.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

/// Position of percentile `p` (0–100) on HdrHistogram's axis: log10(1/(1−p)), so 90%
/// is 1, 99% is 2, 99.9% is 3. The 100th percentile (the max) has no finite position
/// and is drawn at the axis' end by the caller.
pub fn percentile_x(p: f64) -> f64 {
    let rest = 1.0 - p / 100.0;
    if rest <= 0.0 {
        f64::INFINITY
    } else {
        (1.0 / rest).log10()
    }
}

/// "0%", "90%", "99%", "99.9%", … for decade `k` of the 1/(1−p) axis.
fn percentile_label(k: u32) -> String {
    match k {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        k => format!("99.{}%", "9".repeat(k as usize - 2)),
    }
}

fn to_points(spectrum: &[(f64, u64)], x_end: f64) -> Vec<(f64, f64)> {
    spectrum
        .iter()
        .map(|&(p, us)| (percentile_x(p).min(x_end), us as f64 / 1000.0))
        .collect()
}

/// Latency by percentile for one operation: corrected latency and service time.
pub fn spectrum(op: &str, o: &OpStats) -> Chart {
    let finite_end = o
        .spectrum
        .iter()
        .chain(&o.service_spectrum)
        .map(|&(p, _)| percentile_x(p))
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max);
    // At least to 99.9%, and one decade past the last finite step so the max shows.
    let decades = (finite_end.ceil() as u32).max(2) + 1;
    let x_end = decades as f64;
    let y_max = nice_max(o.latency_us.max.max(o.service_time_us.max) as f64 / 1000.0);
    Chart {
        id: dom_id(&["spectrum", op]),
        title: format!("{op}: latency by percentile"),
        x: Axis {
            label: "percentile".into(),
            min: 0.0,
            max: x_end,
            ticks: (0..=decades)
                .map(|k| (k as f64, percentile_label(k)))
                .collect(),
        },
        y: ms_axis(y_max),
        series: vec![
            Series {
                name: "latency (corrected)".into(),
                points: to_points(&o.spectrum, x_end),
                color: BLUE,
                style: Style::Line,
            },
            Series {
                name: "service time".into(),
                points: to_points(&o.service_spectrum, x_end),
                color: ORANGE,
                style: Style::Dashed,
            },
        ],
    }
}

fn ms_axis(max: f64) -> Axis {
    Axis {
        label: "latency (ms)".into(),
        min: 0.0,
        max,
        ticks: nice_ticks(0.0, max, 5, ms_label),
    }
}

fn seconds_axis(end: f64) -> Axis {
    let end = end.max(1.0);
    Axis {
        label: "seconds since start".into(),
        min: 0.0,
        max: end,
        ticks: nice_ticks(0.0, end, 8, number),
    }
}

/// p50, p99 and max latency per second of the run for one operation.
pub fn latency_over_time(op: &str, o: &OpStats) -> Chart {
    let end = o.over_time.last().map_or(1.0, |t| t.t_s as f64 + 1.0);
    let y_max = nice_max(o.over_time.iter().map(|t| t.max).max().unwrap_or(0) as f64 / 1000.0);
    let line = |name: &str, color, f: fn(&crate::report::TimePoint) -> u64| Series {
        name: name.into(),
        // Each second's figure is drawn at the middle of that second.
        points: o
            .over_time
            .iter()
            .map(|t| (t.t_s as f64 + 0.5, f(t) as f64 / 1000.0))
            .collect(),
        color,
        style: Style::Line,
    };
    Chart {
        id: dom_id(&["latency-over-time", op]),
        title: format!("{op}: latency over time"),
        x: seconds_axis(end),
        y: ms_axis(y_max),
        series: vec![
            line("p50", BLUE, |t| t.p50),
            line("p99", ORANGE, |t| t.p99),
            line("max", RED, |t| t.max),
        ],
    }
}

/// Completions per second of the run for one operation.
pub fn throughput(op: &str, o: &OpStats) -> Chart {
    let end = o.throughput.len() as f64;
    let y_max = nice_max(o.throughput.iter().copied().max().unwrap_or(0) as f64);
    Chart {
        id: dom_id(&["throughput", op]),
        title: format!("{op}: throughput"),
        x: seconds_axis(end),
        y: Axis {
            label: "operations / s".into(),
            min: 0.0,
            max: y_max,
            ticks: nice_ticks(0.0, y_max, 5, number),
        },
        series: vec![Series {
            name: "completed / s".into(),
            points: o
                .throughput
                .iter()
                .enumerate()
                .map(|(s, n)| (s as f64 + 0.5, *n as f64))
                .collect(),
            color: GREEN,
            style: Style::Line,
        }],
    }
}

/// Consumed and limit of one quota as the list operations read them; held between
/// readings, so a reset shows as a vertical drop.
pub fn quota(name: &str, points: &[QuotaPoint], duration_s: f64) -> Chart {
    let end = points
        .last()
        .map_or(duration_s, |p| p.t_s.max(duration_s))
        .max(1.0);
    let y_max = nice_max(
        points
            .iter()
            .map(|p| p.consumed.max(p.limit))
            .max()
            .unwrap_or(0) as f64,
    );
    let series = |label: &str, color, style, f: fn(&QuotaPoint) -> u64| Series {
        name: label.into(),
        points: points.iter().map(|p| (p.t_s, f(p) as f64)).collect(),
        color,
        style,
    };
    Chart {
        id: dom_id(&["quota", name]),
        title: format!("quota {name}: consumed vs limit"),
        x: seconds_axis(end),
        y: Axis {
            label: "units".into(),
            min: 0.0,
            max: y_max,
            ticks: nice_ticks(0.0, y_max, 5, number),
        },
        series: vec![
            series("consumed", BLUE, Style::Step, |p| p.consumed),
            series("limit", GREY, Style::DashedStep, |p| p.limit),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;

    #[test]
    fn percentile_axis_is_logarithmic_in_the_tail() {
        assert_eq!(percentile_x(0.0), 0.0);
        assert!((percentile_x(90.0) - 1.0).abs() < 1e-9);
        assert!((percentile_x(99.9) - 3.0).abs() < 1e-9);
        assert!(percentile_x(100.0).is_infinite());
        let labels: Vec<String> = (0..5).map(percentile_label).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%"]);
    }

    #[test]
    fn spectrum_shows_both_views_and_ends_at_the_max() {
        let r = example();
        let o = &r.operations["consume"];
        let c = spectrum("consume", o);
        assert_eq!(c.series.len(), 2);
        let last = c.series[0].points.last().unwrap();
        assert_eq!(last.0, c.x.max, "the max sits at the axis end");
        assert_eq!(last.1, o.latency_us.max as f64 / 1000.0);
        // The example's stall: corrected latency's max dwarfs service time's.
        let svc_max = c.series[1].points.last().unwrap().1;
        assert!(last.1 > 50.0 * svc_max, "{} vs {svc_max}", last.1);
        assert!(c.x.ticks.iter().any(|t| t.1 == "99.9%"));
    }

    #[test]
    fn quota_chart_holds_values_and_shows_the_reset() {
        let r = example();
        let pts = &r.quotas["orders/day"];
        let c = quota("orders/day", pts, r.duration_s);
        let consumed = &c.series[0].points;
        assert!(consumed.windows(2).any(|w| w[1].1 < w[0].1), "no drop");
        assert!(c.id.starts_with("quota-orders-day"));
    }
}
