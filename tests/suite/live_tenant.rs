//! Conformance against a live, long-lived tenant: the budget plan (phases that need room
//! run while it exists; a tenant without room is named, exit 3), cleanup (consecutive
//! runs on one server give the same verdicts) and isolation in both directions — judged
//! against the standalone fake and against the independent Python targets.

use crate::common::{python_target as python, Target as Server};
use crate::conformance_support::{self, Run, ADOBE, DIDOMI};

/// `quotabench fake --listen 127.0.0.1:0 [args]`.
fn fake(args: &[&str]) -> Server {
    let (child, url) = crate::common::standalone_fake(args);
    Server::new(child, url)
}

fn run(suite: &str, seed: u64, url: &str) -> Run {
    conformance_support::run_with(suite, seed, &["--target", url], &[])
}

fn verdicts(r: &Run) -> Vec<(String, String)> {
    r.summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn plan_entry<'a>(r: &'a Run, phase: &str, quota: &str) -> &'a serde_json::Value {
    r.summary["plan"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["phase"] == phase && e["quota"] == quota)
        .unwrap_or_else(|| panic!("no plan entry {phase}/{quota}: {}", r.summary["plan"]))
}

const DAILY: &str = "dailyConsumerDeleteIdentitiesQuota";

#[test]
fn five_didomi_runs_on_one_standalone_fake_give_the_same_verdicts() {
    let server = fake(&[]);
    let mut first = None;
    for n in 1..=5 {
        let r = run(DIDOMI, n, &server.url);
        assert_eq!(r.code, 0, "run {n}: {}\n{}", r.explain(), r.summary["plan"]);
        assert!(
            r.summary["plan"]["left_behind"].is_null(),
            "run {n} left objects behind: {}",
            r.summary["plan"]
        );
        let v = verdicts(&r);
        match &first {
            None => first = Some(v),
            Some(f) => assert_eq!(&v, f, "run {n} differs from run 1"),
        }
    }
}

/// The standalone fake keeps a real clock: the first run uses the day's delete budget
/// (its race and boundary need the limit), so every later run that day lacks room. Each
/// says so — the quota, what it needs, what remains, when it resets — and exits 3 with
/// the same verdicts, never a vacuous pass; and none leaves an object behind.
#[test]
fn five_adobe_runs_on_one_standalone_fake_name_the_exhausted_day_after_the_first() {
    let server = fake(&[]);
    let first = run(ADOBE, 1, &server.url);
    assert_eq!(
        first.code,
        0,
        "{}\n{}",
        first.explain(),
        first.summary["plan"]
    );
    let mut later = None;
    for n in 2..=5 {
        let r = run(ADOBE, n, &server.url);
        assert_eq!(r.code, 3, "run {n}: {}", r.summary["plan"]);
        assert_eq!(r.summary["verdict"], "unknown");
        assert!(
            r.summary["plan"]["left_behind"].is_null(),
            "{}",
            r.summary["plan"]
        );
        let short = r.summary["plan"]["shortfalls"].as_array().unwrap();
        let race = short
            .iter()
            .filter_map(|s| s.as_str())
            .find(|s| s.starts_with("phase race") && s.contains(DAILY))
            .unwrap_or_else(|| panic!("{short:?}"));
        assert!(race.contains("needs 1 unit"), "{race}");
        assert!(race.contains("0 remain"), "{race}");
        assert!(race.contains("the next UTC day"), "{race}");
        let v = (verdicts(&r), short.clone());
        match &later {
            None => later = Some(v),
            Some(f) => assert_eq!(&v, f, "run {n} differs from run 2"),
        }
    }
}

#[test]
fn the_adobe_suite_passes_a_live_target_without_a_clock_hook_and_its_race_had_room() {
    let server = python("adobe_like.py", &[]);
    let r = run(ADOBE, 1, &server.url);
    assert_eq!(r.code, 0, "{}\n{}", r.explain(), r.summary["plan"]);
    let order: Vec<&str> = r.summary["plan"]["order"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    let at = |p: &str| order.iter().position(|x| *x == p).unwrap();
    assert!(at("race") < at("boundary"), "{order:?}");
    let race = plan_entry(&r, "race", DAILY);
    assert!(race["needs"].as_u64().unwrap() >= 1, "{race}");
    assert!(
        race["found"].as_u64().unwrap() >= 1,
        "the race found no room: {race}"
    );
    assert_eq!(
        conformance_support_rule(&r, "isolation.tenants"),
        "pass",
        "{}",
        r.explain()
    );
}

fn conformance_support_rule(r: &Run, id: &str) -> String {
    r.summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .map(|x| x["verdict"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn a_check_then_act_race_on_a_live_target_is_caught_on_the_daily_quota() {
    let server = python("adobe_like.py", &["--bug", "race"]);
    let r = run(ADOBE, 1, &server.url);
    assert_eq!(r.code, 1, "{}", r.explain());
    let rule = r.summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "limit.never-exceeded")
        .unwrap();
    assert_eq!(rule["verdict"], "fail", "{}", r.explain());
    assert!(
        rule["witness"].as_str().unwrap().contains(DAILY),
        "{}",
        rule["witness"]
    );
}

#[test]
fn tenants_sharing_their_counts_fail_isolation() {
    let server = python("adobe_like.py", &["--bug", "shared-tenants"]);
    let r = run(ADOBE, 1, &server.url);
    assert_eq!(r.code, 1, "{}", r.explain());
    assert_eq!(
        conformance_support_rule(&r, "isolation.tenants"),
        "fail",
        "{}",
        r.explain()
    );
}

#[test]
fn the_didomi_suite_leaves_a_live_target_clean() {
    let server = python("didomi_like.py", &[]);
    for n in 1..=2 {
        let r = run(DIDOMI, n, &server.url);
        assert_eq!(r.code, 0, "run {n}: {}", r.explain());
        assert!(
            r.summary["plan"]["left_behind"].is_null(),
            "{}",
            r.summary["plan"]
        );
    }
    // Nothing of the run's is left: no configuration on either tenant.
    for org in ["quotabench-org", "quotabench-other-org"] {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("{}/v1/exports/configs?organization_id={org}", server.url);
        let body = rt.block_on(async {
            reqwest::Client::new()
                .get(url)
                .header("authorization", "Bearer local-dev-token")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["total"], 0, "{org}: {body}");
    }
}
