//! The bug matrix: each built-in suite against the independent implementation of its
//! API (`tests/targets/*_like.py`, written apart from the fake, no clock hook, a fresh
//! long-lived server per run), correct and with every seeded bug its `--list-bugs`
//! names. Correct: exit 0, or 3 only with every unknown rule giving its reason, and no
//! rule failing. Each bug: exit 1, and failed *by the rule the bug list names*.
//!
//! Runs go two at a time (each takes 3–5 s), so a suite's matrix costs about
//! `modes / 2 × 5 s` whatever the machine.

use std::process::Command;
use std::sync::Mutex;

use crate::common::{python_target, Target as Server};
use crate::conformance_support::{self, Run, ADOBE, DIDOMI};

/// Runs in flight at once, per suite.
const PARALLEL: usize = 2;
fn python(script: &str, bug: Option<&str>) -> Server {
    match bug {
        Some(b) => python_target(script, &["--bug", b]),
        None => python_target(script, &[]),
    }
}

/// `(bug, rule that must catch it)` from the target's own `--list-bugs`.
fn bugs(script: &str) -> Vec<(String, String)> {
    let out = Command::new("python3")
        .arg(format!("tests/targets/{script}"))
        .arg("--list-bugs")
        .output()
        .expect("python3 runs the independent targets");
    assert!(out.status.success(), "{script} --list-bugs failed");
    let list: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut f = l.split('\t');
            let (name, rule) = (f.next().unwrap(), f.next().unwrap_or(""));
            (name.to_string(), rule.to_string())
        })
        .collect();
    assert!(!list.is_empty(), "{script} lists no bug");
    list
}

fn rule<'a>(r: &'a Run, id: &str) -> Option<&'a serde_json::Value> {
    r.summary["rules"]
        .as_array()?
        .iter()
        .find(|x| x["id"] == id)
}

/// What is wrong with one run, if anything.
fn judge_mode(suite: &str, bug: Option<&(String, String)>, r: &Run) -> Option<String> {
    let mode = bug.map_or("correct", |b| b.0.as_str());
    let why = || format!("{suite} {mode}: exit {}\n{}", r.code, r.explain());
    match bug {
        None => {
            let failed = r.failed();
            if !failed.is_empty() || !matches!(r.code, 0 | 3) {
                return Some(format!("{} (expected 0, or 3 with reasons)", why()));
            }
            let silent: Vec<&str> = r.summary["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["verdict"] == "unknown" || x["verdict"] == "skipped")
                .filter(|x| x["witness"].as_str().is_none_or(|w| w.trim().is_empty()))
                .filter_map(|x| x["id"].as_str())
                .collect();
            (!silent.is_empty()).then(|| format!("{}: no reason given for {silent:?}", why()))
        }
        Some((_, id)) => {
            let verdict = rule(r, id).map(|x| x["verdict"].clone());
            (r.code != 1 || verdict.as_ref().is_none_or(|v| v != "fail")).then(|| {
                format!(
                    "{}\n(expected exit 1 by {id}, which was {verdict:?})",
                    why()
                )
            })
        }
    }
}

/// The differential guard of segmented judging (`check::segment`): the run's history
/// judged in segments of 50, 200 and 1,000 records gives every rule the verdict judging
/// it whole gives (a rule that rests on a whole-run aggregate: unknown, with why). In
/// process, from the file the run wrote: no more runs.
fn segmented_differs(suite: &str, mode: &str, r: &Run) -> Vec<String> {
    use quotabench::check::{judge_file, segmented_unknown, SegmentOpts, DEFAULT_MAX_INDEFINITE};
    let path = r.dir.join("history.jsonl");
    let (h, _) = quotabench::history::load_in_order(&path).expect("the run's history");
    let whole = quotabench::check::judge(&h, &[]);
    let mut out = Vec::new();
    for n in [50, 200, 1000] {
        let s = judge_file(
            &path,
            &[],
            DEFAULT_MAX_INDEFINITE,
            SegmentOpts::with_records(n),
        )
        .expect("judged in segments");
        if n == 50 && s.segments < 2 {
            out.push(format!("{suite} {mode}: {} records were not cut into segments of {n}: the comparison proves nothing", s.records));
        }
        for (a, b) in whole.iter().zip(&s.rules) {
            // Never a guess: unknown with why, for a rule on a whole-run aggregate.
            let unsure = s.segments > 1
                && b.verdict == quotabench::vocab::Verdict::Unknown
                && segmented_unknown(&h.header, &a.id).is_some()
                && b.witness
                    .as_deref()
                    .is_some_and(|w| w.contains("no segment holds whole"));
            let expected = a.verdict;
            if b.verdict != expected && !unsure {
                out.push(format!(
                    "{suite} {mode}: judged in {} segments of {n}, {} is {:?} (expected {expected:?}); whole: {:?}; segmented: {:?}",
                    s.segments, a.id, b.verdict, a.witness, b.witness
                ));
            }
        }
    }
    out
}

/// Every mode of `script` against `suite`, `PARALLEL` at a time; every problem found.
fn matrix(suite: &str, script: &str) -> Vec<String> {
    let bugs = bugs(script);
    let modes: Vec<Option<&(String, String)>> =
        std::iter::once(None).chain(bugs.iter().map(Some)).collect();
    let next = Mutex::new(modes.into_iter());
    let problems = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..PARALLEL {
            s.spawn(|| loop {
                let Some(bug) = next.lock().unwrap().next() else {
                    return;
                };
                let server = python(script, bug.map(|b| b.0.as_str()));
                let r = conformance_support::run_with(suite, 1, &["--target", &server.url], &[]);
                drop(server);
                if let Some(p) = judge_mode(suite, bug, &r) {
                    problems.lock().unwrap().push(p);
                }
                let mode = bug.map_or("correct", |b| b.0.as_str());
                problems
                    .lock()
                    .unwrap()
                    .extend(segmented_differs(suite, mode, &r));
            });
        }
    });
    problems.into_inner().unwrap()
}

#[test]
fn the_didomi_suite_passes_didomi_like_and_catches_each_seeded_bug_by_its_rule() {
    let problems = matrix(DIDOMI, "didomi_like.py");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_adobe_suite_passes_adobe_like_and_catches_each_seeded_bug_by_its_rule() {
    let problems = matrix(ADOBE, "adobe_like.py");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
