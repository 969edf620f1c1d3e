//! The target's clock (issue #13, items 3 and 4): the run places operations in the
//! target's periods through the profile's clock read, and `probe: reset` with `wait:`
//! checks a real boundary on a target whose clock cannot be moved — here a Python target
//! whose UTC clock is set a few seconds before its own midnight, so nothing waits for ours.

use crate::common::{python_target, rule, Target as Server};
use crate::conformance_support::{self, Run};

/// `adobe_like.py` with its clock at `at` (RFC 3339) now, readable at GET /__admin/clock.
fn adobe_at(at: &str) -> Server {
    let target = at.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let offset = (target - jiff::Timestamp::now().as_millisecond()) as f64 / 1000.0;
    python_target(
        "adobe_like.py",
        &[
            "--max-seconds",
            "120",
            "--clock-offset",
            &format!("{offset:.3}"),
        ],
    )
}

/// A suite of one reset probe with `wait`, against `url`.
fn wait_suite(dir: &std::path::Path, wait: &str) -> std::path::PathBuf {
    let path = dir.join("wait.yaml");
    std::fs::write(
        &path,
        format!(
            "name: real-boundary\n\
             target:\n  profile: adobe-hygiene\n  tenant: qb-org\n  timeout: 5s\n  \
             headers: {{Authorization: Bearer t, x-api-key: k}}\n\
             phases:\n  - name: reset\n    probe: reset\n    wait: {wait}\n"
        ),
    )
    .unwrap();
    path
}

fn verdict<'a>(r: &'a Run, id: &str) -> (&'a str, &'a str) {
    let v = rule(&r.summary, id);
    (
        v["verdict"].as_str().unwrap_or(""),
        v["witness"].as_str().unwrap_or(""),
    )
}

#[test]
fn the_adobe_suite_passes_on_a_virtual_clock_far_from_the_wall_clock() {
    // mocks/virtual.yaml starts the fake at 2025-01-31T23:00Z: before the clock read the
    // correct fake failed limit.never-exceeded and both reset rules here.
    let r = conformance_support::run("scenarios/examples/adobe-virtual-clock.yaml", 7, &[]);
    assert_eq!(r.code, 0, "{}", r.explain());
    for id in [
        "limit.never-exceeded",
        "reset.period-boundary",
        "reset.monthly-not-daily",
    ] {
        assert_eq!(verdict(&r, id).0, "pass", "{id}: {}", r.explain());
    }
    assert_eq!(
        r.summary["target"]["time"],
        "read from the target (read_clock)"
    );
}

#[test]
fn a_reset_probe_waits_for_the_targets_own_midnight() {
    // Ten seconds before the target's midnight (room for a slow start on a loaded
    // machine) on a day that starts no month: the
    // daily counter must reset there and the monthly one must not.
    let server = adobe_at("2026-06-15T23:59:50Z");
    let dir = tempfile::tempdir().unwrap();
    let suite = wait_suite(dir.path(), "30s");
    let r =
        conformance_support::run_with(suite.to_str().unwrap(), 1, &["--target", &server.url], &[]);
    let (v, w) = verdict(&r, "reset.period-boundary");
    assert_eq!(v, "pass", "{w}\n{}", r.explain());
    let (v, w) = verdict(&r, "reset.monthly-not-daily");
    assert_eq!(v, "pass", "{w}");
    // The plan says the probe waits, and for which boundary.
    let notes = r.summary["plan"]["entries"].to_string();
    assert!(
        notes.contains("for the next daily boundary 2026-06-16T00:00:00Z"),
        "{notes}"
    );
}

#[test]
fn a_boundary_beyond_the_wait_skips_the_reset_rules_naming_it() {
    let server = adobe_at("2026-06-15T22:50:00Z");
    let dir = tempfile::tempdir().unwrap();
    let suite = wait_suite(dir.path(), "15m");
    let r =
        conformance_support::run_with(suite.to_str().unwrap(), 1, &["--target", &server.url], &[]);
    for id in ["reset.period-boundary", "reset.monthly-not-daily"] {
        let (v, w) = verdict(&r, id);
        assert_eq!(v, "skipped", "{id}: {w}");
        assert!(
            w.starts_with("next daily boundary 2026-06-16T00:00:00Z is in 1h")
                && w.ends_with("beyond wait: 15m"),
            "{id}: {w}"
        );
    }
    // Nothing was sent for the probe: it did not wait for a boundary it cannot reach.
    let sent = &r.summary["operations"]["probe.reset"]["count"];
    assert!(sent.is_null() || sent == 0, "{sent}");
    assert_eq!(
        r.summary["target"]["time"],
        "read from the target (read_clock)"
    );
}
