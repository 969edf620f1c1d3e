//! report.html renders in a real browser: headless Chromium loads it from a file:// URL
//! with networking off; its DOM holds every plot, the page loads nothing, the hover
//! readout answers a pointer, and the grid has two columns wide and one narrow. Needs
//! /usr/bin/chromium (Debian package `chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;

use quotabench::report::example::example;
use quotabench::report::export::{Exporter, HtmlExporter};

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn run(browser: &Path, profile: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// Appended to the page (after report.html's own script): what the browser loaded, the
/// page's height, whether the first two charts share a row, and what a chart's readout
/// says when the pointer moves over its middle, written onto <body> for --dump-dom.
const PROBE: &str = r#"<script>
(function () {
  var out = {};
  out.resources = performance.getEntriesByType("resource").map(function (e) { return e.name; });
  out.height = document.documentElement.scrollHeight;
  var a = document.getElementById("throughput").getBoundingClientRect();
  var b = document.getElementById("outcomes-over-time").getBoundingClientRect();
  out.same_row = Math.abs(a.top - b.top) < 1 && b.left > a.right;
  var svg = document.getElementById("latency-over-time-consume");
  var r = svg.getBoundingClientRect();
  svg.dispatchEvent(new MouseEvent("mousemove", { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 }));
  var t = svg.querySelector(".readout");
  out.readout = t.textContent;
  out.readout_shown = t.getAttribute("visibility") === "visible";
  out.hair_x = Number(svg.querySelector(".xhair").getAttribute("x1"));
  document.body.setAttribute("data-probe", JSON.stringify(out));
})();
</script>"#;

/// The page probed in a window `width` wide: the DOM and what [`PROBE`] found.
fn probe(browser: &Path, page: &Path, width: u32) -> (String, serde_json::Value) {
    let probed = page.with_file_name(format!("probed-{width}.html"));
    let html = std::fs::read_to_string(page).unwrap();
    std::fs::write(&probed, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let size = format!("--window-size={width},1000");
    let out = run(browser, profile.path(), &["--dump-dom", &size], &probed);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let attr = dom
        .split("data-probe=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("the probe did not run (a script error?)"));
    let json = attr.replace("&quot;", "\"").replace("&amp;", "&");
    (dom, serde_json::from_str(&json).unwrap())
}

#[test]
fn report_html_renders_its_plots_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!(
            "\n!!! SKIPPED report.html browser check: chromium is not installed \
             (apt-get install -y chromium) !!!\n"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, HtmlExporter.render(&example()).unwrap()).unwrap();

    let (dom, wide) = probe(&browser, &page, 1500);
    // The parsed DOM, not our bytes: the SVG survived the HTML parser as SVG elements.
    for id in [
        "throughput",
        "outcomes-over-time",
        "spectrum-consume",
        "spectrum-list",
        "latency-over-time-consume",
        "latency-over-time-list",
    ] {
        assert!(
            dom.contains(&format!("<svg id=\"{id}\"")),
            "plot {id} missing"
        );
    }
    assert!(
        dom.contains("<svg id=\"quota-orders-day-"),
        "quota plot missing"
    );
    assert!(
        !dom.contains("-snapshot\""),
        "an internal operation is charted"
    );
    // Phase bands, threshold lines and the stacked outcome classes are in the DOM.
    assert!(dom.matches("<rect class=\"band\"").count() >= 2 * 5);
    assert!(dom.contains("<line class=\"mark\""));
    assert!(dom.contains("data-name=\"rejected_quota\""));
    assert!(dom.matches("<path class=\"series\"").count() >= 2 * 2 + 2 * 3 + 2);
    // Escaped witness text arrives as text, never as a script element.
    assert!(!dom.contains("<script>alert"));
    assert!(dom.contains("&lt;script&gt;alert"));

    // Offline: the page loaded nothing at all (no http(s), no file, no data fetch).
    assert_eq!(wide["resources"], serde_json::json!([]), "{wide}");
    // Hover: the crosshair moved to the pointer and the readout says time and values.
    let readout = wide["readout"].as_str().unwrap_or_default();
    assert_eq!(wide["readout_shown"], true, "{wide}");
    assert!(wide["hair_x"].as_f64().unwrap_or(0.0) > 300.0, "{wide}");
    assert!(
        readout.contains(" s: p50 ") && readout.contains(" ms · p99 ") && readout.contains("max"),
        "readout {readout:?}"
    );
    // Two columns on a wide screen, one on a narrow one.
    assert_eq!(wide["same_row"], true, "{wide}");
    let (_, narrow) = probe(&browser, &page, 700);
    assert_eq!(narrow["same_row"], false, "{narrow}");
    let height = wide["height"].as_u64().unwrap_or(u64::MAX);
    eprintln!(
        "report.html of the example: {height} px tall at 1500 px, {} px at 700 px",
        narrow["height"]
    );
    // The example (two user operations, two quotas drawn) fits in a few screens.
    assert!(height < 4_000, "{height} px");
}
