//! junit.xml for CI test-report views: one testsuite per phase, then one for the run.
//!
//! A rule is judged over the whole history, but its witness cites operations, and those
//! belong to a phase: a rule's testcase sits in the suite of the phase its evidence points
//! at, so a CI view shows *where* a rule broke. Verdicts whose evidence spans the run
//! (every pass, most unknowns) and every threshold (thresholds measure the whole run) sit
//! in the final `run` suite. Each phase suite carries that phase's delivery (asked vs
//! achieved rate) as properties: an exporter reports verdicts, it does not invent them.

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use super::Exporter;
use crate::check::RuleVerdict;
use crate::error::Error;
use crate::report::{Report, ThresholdResult};
use crate::vocab::Verdict;

/// Writes junit.xml.
pub struct JunitExporter;

fn status(verdict: Verdict, message: &str, body: Option<&str>) -> TestCaseStatus {
    let mut s = match verdict {
        Verdict::Pass => return TestCaseStatus::success(),
        Verdict::Skipped => TestCaseStatus::skipped(),
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("fail");
            s
        }
        // Unknown is neither pass nor fail: an error element keeps it visible in CI views.
        Verdict::Unknown => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("unknown");
            s
        }
    };
    s.set_message(message);
    if let Some(b) = body {
        s.set_description(b);
    }
    s
}

/// The suite for what rests on the whole run: thresholds and rules without a phase.
const RUN_SUITE: &str = "run";

fn rule_case(scenario: &str, suite: &str, r: &RuleVerdict) -> TestCase {
    let witness = r.witness.as_deref().unwrap_or("no witness recorded");
    let body = r.reproduce.as_ref().map(|c| format!("reproduce: {c}"));
    let mut tc = TestCase::new(r.id.as_str(), status(r.verdict, witness, body.as_deref()));
    tc.set_classname(format!("{scenario}.{suite}"));
    tc.add_property(Property::new("level", r.level.as_str()));
    if !r.ops.is_empty() {
        let ops: Vec<String> = r.ops.iter().map(|o| format!("#{o}")).collect();
        tc.add_property(Property::new("ops", ops.join(" ")));
    }
    tc
}

/// The phase suite a rule's testcase belongs in; `None` for the run suite (also when a
/// history re-judged offline names a phase the report does not list).
fn phase_of<'a>(r: &Report, v: &'a RuleVerdict) -> Option<&'a str> {
    v.phase
        .as_deref()
        .filter(|p| r.phases.iter().any(|ph| ph.name == *p))
}

fn threshold_case(scenario: &str, t: &ThresholdResult) -> TestCase {
    let measured = match t.value {
        Some(_) => format!("measured {}", t.shown()),
        None => "no data for this metric".into(),
    };
    let mut tc = TestCase::new(
        t.threshold.as_str(),
        status(t.verdict, &format!("{}: {measured}", t.threshold), None),
    );
    tc.set_classname(format!("{scenario}.{RUN_SUITE}"));
    tc
}

impl Exporter for JunitExporter {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(&self, r: &Report) -> Result<Vec<u8>, Error> {
        let mut report = quick_junit::Report::new(format!("quotabench {}", r.scenario));
        report.set_time(std::time::Duration::from_secs_f64(r.duration_s.max(0.0)));

        let mut suites = Vec::with_capacity(r.phases.len() + 1);
        for p in &r.phases {
            let mut suite = TestSuite::new(p.name.as_str());
            suite.add_test_cases(
                r.rules
                    .iter()
                    .filter(|v| phase_of(r, v) == Some(p.name.as_str()))
                    .map(|v| rule_case(&r.scenario, &p.name, v)),
            );
            let achieved = p.achieved_per_second();
            let asked = p
                .asked_rate
                .map_or("closed".into(), |a| format!("{a:.1}/s"));
            suite.add_property(Property::new(
                "delivery",
                format!(
                    "asked {asked}, achieved {achieved:.1}/s, late {}, dropped {}",
                    p.late, p.dropped
                ),
            ));
            suites.push(suite);
        }

