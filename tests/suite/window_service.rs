//! The window service (tests/targets/window_service.py): a third-party-style quota
//! service with fixed windows that start at a key's first hit, limits and counters on two
//! endpoints, counters absent until hit and no authentication — judged with the vendor
//! profile tests/targets/window-service.profile.yaml. Correct: exit 0 (auth.required
//! skipped because the profile says `auth: none`); each seeded bug: exit 1 by the rule
//! the service's own `--list-bugs` names.

use std::process::Command;

use crate::common::{python_target, Target as Server};
use crate::conformance_support::{self, Run};

const SUITE: &str = "tests/targets/window-service.scenario.yaml";
fn service(args: &[&str]) -> Server {
    python_target("window_service.py", args)
}

fn run_against(args: &[&str]) -> Run {
    let s = service(args);
    conformance_support::run_with(SUITE, 1, &["--target", &s.url], &[])
}

fn rule<'a>(r: &'a Run, id: &str) -> &'a serde_json::Value {
    r.summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// The bug table, as the service prints it: (bug, rule that must catch it).
fn bugs() -> Vec<(String, String)> {
    let out = Command::new("python3")
        .args(["tests/targets/window_service.py", "--list-bugs"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap().into(), f.next().unwrap().into())
        })
        .collect()
}

#[test]
fn the_correct_window_service_passes_with_auth_skipped_for_its_declared_reason() {
    let r = run_against(&[]);
    assert_eq!(r.code, 0, "{}", r.explain());
    let auth = rule(&r, "auth.required");
    assert_eq!(auth["verdict"], "skipped");
    assert!(
        auth["witness"].as_str().unwrap().contains("auth: none"),
        "{auth}"
    );
    // The windows were judged, not skipped: each instance on its own.
    for id in [
        "limit.never-exceeded",
        "accounting.exact",
        "rejected.quota-not-counted",
        "rejected.invalid-not-counted",
        "reset.period-boundary",
    ] {
        assert_eq!(rule(&r, id)["verdict"], "pass", "{id}: {}", rule(&r, id));
    }
    let limit = rule(&r, "limit.never-exceeded").to_string();
    assert!(limit.contains("window ending at"), "{limit}");
}

#[test]
fn each_seeded_bug_of_the_window_service_fails_the_rule_its_table_names() {
    let table = bugs();
    assert_eq!(table.len(), 5, "{table:?}");
    // One service per bug, run side by side: each run is about 20 s of windows.
    let runs: Vec<(String, String, Run)> = std::thread::scope(|s| {
        let hs: Vec<_> = table
            .iter()
            .map(|(bug, id)| {
                s.spawn(move || (bug.clone(), id.clone(), run_against(&["--bug", bug])))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (bug, id, r) in &runs {
        assert_eq!(r.code, 1, "--bug {bug}: {}", r.explain());
        assert!(
            r.failed().contains(id),
            "--bug {bug} must fail {id}; failed {:?}: {}",
            r.failed(),
            r.explain()
        );
    }
}

/// `profile check` warns when a declared quota appears in no list answer: here the
/// service lists a counter only once hit, and the profile lacks `absent: zero`.
#[test]
fn profile_check_warns_about_declared_quotas_no_list_answer_showed() {
    let s = service(&[]);
    let text = std::fs::read_to_string("tests/targets/window-service.profile.yaml").unwrap();
    assert!(text.contains("absent: zero"));
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("no-absent.yaml");
    std::fs::write(&bare, text.replace("absent: zero", "# absent: zero")).unwrap();
    // A namespace per check: the first check's hits open windows in its own.
    let check = |profile: &std::path::Path, ns: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_quotabench"))
            .args(["profile", "check"])
            .arg(profile)
            .args(["--target", &s.url, "--tenant", ns])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = check(&bare, "ns-bare");
    assert_eq!(code, Some(0), "{out}");
    for q in ["calls", "uploads"] {
        assert!(
            out.contains(&format!(
                "warning: declared quota {q} appeared in no list answer"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("but 2 of 2 declared quotas never appeared"),
        "{out}"
    );
    let (code, out) = check(
        std::path::Path::new("tests/targets/window-service.profile.yaml"),
        "ns-declared",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("warning"), "{out}");
    assert!(out.contains("calls 0/100, uploads 0/100"), "{out}");
}
