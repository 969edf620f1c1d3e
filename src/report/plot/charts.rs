//! The plot families of report.html, built only from figures in the Report: latency
//! distribution (1/(1−p) axis), latency over time, throughput with asked vs achieved
//! rate, outcomes over time, and quota consumption over time; phase bands and
//! threshold lines on each.

use super::svg::{
    dom_id, nice_max, nice_ticks, number, Axis, Band, Chart, Mark, Series, Style, XKind,
};
use crate::check::facts::thousands;
use crate::report::{LineOn, OpStats, QuotaPoint, QuotaScale, Report, QUOTA_OFF_SCALE};
use crate::vocab::{Outcome, Verdict};

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

/// The phases with a known start as bands on a seconds axis.
pub fn bands(r: &Report) -> Vec<Band> {
    r.phases
        .iter()
        .filter_map(|p| {
            p.started_s.map(|from| Band {
                from,
                to: from + p.seconds,
                label: p.name.clone(),
            })
        })
        .collect()
}

/// The thresholds bounding `op` on `on` as marks, in the chart's unit (`scale` turns
/// the threshold's unit into it): red when failed, grey when held.
fn marks(r: &Report, op: &str, on: LineOn, scale: f64) -> Vec<Mark> {
    r.thresholds
        .iter()
        .filter_map(|t| {
            let l = t.line.as_ref().filter(|l| l.op == op && l.on == on)?;
            Some(Mark {
                y: l.bound * scale,
                label: t.threshold.clone(),
                color: if t.verdict == Verdict::Fail {
                    RED
                } else {
                    GREY
                },
            })
        })
        .collect()
}

/// A value axis from 0 that fits `data`, and the marks within reach of it (a mark more
/// than [`QUOTA_OFF_SCALE`] times the data is named, not drawn: it would flatten them).
fn fit(data: f64, marks: &[Mark]) -> f64 {
    let reach = marks
        .iter()
        .map(|m| m.y)
        .filter(|y| data <= 0.0 || *y <= data * QUOTA_OFF_SCALE as f64)
        .fold(data, f64::max);
    nice_max(reach * 1.05)
}

fn chart(id: String, title: String, x: Axis, y: Axis, series: Vec<Series>) -> Chart {
    Chart {
        id,
        title,
        x,
        y,
        series,
        bands: Vec::new(),
        marks: Vec::new(),
        note: None,
        x_kind: XKind::Seconds,
        y_unit: "ms",
    }
}

