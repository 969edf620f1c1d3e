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
}

/// One line on a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points in plot units.
    pub points: Vec<(f64, f64)>,
    /// Stroke colour (a CSS colour written by us, never user data).
    pub color: &'static str,
    /// Line style.
    pub style: Style,
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
}

const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 34.0;
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
    for (i, &(x, y)) in s.points.iter().enumerate() {
        let (px, py) = (f.px(x), f.py(y));
        if i == 0 {
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

impl Chart {
    /// The chart as an `<svg>` element (no XML declaration: it is inlined in HTML).
    pub fn to_svg(&self) -> String {
        let f = Frame {
            x: &self.x,
            y: &self.y,
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" \
             role=\"img\" aria-labelledby=\"{id}-title\" {FONT} font-size=\"12\">\
             <title id=\"{id}-title\">{t}</title>\
             <rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fff\"/>\
             <text x=\"{LEFT}\" y=\"20\" font-size=\"14\" font-weight=\"600\" fill=\"#222\">{t}</text>",
            id = self.id,
            t = escape(&self.title)
        );
        let (x0, x1) = (LEFT, W - RIGHT);
        let (y0, y1) = (H - BOTTOM, TOP);
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
        for (i, se) in self.series.iter().enumerate() {
            if se.points.is_empty() {
                continue;
            }
            let dash = if matches!(se.style, Style::Dashed | Style::DashedStep) {
                " stroke-dasharray=\"6 4\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<path class=\"series\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"{dash}>\
                 <title>{}</title></path>",
                path(&f, se),
                se.color,
                escape(&se.name)
            );
            // A sparse series (a short run: one or two seconds) gets markers, else a
            // single reading would draw nothing at all.
            if se.points.len() <= 30 {
                for &(x, y) in &se.points {
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"/>",
                        f.px(x),
                        f.py(y),
                        se.color
                    );
                }
            }
            // Legend on the title line, right-aligned, so it never covers the data.
            // ~7 px per character at 12 px, plus the sample line and a gap.
            let slot = |se: &Series| 42.0 + 7.0 * se.name.chars().count() as f64;
            let lx = x1 - self.series[i..].iter().map(slot).sum::<f64>();
            let ly = 16.0;
            let _ = write!(
                s,
                "<line x1=\"{lx}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
                lx + 22.0,
                se.color,
                lx + 28.0,
                ly + 4.0,
                escape(&se.name)
            );
        }
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
    fn empty_charts_say_so() {
        assert!(chart(vec![], Style::Line).to_svg().contains("no data"));
    }
}
