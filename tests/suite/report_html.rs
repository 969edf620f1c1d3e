//! report.html renders in a real browser: headless Chromium loads it from a file:// URL
//! with networking off, and its DOM holds every plot. Needs /usr/bin/chromium (Debian
//! package `chromium`). The screenshot is kept at target/tmp/report_html.png.

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
    let profile = tempfile::tempdir().unwrap();

    let out = run(&browser, profile.path(), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The parsed DOM, not our bytes: the SVG survived the HTML parser as SVG elements.
    for id in [
        "spectrum-consume",
        "spectrum-list",
        "latency-over-time-consume",
        "throughput-consume",
        "latency-over-time-list",
        "throughput-list",
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
    assert!(dom.matches("<path class=\"series\"").count() >= 2 * 2 + 2 * 4 + 2);
    // Escaped witness text arrives as text, never as a script element.
    assert!(!dom.contains("<script"));
    assert!(dom.contains("&lt;script&gt;alert"));

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html.png");
    let _ = std::fs::remove_file(&shot);
    let arg = format!("--screenshot={}", shot.display());
    let out = run(
        &browser,
        profile.path(),
        &[&arg, "--window-size=1500,3200"],
        &page,
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 20_000,
        "no screenshot ({size} bytes): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
