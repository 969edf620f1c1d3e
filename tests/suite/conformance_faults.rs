//! Every seeded fault of the fake is caught: each run against a faulty fake fails on the
//! rule the fault catalogue names (other rules may fail too), and exits 1 when that rule
//! is a MUST (a SHOULD failure alone is reported but does not fail the run).

use crate::conformance_support;

use conformance_support::{faults, parallel, run, ADOBE, DIDOMI};

/// Faults the Didomi suite cannot see, and why. Every other rule-breaking fault must be
/// caught by it too; a new fault must be classified here or caught.
const NOT_FOR_DIDOMI: &[(&str, &str)] = &[
    ("count-invalid", "Didomi's invalid orders carry no amount"),
    (
        "count-quota-rejected",
        "Didomi lists limits only; usage is counted from resources",
    ),
    ("daily-never-resets", "Didomi has no period quotas"),
    ("reset-local-time", "Didomi has no period quotas"),
    ("reset-rolling", "Didomi has no period quotas"),
    ("monthly-resets-daily", "Didomi has no period quotas"),
    ("partial-admit", "every Didomi order is of one unit"),
    ("filter-ignored", "Didomi's list has no filter"),
    ("unknown-filter-lists-all", "Didomi's list has no filter"),
    (
        "list-lag",
        "Didomi usage is counted from resources, which do not lag",
    ),
    (
        "tenant-leak",
        "the leak moves the fake's counters, not the resources Didomi usage is counted from",
    ),
];

fn check(suite: &str, cases: Vec<(String, String)>) {
    let results = parallel(cases, |(fault, rule)| {
        let r = run(suite, 11, &[&fault]);
        (fault, rule, r)
    });
    let mut missed = Vec::new();
    for (fault, rule, r) in &results {
        let must = r.summary["rules"]
            .as_array()
            .and_then(|rs| rs.iter().find(|x| x["id"] == rule.as_str()))
            .is_some_and(|x| x["level"] == "MUST");
        let code_ok = if must { r.code == 1 } else { r.code <= 1 };
        if !code_ok || !r.failed().contains(rule) {
            missed.push(format!(
                "{suite} --fault {fault}: expected a failure of {rule} (exit 1 if it is a MUST); got exit {} and failures {:?}\n{}",
                r.code,
                r.failed(),
                r.explain()
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n\n"));
}

fn rule_breaking() -> Vec<(String, String)> {
    let all = faults();
    assert!(all.len() >= 10, "the fault list looks truncated: {all:?}");
    all.into_iter().filter(|(_, rule)| rule != "-").collect()
}

#[test]
fn the_adobe_suite_catches_every_seeded_fault() {
    check(ADOBE, rule_breaking());
}

#[test]
fn the_didomi_suite_catches_every_fault_it_can_see() {
    let cases: Vec<_> = rule_breaking()
        .into_iter()
        .filter(|(f, _)| !NOT_FOR_DIDOMI.iter().any(|(n, _)| n == f))
        .collect();
    assert!(cases.len() >= 5, "{cases:?}");
    check(DIDOMI, cases);
}

#[test]
fn the_didomi_exemptions_name_real_faults() {
    let all = faults();
    for (name, _) in NOT_FOR_DIDOMI {
        assert!(
            all.iter().any(|(f, _)| f == name),
            "{name} is not in the catalogue"
        );
    }
}