/// Latency by percentile for one operation: corrected latency and service time, and
/// the operation's latency thresholds.
pub fn spectrum(r: &Report, op: &str, o: &OpStats) -> Chart {
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
    let marks = marks(r, op, LineOn::Latency, 1e-3);
    let y_max = fit(
        o.latency_us.max.max(o.service_time_us.max) as f64 / 1000.0,
        &marks,
    );
    let mut c = chart(
        dom_id(&["spectrum", op]),
        format!("{op}: latency by percentile"),
        Axis {
            label: "percentile".into(),
            min: 0.0,
            max: x_end,
            ticks: (0..=decades)
                .map(|k| (k as f64, percentile_label(k)))
                .collect(),
        },
        ms_axis(y_max),
        vec![
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
    );
    c.marks = marks;
    c.x_kind = XKind::Percentile;
    c
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

/// Operations per second, from zero to `max`.
fn rate_axis(max: f64) -> Axis {
    Axis {
        label: "operations / s".into(),
        min: 0.0,
        max,
        ticks: nice_ticks(0.0, max, 5, number),
    }
}

/// The run's length on a seconds axis: its duration, or the last second with data.
fn run_end(r: &Report, data_end: f64) -> f64 {
    r.duration_s.max(data_end).max(1.0)
}

/// p50, p99 and max latency per second of the run for one operation, over the phase
/// bands, with the operation's latency thresholds.
pub fn latency_over_time(r: &Report, op: &str, o: &OpStats) -> Chart {
    let end = run_end(r, o.over_time.last().map_or(0.0, |t| t.t_s as f64 + 1.0));
    let marks = marks(r, op, LineOn::Latency, 1e-3);
    let y_max = fit(
        o.over_time.iter().map(|t| t.max).max().unwrap_or(0) as f64 / 1000.0,
        &marks,
    );
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
    let mut c = chart(
        dom_id(&["latency-over-time", op]),
        format!("{op}: latency over time"),
        seconds_axis(end),
        ms_axis(y_max),
        vec![
            line("p50", BLUE, |t| t.p50),
            line("p99", ORANGE, |t| t.p99),
            line("max", RED, |t| t.max),
        ],
    );
    c.bands = bands(r);
    c.marks = marks;
    c
}

/// Palette for one line per operation (ours, never user data).
const OPS: [&str; 6] = [GREEN, BLUE, "#7048e8", "#0c8599", "#e67700", "#862e9c"];

/// Completions per second of each user operation, and for open-model phases the rate
/// asked beside the rate achieved (sent per second), over the phase bands.
pub fn throughput(r: &Report) -> Chart {
    let data_end = r
        .user_operations()
        .map(|(_, o)| o.throughput.len())
        .max()
        .unwrap_or(0) as f64;
    let end = run_end(r, data_end);
    let mut series: Vec<Series> = r
        .user_operations()
        .enumerate()
        .map(|(i, (op, o))| Series {
            name: op.clone(),
            points: o
                .throughput
                .iter()
                .enumerate()
                .map(|(s, n)| (s as f64 + 0.5, *n as f64))
                .collect(),
            color: OPS[i % OPS.len()],
            style: Style::Line,
        })
        .collect();
    // Asked and achieved hold over each open phase's band; NaN breaks between phases.
    let per_phase = |f: fn(&crate::vocab::PhaseStats) -> Option<f64>| -> Vec<(f64, f64)> {
        r.phases
            .iter()
            .filter_map(|p| Some((p.started_s?, p.seconds, f(p)?)))
            .flat_map(|(from, len, v)| [(from, v), (from + len, v), (from + len, f64::NAN)])
            .collect()
    };
    let asked = per_phase(|p| p.asked_rate);
    if !asked.is_empty() {
        series.push(Series {
            name: "asked/s".into(),
            points: asked,
            color: GREY,
            style: Style::Dashed,
        });
        series.push(Series {
            name: "achieved/s".into(),
            points: per_phase(|p| p.achieved_rate),
            color: RED,
            style: Style::Line,
        });
    }
    let mut marks: Vec<Mark> = r
        .user_operations()
        .flat_map(|(op, _)| marks(r, op, LineOn::Rate, 1.0))
        .collect();
    marks.dedup_by(|a, b| a.label == b.label);
    let data_max = series
        .iter()
        .flat_map(|s| &s.points)
        .map(|p| p.1)
        .filter(|v| !v.is_nan())
        .fold(0.0, f64::max);
    let y_max = fit(data_max, &marks);
    let mut c = chart(
        "throughput".into(),
        if r.phases.iter().any(|p| p.asked_rate.is_some()) {
            "throughput: completed per operation; asked vs achieved (sent)".into()
        } else {
            "throughput: completed per operation".into()
        },
        seconds_axis(end),
        rate_axis(y_max),
        series,
    );
    c.bands = bands(r);
    c.marks = marks;
    c.y_unit = "/s";
    c
}

fn outcome_color(o: Outcome) -> &'static str {
    match o {
        Outcome::Accepted => GREEN,
        Outcome::RejectedQuota => ORANGE,
        Outcome::RejectedInvalid => "#7048e8",
        Outcome::RejectedAuth => "#862e9c",
        Outcome::RejectedRate => "#f59f00",
        Outcome::Error => RED,
        Outcome::Indeterminate => GREY,
        Outcome::NotSent => "#212529",
    }
}

/// Completions per second of the user operations, stacked by outcome class: errors
/// and refusals over time.
pub fn outcomes(r: &Report) -> Chart {
    let classes = r.outcomes_over_time();
    let len = classes.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let peak = (0..len)
        .map(|i| {
            classes
                .iter()
                .map(|(_, v)| v.get(i).copied().unwrap_or(0))
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0);
    let y_max = nice_max(peak as f64);
    let series = classes
        .iter()
        .map(|(o, v)| Series {
            name: o.as_str().into(),
            // Every class over every second, so the stack lines up.
            points: (0..len)
                .map(|i| (i as f64 + 0.5, v.get(i).copied().unwrap_or(0) as f64))
                .collect(),
            color: outcome_color(*o),
            style: Style::Stacked,
        })
        .collect();
    let mut c = chart(
        "outcomes-over-time".into(),
        "outcomes over time (user operations)".into(),
        seconds_axis(run_end(r, len as f64)),
        rate_axis(y_max),
        series,
    );
    c.bands = bands(r);
    c.y_unit = "/s";
    c
}

/// Consumed of one quota as the list operations read it, held between readings (a
/// reset shows as a vertical drop), scaled to what was used: the limit is a line when
/// within reach, else a note. `None` when [`Report::quota_scale`] says not to draw it.
pub fn quota(r: &Report, name: &str) -> Option<Chart> {
    let points = r.quotas.get(name)?;
    let scale = r.quota_scale(name);
    let (y_top, note) = match scale {
        QuotaScale::NotDrawn(_) => return None,
        QuotaScale::WithLimit { limit } => (limit as f64, None),
        QuotaScale::LimitOffScale { used, limit } => (
            used as f64,
            Some(format!(
                "limit {} off scale (peak use {})",
                thousands(limit),
                thousands(used)
            )),
        ),
    };
    let y_max = nice_max(y_top * 1.05);
    let end = run_end(r, points.last().map_or(0.0, |p| p.t_s));
    let series = |label: &str, color, style, f: fn(&QuotaPoint) -> u64| Series {
        name: label.into(),
        points: points.iter().map(|p| (p.t_s, f(p) as f64)).collect(),
        color,
        style,
    };
    let mut lines = vec![series("consumed", BLUE, Style::Step, |p| p.consumed)];
    if matches!(scale, QuotaScale::WithLimit { .. }) {
        lines.push(series("limit", GREY, Style::DashedStep, |p| p.limit));
    }
    let mut c = chart(
        dom_id(&["quota", name]),
        format!("quota {name}: consumed"),
        seconds_axis(end),
        Axis {
            label: "units".into(),
            min: 0.0,
            max: y_max,
            ticks: nice_ticks(0.0, y_max, 5, number),
        },
        lines,
    );
    c.bands = bands(r);
    c.note = note;
    c.y_unit = "units";
    Some(c)
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
        let c = spectrum(&r, "consume", o);
        assert_eq!(c.series.len(), 2);
        let last = c.series[0].points.last().unwrap();
        assert_eq!(last.0, c.x.max, "the max sits at the axis end");
        assert_eq!(last.1, o.latency_us.max as f64 / 1000.0);
        // The example's stall: corrected latency's max dwarfs service time's.
        let svc_max = c.series[1].points.last().unwrap().1;
        assert!(last.1 > 50.0 * svc_max, "{} vs {svc_max}", last.1);
        assert!(c.x.ticks.iter().any(|t| t.1 == "99.9%"));
        // The failed `p99(consume) < 20ms` is a red line at 20 ms.
        assert_eq!(c.marks.len(), 1);
        assert_eq!((c.marks[0].y, c.marks[0].color), (20.0, RED));
    }

    #[test]
    fn time_charts_carry_the_phase_bands() {
        let r = example();
        let c = latency_over_time(&r, "list", &r.operations["list"]);
        let b: Vec<(f64, f64, &str)> = c
            .bands
            .iter()
            .map(|b| (b.from, b.to, b.label.as_str()))
            .collect();
        assert_eq!(b, [(0.0, 5.0, "warmup"), (5.0, 20.0, "steady")]);
        // list's 50 ms threshold is far above its few ms of latency: the axis stays
        // scaled to the data and the mark is named off scale, not drawn.
        assert!(c.y.max < 50.0, "{}", c.y.max);
        assert_eq!(c.marks.len(), 1);
    }

    #[test]
    fn throughput_shows_asked_beside_achieved_for_open_phases() {
        let mut r = example();
        r.phases[1].achieved_rate = Some(30.0);
        let c = throughput(&r);
        let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["consume", "list", "asked/s", "achieved/s"],
            "user operations only: no snapshot line"
        );
        let achieved = &c.series[3].points;
        assert_eq!(achieved[3..5], [(5.0, 30.0), (20.0, 30.0)]);
        assert!(achieved[2].1.is_nan(), "a break between phases");
        // A closed-model run has no asked rate to draw.
        for p in r.phases.iter_mut() {
            p.asked_rate = None;
            p.achieved_rate = None;
        }
        assert_eq!(throughput(&r).series.len(), 2);
    }

    #[test]
    fn outcomes_stack_every_class_that_occurred() {
        let r = example();
        let c = outcomes(&r);
        let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["accepted", "rejected_quota", "indeterminate"]);
        assert!(c.series.iter().all(|s| s.style == Style::Stacked));
        let total: f64 = c.series.iter().flat_map(|s| &s.points).map(|p| p.1).sum();
        let users: u64 = r.user_operations().map(|(_, o)| o.count).sum();
        assert_eq!(total as u64, users, "every user operation, once");
    }

    #[test]
    fn quota_charts_scale_to_use_and_skip_what_says_nothing() {
        let r = example();
        let pts = &r.quotas["orders/day"];
        let c = quota(&r, "orders/day").unwrap();
        let consumed = &c.series[0].points;
        assert!(consumed.windows(2).any(|w| w[1].1 < w[0].1), "no drop");
        assert!(c.id.starts_with("quota-orders-day"));
        assert_eq!(c.series.len(), 2, "a limit in reach is drawn");
        assert!(pts.iter().all(|p| (p.limit as f64) <= c.y.max));
        // 600,000 against at most 800 used: scaled to the use, the limit noted.
        let big = quota(&r, "records/day").unwrap();
        assert_eq!(big.series.len(), 1);
        assert!(big.y.max <= 1_000.0, "{}", big.y.max);
        assert!(big
            .note
            .as_deref()
            .unwrap()
            .contains("limit 600,000 off scale"));
        // A limit of 0 and a quota never used are not drawn.
        assert!(quota(&r, "orders/month").is_none());
        assert!(quota(&r, "exports/day").is_none());
    }
}
