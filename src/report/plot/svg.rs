//! A minimal line chart drawn as inline SVG by hand: axes, grid, ticks, legend and
//! polylines. Hand-written rather than plotters' SVG backend so the output is small,
//! fully escaped, carries an accessible <title>, and depends on no font files.

use std::fmt::Write;

use crate::report::escape::escape;

/// One axis: its label, its range in plot units and its tick marks.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Axis caption.
    pub label: String,
    /// Lowest value shown.
    pub min: f64,
    /// Highest value shown.
    pub max: f64,
    /// (position in plot units, label) pairs.
    pub ticks: Vec<(f64, String)>,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Straight segments between points.
    Line,
    /// Dashed straight segments.
    Dashed,
    /// Hold each value until the next point: a drop shows as a vertical edge.
    Step,
    /// Dashed, held like [`Style::Step`].
    DashedStep,
    /// A filled area stacked on the stacked series before it (points at the same x,
    /// values per series, not cumulative): outcome classes per second.
    Stacked,
}

/// One line on a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in plot units; a NaN value breaks the line (a gap between phases).
    pub points: Vec<(f64, f64)>,
    /// Stroke colour (a CSS colour written by us, never user data).
    pub color: &'static str,
    /// Line style.
    pub style: Style,
}

/// A shaded span of the horizontal axis: a phase of the run.
#[derive(Debug, Clone)]
pub struct Band {
    /// Where it starts, plot units.
    pub from: f64,
    /// Where it ends, plot units.
    pub to: f64,
    /// Its name, written at its top.
    pub label: String,
}

/// A labelled horizontal line: a threshold or a limit.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Its value, plot units.
    pub y: f64,
    /// What it is (`p99(list) < 50ms`).
    pub label: String,
    /// Stroke colour (ours, never user data).
    pub color: &'static str,
}

/// How the hover readout writes a horizontal position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XKind {
    /// Seconds since the run started.
    Seconds,
    /// A position on the 1/(1−p) percentile axis.
    Percentile,
}

impl XKind {
    fn as_str(self) -> &'static str {
        match self {
            XKind::Seconds => "s",
            XKind::Percentile => "pct",
        }
    }
}

/// A chart ready to render.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The element id (ASCII, built by [`dom_id`]).
    pub id: String,
    /// Title shown above the plot and read by screen readers.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Lines.
    pub series: Vec<Series>,
    /// Phase bands behind the data.
    pub bands: Vec<Band>,
    /// Threshold and limit lines; one above the vertical axis is written in the note
    /// instead of drawn.
    pub marks: Vec<Mark>,
    /// A remark written in the plot's top right corner (a limit off scale).
    pub note: Option<String>,
    /// How the hover readout writes x.
    pub x_kind: XKind,
    /// The unit the hover readout appends to values (`ms`, `/s`).
    pub y_unit: &'static str,
}

const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 30.0;
/// Title on the first line, legend on the second, so a long title never runs under
/// the legend.
const TOP: f64 = 50.0;
const TITLE_Y: f64 = 18.0;
const LEGEND_Y: f64 = 36.0;
// The legend's 12 px glyphs (~10 px above their baseline, 4 px below the sample line)
// clear the title's descenders, and the legend sits above the plot.
const _: () = assert!(LEGEND_Y + 4.0 - 10.0 > TITLE_Y + 3.0 && TOP > LEGEND_Y + 6.0);
const BOTTOM: f64 = 46.0;
const FONT: &str = "font-family=\"system-ui,-apple-system,'Segoe UI',sans-serif\"";

/// Plot-unit → pixel mapping of one chart.
struct Frame<'a> {
    x: &'a Axis,
    y: &'a Axis,
}

impl Frame<'_> {
    fn px(&self, v: f64) -> f64 {
        let span = (self.x.max - self.x.min).max(f64::EPSILON);
        LEFT + (v - self.x.min) / span * (W - LEFT - RIGHT)
    }
    fn py(&self, v: f64) -> f64 {
        let span = (self.y.max - self.y.min).max(f64::EPSILON);
        H - BOTTOM - (v - self.y.min) / span * (H - TOP - BOTTOM)
    }
}