        let mut run = TestSuite::new(RUN_SUITE);
        run.add_test_cases(
            r.rules
                .iter()
                .filter(|v| phase_of(r, v).is_none())
                .map(|v| rule_case(&r.scenario, RUN_SUITE, v)),
        );
        run.add_test_cases(r.thresholds.iter().map(|t| threshold_case(&r.scenario, t)));
        if r.interrupted {
            // A CI view of an interrupted run must not be all green: the stop is a case
            // of its own, neither pass nor fail.
            let mut tc = TestCase::new(
                "interrupted",
                status(Verdict::Unknown, crate::report::INTERRUPTED_BANNER, None),
            );
            tc.set_classname(format!("{}.{RUN_SUITE}", r.scenario));
            run.add_test_case(tc);
        }
        if let Some(w) = &r.history_write {
            // The run is an error (exit 2): a case of its own, where it stopped its message.
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error");
            s.set_message(w.said());
            let mut tc = TestCase::new("history_write", s);
            tc.set_classname(format!("{}.{RUN_SUITE}", r.scenario));
            run.add_test_case(tc);
        }
        for b in &r.banners {
            run.add_property(Property::new("banner", b.text.as_str()));
        }
        run.add_property(Property::new("target", r.target.url.as_str()));
        run.add_property(Property::new("profile", r.target.profile.as_str()));
        if r.target.insecure {
            run.add_property(Property::new("insecure", "true"));
        }
        if let Some(p) = &r.target.proxy {
            run.add_property(Property::new("proxy", p.as_str()));
        }
        if let Some(i) = &r.target.implementation {
            let name = match &i.version {
                Some(v) => format!("{} {v}", i.name),
                None => i.name.clone(),
            };
            run.add_property(Property::new("implementation", name));
        }
        suites.push(run);

        report.add_test_suites(suites);
        report
            .to_string()
            .map(String::into_bytes)
            .map_err(|e| Error::Target(format!("cannot render junit.xml: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;

    fn xml() -> String {
        String::from_utf8(JunitExporter.render(&example()).unwrap()).unwrap()
    }

    #[test]
    fn one_case_per_rule_and_threshold_with_the_right_element() {
        let x = xml();
        let parsed = quick_junit::Report::deserialize_from_str(&x).unwrap();
        let names: Vec<&str> = parsed.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["warmup", "steady", "run"]);
        let cases = |i: usize| -> Vec<&str> {
            parsed.test_suites[i]
                .test_cases
                .iter()
                .map(|c| c.name.as_str())
                .collect()
        };
        // The failure cites operations of the "steady" phase; the rest rests on the run.
        assert!(cases(0).is_empty());
        assert_eq!(cases(1), ["limits.reject-when-full"]);
        assert_eq!(
            cases(2),
            [
                "limits.never-exceeded",
                "resets.on-period-boundary",
                "listing.filter",
                "p99(list) < 50ms",
                "p99(consume) < 20ms"
            ]
        );
        assert_eq!(parsed.test_suites[1].failures, 1);
        assert_eq!(parsed.test_suites[2].errors, 1);
        assert_eq!(parsed.test_suites[2].failures, 1);
        assert_eq!(
            parsed.test_suites[1].test_cases[0].classname.as_deref(),
            Some("example.steady")
        );
        assert!(x.contains("<skipped message=\"the profile declares no list filter\""));
        assert!(x.contains("type=\"unknown\""));
    }

    #[test]
    fn an_interrupted_run_is_never_all_green() {
        let mut r = example();
        r.interrupted = true;
        let x = String::from_utf8(JunitExporter.render(&r).unwrap()).unwrap();
        let case = x
            .split("<testcase name=\"interrupted\"")
            .nth(1)
            .expect("{x}");
        let case = &case[..case.find("</testcase>").unwrap()];
        assert!(
            case.contains("<error") && case.contains("type=\"unknown\""),
            "{case}"
        );
        r.interrupted = false;
        let x = String::from_utf8(JunitExporter.render(&r).unwrap()).unwrap();
        assert!(!x.contains("<testcase name=\"interrupted\""));
    }

    #[test]
    fn failure_message_is_the_witness_and_body_the_reproduce_command() {
        let x = xml();
        let parsed = quick_junit::Report::deserialize_from_str(&x).unwrap();
        let case = &parsed.test_suites[1].test_cases[0];
        match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message,
                description,
                ..
            } => {
                assert!(message.as_ref().unwrap().as_str().contains("<script>alert"));
                assert!(description
                    .as_ref()
                    .unwrap()
                    .as_str()
                    .starts_with("reproduce: curl"));
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        // Escaped in the bytes, not raw.
        assert!(!x.contains("<script>"));
    }
}
