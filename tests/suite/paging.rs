//! Paged lists against an independent Feathers-style target (tests/targets/didomi_like.py)
//! that silently caps `$limit` at a small page: the Didomi suite reads every page and
//! gives correct verdicts run after run; a read cut short (a page bound of 1, bodies cut
//! by a hostile proxy) is indeterminate — never a count, never a false failure.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{python_target as python, Target as Server};
use crate::conformance_support::{self, Run, DIDOMI};

/// The Didomi target with pages of 2 configurations (a run creates about twelve, and
/// up to three are enabled at once: both counting lists span pages).
fn capped() -> Server {
    python("didomi_like.py", &["--page-cap", "2"])
}

fn run(suite: &Path, seed: u64, addr: &str) -> Run {
    let url = format!("http://{addr}");
    conformance_support::run_with(suite.to_str().unwrap(), seed, &["--target", &url], &[])
}

fn verdicts(r: &Run) -> Vec<(String, String)> {
    r.summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().into(),
                x["verdict"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The run's history records, without the header and the closing line.
fn records(r: &Run) -> Vec<Value> {
    let text = std::fs::read_to_string(r.dir.join("history.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("outcome").is_some())
        .collect()
}

/// The list records (snapshots and listed workload), by name of a list operation.
fn lists(r: &Run) -> Vec<Value> {
    records(r)
        .into_iter()
        .filter(|v| v["name"] == "list_quotas")
        .collect()
}

/// The Didomi suite with the built-in profile changed by `edit` (a copy of both in a
/// temporary folder; the suite names the copy).
fn suite_with(edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let profile = edit(&std::fs::read_to_string("profiles/didomi.yaml").unwrap());
    std::fs::write(dir.join("didomi-edited.yaml"), profile).unwrap();
    let suite = std::fs::read_to_string(DIDOMI)
        .unwrap()
        .replace("profile: didomi\n", "profile: didomi-edited.yaml\n");
    assert!(suite.contains("didomi-edited.yaml"));
    let path = dir.join("didomi.yaml");
    std::fs::write(&path, suite).unwrap();
    path
}

#[test]
fn the_didomi_suite_reads_every_page_of_a_capped_list_and_passes_run_after_run() {
    let server = capped();
    let suite = PathBuf::from(DIDOMI);
    let mut first = None;
    for n in 1..=3 {
        let r = run(&suite, n, &server.addr);
        assert_eq!(r.code, 0, "run {n}: {}", r.explain());
        // No quiescent snapshot was cut short. (A workload list may be: the total moves
        // between its pages while enables run, and it is indeterminate, as it should.)
        let cut: Vec<Value> = lists(&r)
            .into_iter()
            .filter(|v| v["op"] == "snapshot" && v["outcome"] != "accepted")
            .collect();
        assert!(cut.is_empty(), "run {n}: {cut:?}");
        let v = verdicts(&r);
        match &first {
            None => first = Some(v),
            Some(f) => assert_eq!(&v, f, "run {n} differs from run 1"),
        }
    }
}

/// Why the test above means something: the same target and suite, with the profile's
/// `paging:` taken out (each counting list read as one page of 2), give false failures.
#[test]
fn without_paging_the_capped_target_is_judged_falsely() {
    let server = capped();
    let suite = suite_with(|p| {
        let out: String = p
            .lines()
            .filter(|l| !l.trim_start().starts_with("paging:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(out, p, "the profile declares paging");
        out
    });
    let r = run(&suite, 1, &server.addr);
    assert!(!r.failed().is_empty(), "{}", r.explain());
}

#[test]
fn a_page_bound_of_one_leaves_reads_indeterminate_never_a_count_or_a_failure() {
    let server = capped();
    let suite = suite_with(|p| {
        let out = p.replace(
            "size: 100, total: /total}",
            "size: 100, total: /total, max_pages: 1}",
        );
        assert_ne!(out, p, "the profile declares paging");
        out
    });
    let r = run(&suite, 1, &server.addr);
    assert!(r.failed().is_empty(), "a false failure: {}", r.explain());
    assert_ne!(r.code, 1, "{}", r.explain());
    let ls = lists(&r);
    let cut: Vec<&Value> = ls
        .iter()
        .filter(|v| {
            v["note"]
                .as_str()
                .is_some_and(|n| n.contains("paging.max_pages"))
        })
        .collect();
    assert!(!cut.is_empty(), "no read needed a second page: {ls:?}");
    for v in cut {
        assert_eq!(v["outcome"], "indeterminate", "{v}");
        assert!(
            v["snapshot"].is_null(),
            "a read cut short carries a count: {v}"
        );
    }
}

#[test]
fn bodies_cut_on_list_pages_are_indeterminate_never_a_false_failure() {
    let server = capped();
    let proxy = python(
        "hostile_proxy.py",
        &[
            "--upstream",
            &server.addr,
            "--seed",
            "2",
            "--share",
            "0.1",
            "--fault",
            "cut-body",
            "--only-method",
            "GET",
        ],
    );
    let r = run(Path::new(DIDOMI), 1, &proxy.addr);
    assert!(r.failed().is_empty(), "a false failure: {}", r.explain());
    let ls = lists(&r);
    assert!(
        ls.iter().any(|v| v["outcome"] == "indeterminate"),
        "the proxy cut no list read: {ls:?}"
    );
    for v in ls.iter().filter(|v| v["outcome"] == "indeterminate") {
        assert!(
            v["snapshot"].is_null(),
            "a read cut short carries a count: {v}"
        );
    }
}