/// An id safe in HTML and CSS: ASCII alphanumerics and dashes only.
pub fn dom_id(parts: &[&str]) -> String {
    let raw = parts.join("-");
    let mut id: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    // Distinct labels that map to the same id ("a b", "a/b") stay distinct.
    if id != raw {
        let h = raw.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        let _ = write!(id, "-{:08x}", h as u32);
    }
    id
}

/// Round, evenly spaced ticks covering [min, max], about `n` of them.
pub fn nice_ticks(min: f64, max: f64, n: usize, fmt: impl Fn(f64) -> String) -> Vec<(f64, String)> {
    let span = (max - min).max(f64::EPSILON);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut v = (min / step).ceil() * step;
    while v <= max + step * 1e-9 {
        out.push((v, fmt(v)));
        v += step;
    }
    out
}

/// A tick value with no more decimals than it needs: 2.5 stays 2.5, 5.0 reads 5.
pub fn number(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// The smallest round upper bound ≥ `v` for a value axis starting at 0.
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * mag)
}

fn path(f: &Frame, s: &Series) -> String {
    let mut d = String::new();
    let mut last: Option<f64> = None;
    for &(x, y) in &s.points {
        if y.is_nan() {
            last = None;
            continue;
        }
        let (px, py) = (f.px(x), f.py(y));
        if last.is_none() {
            if !d.is_empty() {
                d.push(' ');
            }
            let _ = write!(d, "M{px:.1},{py:.1}");
        } else {
            if matches!(s.style, Style::Step | Style::DashedStep) {
                if let Some(prev) = last {
                    let _ = write!(d, " L{px:.1},{prev:.1}");
                }
            }
            let _ = write!(d, " L{px:.1},{py:.1}");
        }
        last = Some(py);
    }
    d
}

/// A stacked series' polygon: its top (`base + value`) left to right, then `base`
/// back, so a class sits on the classes before it.
fn area(f: &Frame, pts: &[(f64, f64)], base: &[f64]) -> String {
    let mut d = String::new();
    for (i, &(x, v)) in pts.iter().enumerate() {
        let top = base.get(i).copied().unwrap_or(0.0) + v;
        let _ = write!(
            d,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            f.px(x),
            f.py(top)
        );
    }
    for (i, &(x, _)) in pts.iter().enumerate().rev() {
        let _ = write!(
            d,
            " L{:.1},{:.1}",
            f.px(x),
            f.py(base.get(i).copied().unwrap_or(0.0))
        );
    }
    d.push_str(" Z");
    d
}

/// A value for a tooltip: three significant figures, no exponent.
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The series' points for the hover script: `x y,x y,…` in plot units (breaks left out).
fn hover_data(pts: &[(f64, f64)]) -> String {
    let mut out = String::new();
    for &(x, y) in pts.iter().filter(|p| !p.1.is_nan()) {
        if !out.is_empty() {
            out.push(',');
        }
        let _ = write!(out, "{} {}", short_x(x), short(y));
    }
    out
}

/// An x in plot units with enough digits for the readout (percentile positions are
/// logarithmic: four decimals).
fn short_x(x: f64) -> String {
    let r = (x * 10_000.0).round() / 10_000.0;
    format!("{r}")
}

fn dash(style: Style) -> &'static str {
    if matches!(style, Style::Dashed | Style::DashedStep) {
        " stroke-dasharray=\"6 4\""
    } else {
        ""
    }
}

impl Chart {
    /// The legend on its own line under the title, left to right from the plot's left
    /// edge: it can neither cover the data nor run under a long title.
    fn legend(&self, s: &mut String) {
        s.push_str("<g class=\"legend\">");
        let mut lx = LEFT;
        let shown: Vec<&Series> = self
            .series
            .iter()
            .filter(|se| !se.points.is_empty())
            .collect();
        for (i, se) in shown.iter().enumerate() {
            // ~7 px per character at 12 px, plus the sample line and a gap.
            let slot = 42.0 + 7.0 * se.name.chars().count() as f64;
            if lx + slot > W - RIGHT + 10.0 {
                // No room left on the line: say how many more (the readout names all).
                let _ = write!(
                    s,
                    "<text x=\"{lx:.1}\" y=\"{:.1}\" fill=\"#333\">+{} more</text>",
                    LEGEND_Y + 4.0,
                    shown.len() - i
                );
                break;
            }
            let (dash, ly) = (dash(se.style), LEGEND_Y);
            let width = if se.style == Style::Stacked {
                10.0
            } else {
                2.0
            };
            let _ = write!(
                s,
                "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"{width}\"{dash}/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
                lx + 22.0,
                se.color,
                lx + 28.0,
                ly + 4.0,
                escape(&se.name)
            );
            lx += slot;
        }
        s.push_str("</g>");
    }

    fn x_text(&self, x: f64) -> String {
        match self.x_kind {
            XKind::Seconds => format!("{} s", short(x)),
            XKind::Percentile => {
                let p = 100.0 * (1.0 - 10f64.powf(-x));
                format!("p{}", short(p))
            }
        }
    }

    /// The chart as an `<svg>` element (no XML declaration: it is inlined in HTML).
    pub fn to_svg(&self) -> String {
        let f = Frame {
            x: &self.x,
            y: &self.y,
        };
        let mut s = String::new();
        let (x0, x1) = (LEFT, W - RIGHT);
        let (y0, y1) = (H - BOTTOM, TOP);
        // data-map: plot left and right in pixels, then x's range in plot units, so
        // the hover script turns a mouse position into an x without parsing the path.
        let _ = write!(
            s,
            "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
             role=\"img\" aria-labelledby=\"{id}-title\" {FONT} font-size=\"12\" \
             data-map=\"{x0} {x1} {} {}\" data-x=\"{}\" data-unit=\"{}\">\
             <title id=\"{id}-title\">{t}</title>\
             <rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>\
             <text x=\"{LEFT}\" y=\"{TITLE_Y}\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">{t}</text>",
            self.x.min,
            self.x.max,
            self.x_kind.as_str(),
            escape(self.y_unit),
            id = self.id,
            t = escape(&self.title)
        );
        for (i, b) in self.bands.iter().enumerate() {
            let (a, z) = (f.px(b.from.max(self.x.min)), f.px(b.to.min(self.x.max)));
            if z <= a {
                continue;
            }
            let fill = if i % 2 == 0 { "#eef3fb" } else { "#f7f3ea" };
            let _ = write!(
                s,
                "<rect class=\"band\" x=\"{a:.1}\" y=\"{y1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\">\
                 <title>phase {}</title></rect>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#667\">{}</text>",
                z - a,
                y0 - y1,
                escape(&b.label),
                a + 3.0,
                y1 + 11.0,
                escape(&b.label)
            );
        }
        for (v, label) in &self.y.ticks {
            let y = f.py(*v);
            let _ = write!(
                s,
                "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
                x0 - 6.0,
                y + 4.0,
                escape(label)
            );
        }
        for (v, label) in &self.x.ticks {
            let x = f.px(*v);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y0}\" y2=\"{y1}\" stroke=\"#f0f0f0\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                y0 + 16.0,
                escape(label)
            );
        }
        let _ = write!(
            s,
            "<path d=\"M{x0},{y1} L{x0},{y0} L{x1},{y0}\" fill=\"none\" stroke=\"#888\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\
             <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            (x0 + x1) / 2.0,
            H - 8.0,
            escape(&self.x.label),
            (y0 + y1) / 2.0,
            escape(&self.y.label)
        );
        if self.series.iter().all(|s| s.points.is_empty()) {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#999\">no data</text>",
                (x0 + x1) / 2.0,
                (y0 + y1) / 2.0
            );
        }
        let mut base: Vec<f64> = Vec::new();
        for se in &self.series {
            if se.points.is_empty() {
                continue;
            }
            let dash = dash(se.style);
            let name = escape(&se.name);
            let data = hover_data(&se.points);
            if se.style == Style::Stacked {
                let _ = write!(
                    s,
                    "<path class=\"series\" d=\"{}\" fill=\"{}\" fill-opacity=\"0.75\" stroke=\"none\" \
                     data-name=\"{name}\" data-xy=\"{data}\"><title>{name}</title></path>",
                    area(&f, &se.points, &base),
                    se.color,
                );
                base.resize(se.points.len().max(base.len()), 0.0);
                for (b, p) in base.iter_mut().zip(&se.points) {
                    *b += p.1;
                }
                continue;
            }
            let _ = write!(
                s,
                "<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{dash} \
                 data-name=\"{name}\" data-xy=\"{data}\"><title>{name}</title></path>",
                path(&f, se),
                se.color,
            );
            // A sparse series (a short run: one or two seconds) gets markers, else a
            // single reading would draw nothing at all; each says its value on hover.
            if se.points.len() <= 30 {
                for &(x, y) in se.points.iter().filter(|p| !p.1.is_nan()) {
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"><title>{name} at {}: {} {}</title></circle>",
                        f.px(x),
                        f.py(y),
                        se.color,
                        self.x_text(x),
                        short(y),
                        escape(self.y_unit)
                    );
                }
            }
        }
        let mut off_scale = Vec::new();
        for m in &self.marks {
            if m.y > self.y.max || m.y < self.y.min {
                off_scale.push(format!("{} (off scale)", m.label));
                continue;
            }
            let y = f.py(m.y);
            let label = escape(&m.label);
            let _ = write!(
                s,
                "<line class=\"mark\" x1=\"{x0}\" x2=\"{x1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{}\" \
                 stroke-width=\"1.5\" stroke-dasharray=\"2 3\"><title>{label}</title></line>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"{}\">{label}</text>",
                m.color,
                x1 - 4.0,
                y - 4.0,
                m.color
            );
        }
        let note: Vec<String> = self.note.iter().cloned().chain(off_scale).collect();
        if !note.is_empty() {
            let _ = write!(
                s,
                "<text class=\"note\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#8a6d00\">{}</text>",
                x1 - 4.0,
                y1 + 12.0,
                escape(&note.join(" · "))
            );
        }
        self.legend(&mut s);
        // The crosshair and its readout, hidden until the hover script shows them (the
        // readout takes the legend's line while the pointer is on the plot).
        let _ = write!(
            s,
            "<line class=\"xhair\" x1=\"{x0}\" x2=\"{x0}\" y1=\"{y1}\" y2=\"{y0}\" stroke=\"#555\" visibility=\"hidden\"/>\
             <text class=\"readout\" x=\"{x0}\" y=\"{:.1}\" fill=\"#111\" visibility=\"hidden\"></text>",
            LEGEND_Y + 4.0
        );
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(f64, f64)>, style: Style) -> Chart {
        Chart {
            id: "c".into(),
            title: "t <b>".into(),
            x: Axis {
                label: "x".into(),
                min: 0.0,
                max: 10.0,
                ticks: nice_ticks(0.0, 10.0, 5, |v| format!("{v}")),
            },
            y: Axis {
                label: "y".into(),
                min: 0.0,
                max: 100.0,
                ticks: vec![],
            },
            series: vec![Series {
                name: "s".into(),
                points,
                color: "#123",
                style,
            }],
            bands: vec![],
            marks: vec![],
            note: None,
            x_kind: XKind::Seconds,
            y_unit: "ms",
        }
    }

    #[test]
    fn maps_points_into_the_plot_area() {
        let svg = chart(vec![(0.0, 0.0), (10.0, 100.0)], Style::Line).to_svg();
        let (b, t) = (H - BOTTOM, TOP);
        assert!(svg.contains(&format!("d=\"M{LEFT:.1},{b:.1} L{:.1},{t:.1}\"", W - RIGHT)));
        assert!(svg.contains("t &lt;b&gt;") && !svg.contains("<b>"));
    }

    #[test]
    fn steps_hold_the_previous_value_so_drops_are_vertical() {
        let svg = chart(vec![(0.0, 100.0), (10.0, 0.0)], Style::Step).to_svg();
        let (b, t, r) = (H - BOTTOM, TOP, W - RIGHT);
        assert!(svg.contains(&format!("M{LEFT:.1},{t:.1} L{r:.1},{t:.1} L{r:.1},{b:.1}")));
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t: Vec<f64> = nice_ticks(0.0, 7.3, 5, |v| v.to_string())
            .iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(t, [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(nice_max(7.3), 8.0);
        assert_eq!(nice_max(1_400.0), 1_500.0);
        assert_eq!(dom_id(&["spectrum", "consume"]), "spectrum-consume");
        assert_eq!(
            (number(2.5), number(5.0), number(0.1 + 0.2)),
            ("2.5".into(), "5".into(), "0.3".into())
        );
        assert_ne!(dom_id(&["a b"]), dom_id(&["a/b"]));
    }

    #[test]
    fn a_single_reading_is_still_visible() {
        let svg = chart(vec![(5.0, 50.0)], Style::Line).to_svg();
        assert_eq!(svg.matches("<circle").count(), 1);
    }

    #[test]
    fn a_nan_value_breaks_the_line() {
        let svg = chart(
            vec![
                (0.0, 10.0),
                (2.0, 10.0),
                (2.0, f64::NAN),
                (5.0, 20.0),
                (8.0, 20.0),
            ],
            Style::Line,
        )
        .to_svg();
        let d = svg.split("class=\"series\" d=\"").nth(1).unwrap();
        let d = &d[..d.find('"').unwrap()];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert!(!d.contains("NaN"));
    }

    #[test]
    fn stacked_series_sit_on_the_ones_before() {
        let mut c = chart(vec![(0.5, 30.0), (1.5, 30.0)], Style::Stacked);
        c.series.push(Series {
            name: "top".into(),
            points: vec![(0.5, 20.0), (1.5, 20.0)],
            color: "#456",
            style: Style::Stacked,
        });
        let svg = c.to_svg();
        let f = Frame { x: &c.x, y: &c.y };
        // The second class's upper edge is at 30 + 20, its lower edge at 30.
        let (top, floor) = (f.py(50.0), f.py(30.0));
        let second = svg.split("class=\"series\" d=\"").nth(2).unwrap();
        assert!(
            second.starts_with(&format!("M{:.1},{top:.1}", f.px(0.5))),
            "{second}"
        );
        assert!(second.contains(&format!("L{:.1},{floor:.1} Z", f.px(0.5))));
        // Hover reads each class's own count, not the stacked height.
        assert!(second.contains("data-xy=\"0.5 20,1.5 20\""));
    }

    #[test]
    fn marks_are_drawn_in_range_and_named_when_off_scale() {
        let mut c = chart(vec![(0.0, 1.0), (10.0, 2.0)], Style::Line);
        c.marks = vec![
            Mark {
                y: 50.0,
                label: "p99 < 50ms".into(),
                color: "#c00",
            },
            Mark {
                y: 500.0,
                label: "limit 500".into(),
                color: "#c00",
            },
        ];
        let svg = c.to_svg();
        assert_eq!(svg.matches("class=\"mark\"").count(), 1);
        assert!(svg.contains("<title>p99 &lt; 50ms</title>"));
        assert!(svg.contains("limit 500 (off scale)"));
    }

    #[test]
    fn the_legend_has_its_own_line_under_the_title() {
        let mut c = chart(vec![(0.0, 1.0)], Style::Line);
        c.title = "quota a-very-long-quota-name-that-runs-across-the-chart: consumed".into();
        let svg = c.to_svg();
        let legend = svg.split("<g class=\"legend\">").nth(1).unwrap();
        assert!(
            legend.starts_with(&format!("<line x1=\"{LEFT:.1}\"")),
            "{legend}"
        );
        assert!(legend.contains(&format!("y1=\"{LEGEND_Y:.1}\"")));
    }

    #[test]
    fn a_legend_too_long_for_its_line_says_how_many_more() {
        let mut c = chart(vec![(0.0, 1.0)], Style::Line);
        for i in 0..8 {
            let mut se = c.series[0].clone();
            se.name = format!("operation-with-a-long-name-{i}");
            c.series.push(se);
        }
        let svg = c.to_svg();
        let legend = svg.split("<g class=\"legend\">").nth(1).unwrap();
        let legend = &legend[..legend.find("</g>").unwrap()];
        assert!(legend.contains(" more</text>"), "{legend}");
        let drawn = legend.matches("<line").count();
        assert!(drawn < 9 && legend.contains(&format!("+{} more", 9 - drawn)));
    }

    #[test]
    fn hover_gets_the_data_and_points_their_values() {
        let svg = chart(vec![(1.5, 12.345)], Style::Line).to_svg();
        assert!(svg.contains("data-map=\"70 690 0 10\" data-x=\"s\" data-unit=\"ms\""));
        assert!(svg.contains("data-xy=\"1.5 12.3\""));
        assert!(svg.contains("<title>s at 1.50 s: 12.3 ms</title>"));
        assert!(svg.contains("class=\"xhair\"") && svg.contains("class=\"readout\""));
    }

    #[test]
    fn empty_charts_say_so() {
        assert!(chart(vec![], Style::Line).to_svg().contains("no data"));
    }
}
