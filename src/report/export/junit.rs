//! junit.xml for CI test-report views: one testsuite per phase, then one for the run.
//!
//! A rule is judged over the whole history, but its witness cites operations, and those
//! belong to a phase: a rule's testcase sits in the suite of the phase its evidence points
//! at, so a CI view shows *where* a rule broke. Verdicts whose evidence spans the run
//! (every pass, most unknowns) and every threshold (thresholds measure the whole run) sit
//! in the final `run` suite. Each phase suite carries that phase's delivery (asked vs
//! achieved rate) as properties: an exporter reports verdicts, it does not invent them.

mod xml;

use super::Exporter;
use crate::check::RuleVerdict;
use crate::error::Error;
use crate::report::{Report, ThresholdResult};
use crate::vocab::Verdict;

/// Writes junit.xml.
pub struct JunitExporter;

/// What became of one testcase, as junit.xml says it.
enum Status {
    Pass,
    /// The element (`failure`, `error`, `skipped`), its `type` attribute when it has
    /// one, its message and its body.
    NotPassed {
        element: &'static str,
        kind: Option<&'static str>,
        message: String,
        body: Option<String>,
    },
}

fn status(verdict: Verdict, message: &str, body: Option<String>) -> Status {
    let (element, kind) = match verdict {
        Verdict::Pass => return Status::Pass,
        Verdict::Skipped => ("skipped", None),
        Verdict::Fail => ("failure", Some("fail")),
        // Unknown is neither pass nor fail: an error element keeps it visible in CI views.
        Verdict::Unknown => ("error", Some("unknown")),
    };
    Status::NotPassed {
        element,
        kind,
        message: message.to_string(),
        body,
    }
}

struct Case {
    name: String,
    classname: String,
    properties: Vec<(&'static str, String)>,
    status: Status,
}

impl Case {
    fn element(&self) -> Option<&'static str> {
        match &self.status {
            Status::Pass => None,
            Status::NotPassed { element, .. } => Some(element),
        }
    }
}

/// One testsuite; its counts are taken from its cases when written.
struct Suite {
    name: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
}

impl Suite {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            properties: Vec::new(),
            cases: Vec::new(),
        }
    }

    fn count(&self, element: &str) -> usize {
        self.cases
            .iter()
            .filter(|c| c.element() == Some(element))
            .count()
    }
}

/// The suite for what rests on the whole run: thresholds and rules without a phase.
const RUN_SUITE: &str = "run";

fn rule_case(scenario: &str, suite: &str, r: &RuleVerdict) -> Case {
    let witness = r.witness.as_deref().unwrap_or("no witness recorded");
    let body = r.reproduce.as_ref().map(|c| format!("reproduce: {c}"));
    let mut properties = vec![("level", r.level.as_str().to_string())];
    if !r.ops.is_empty() {
        let ops: Vec<String> = r.ops.iter().map(|o| format!("#{o}")).collect();
        properties.push(("ops", ops.join(" ")));
    }
    Case {
        name: r.id.as_str().to_string(),
        classname: format!("{scenario}.{suite}"),
        properties,
        status: status(r.verdict, witness, body),
    }
}

/// The phase suite a rule's testcase belongs in; `None` for the run suite (also when a
/// history re-judged offline names a phase the report does not list).
fn phase_of<'a>(r: &Report, v: &'a RuleVerdict) -> Option<&'a str> {
    v.phase
        .as_deref()
        .filter(|p| r.phases.iter().any(|ph| ph.name == *p))
}

fn threshold_case(scenario: &str, t: &ThresholdResult) -> Case {
    let measured = match t.value {
        Some(_) => format!("measured {}", t.shown()),
        None => "no data for this metric".into(),
    };
    Case {
        name: t.threshold.to_string(),
        classname: format!("{scenario}.{RUN_SUITE}"),
        properties: Vec::new(),
        status: status(t.verdict, &format!("{}: {measured}", t.threshold), None),
    }
}

/// The suites of a report: one per phase, then the run's.
fn suites(r: &Report) -> Vec<Suite> {
    let mut suites = Vec::with_capacity(r.phases.len() + 1);
    for p in &r.phases {
        let mut suite = Suite::new(&p.name);
        suite.cases.extend(
            r.rules
                .iter()
                .filter(|v| phase_of(r, v) == Some(p.name.as_str()))
                .map(|v| rule_case(&r.scenario, &p.name, v)),
        );
        let achieved = p.achieved_per_second();
        let asked = p
            .asked_rate
            .map_or("closed".into(), |a| format!("{a:.1}/s"));
        suite.properties.push((
            "delivery",
            format!(
                "asked {asked}, achieved {achieved:.1}/s, late {}, dropped {}",
                p.late, p.dropped
            ),
        ));
        suites.push(suite);
    }

    let mut run = Suite::new(RUN_SUITE);
    let classname = format!("{}.{RUN_SUITE}", r.scenario);
    run.cases.extend(
        r.rules
            .iter()
            .filter(|v| phase_of(r, v).is_none())
            .map(|v| rule_case(&r.scenario, RUN_SUITE, v)),
    );
    run.cases
        .extend(r.thresholds.iter().map(|t| threshold_case(&r.scenario, t)));
    if r.interrupted {
        // A CI view of an interrupted run must not be all green: the stop is a case
        // of its own, neither pass nor fail.
        run.cases.push(Case {
            name: "interrupted".into(),
            classname: classname.clone(),
            properties: Vec::new(),
            status: status(Verdict::Unknown, crate::report::INTERRUPTED_BANNER, None),
        });
    }
    if let Some(w) = &r.history_write {
        // The run is an error (exit 2): a case of its own, where it stopped its message.
        run.cases.push(Case {
            name: "history_write".into(),
            classname,
            properties: Vec::new(),
            status: Status::NotPassed {
                element: "error",
                kind: Some("error"),
                message: w.said(),
                body: None,
            },
        });
    }
    for b in &r.banners {
        run.properties.push(("banner", b.text.clone()));
    }
    run.properties.push(("target", r.target.url.clone()));
    run.properties.push(("profile", r.target.profile.clone()));
    if r.target.insecure {
        run.properties.push(("insecure", "true".into()));
    }
    if let Some(p) = &r.target.proxy {
        run.properties.push(("proxy", p.clone()));
    }
    if let Some(i) = &r.target.implementation {
        let name = match &i.version {
            Some(v) => format!("{} {v}", i.name),
            None => i.name.clone(),
        };
        run.properties.push(("implementation", name));
    }
    suites.push(run);
    suites
}

fn write_properties(w: &mut xml::Writer, properties: &[(&'static str, String)]) {
    if properties.is_empty() {
        return;
    }
    w.open("properties", &[]);
    for (name, value) in properties {
        w.empty("property", &[("name", name), ("value", value)]);
    }
    w.close("properties");
}

fn write_case(w: &mut xml::Writer, c: &Case) {
    w.open(
        "testcase",
        &[("name", &c.name), ("classname", &c.classname)],
    );
    write_properties(w, &c.properties);
    if let Status::NotPassed {
        element,
        kind,
        message,
        body,
    } = &c.status
    {
        let mut attributes = vec![("message", message.as_str())];
        attributes.extend(kind.map(|k| ("type", k)));
        match body {
            Some(b) => w.text(element, &attributes, b),
            None => w.empty(element, &attributes),
        }
    }
    w.close("testcase");
}

/// The run's length for the `time` attribute (xs:decimal, seconds to the millisecond):
/// a report read back from a file may hold anything, and junit.xml must still validate.
fn seconds(s: f64) -> String {
    let s = if s.is_finite() { s.max(0.0) } else { 0.0 };
    format!("{s:.3}")
}

impl Exporter for JunitExporter {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(&self, r: &Report) -> Result<Vec<u8>, Error> {
        let suites = suites(r);
        let total = |f: &dyn Fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>().to_string();
        let mut w = xml::Writer::new();
        // The counts in the order, and with the names, quick-junit wrote them: skipped
        // cases count as `disabled` per suite, and the root counts no skipped at all.
        w.open(
            "testsuites",
            &[
                ("name", &format!("quotabench {}", r.scenario)),
                ("tests", &total(&|s| s.cases.len())),
                ("failures", &total(&|s| s.count("failure"))),
                ("errors", &total(&|s| s.count("error"))),
                ("time", &seconds(r.duration_s)),
            ],
        );
        for s in &suites {
            w.open(
                "testsuite",
                &[
                    ("name", &s.name),
                    ("tests", &s.cases.len().to_string()),
                    ("disabled", &s.count("skipped").to_string()),
                    ("errors", &s.count("error").to_string()),
                    ("failures", &s.count("failure").to_string()),
                ],
            );
            write_properties(&mut w, &s.properties);
            for c in &s.cases {
                write_case(&mut w, c);
            }
            w.close("testsuite");
        }
        w.close("testsuites");
        Ok(w.finish().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;
    use quick_junit::{NonSuccessKind, TestCaseStatus};

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

    /// The message and description of a case that must be a failure.
    fn failure_of(case: &quick_junit::TestCase) -> (&str, &str) {
        match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                message: Some(message),
                description: Some(description),
                ..
            } => (message.as_str(), description.as_str()),
            other => panic!("expected a failure with a message and a body, got {other:?}"),
        }
    }

    #[test]
    fn failure_message_is_the_witness_and_body_the_reproduce_command() {
        let x = xml();
        let parsed = quick_junit::Report::deserialize_from_str(&x).unwrap();
        let case = &parsed.test_suites[1].test_cases[0];
        let (message, description) = failure_of(case);
        assert!(message.contains("<script>alert"));
        assert!(description.starts_with("reproduce: curl"));
        // Escaped in the bytes, not raw.
        assert!(!x.contains("<script>"));
    }

    /// Text a target or a scenario's author controls: markup, both quotes, a CDATA end,
    /// a NUL, an ANSI colour, other controls XML forbids, and whitespace a parser would
    /// normalize away in an attribute.
    const HOSTILE: &str =
        "a<b>&c; \"d\" 'e' ]]> f\0g\u{1}h \u{1b}[31mred\u{1b}[0m \u{b}\u{c}\u{1f}\u{fffe}\u{ffff} \u{7f}é\tt\nn end";

    /// What a reader must get back: the text, with each character XML 1.0 forbids
    /// replaced by U+FFFD (listed here apart from the writer's own rule).
    fn meant(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '\0'..='\u{8}'
                | '\u{b}'
                | '\u{c}'
                | '\u{e}'..='\u{1f}'
                | '\u{fffe}'
                | '\u{ffff}' => '\u{fffd}',
                c => c,
            })
            .collect()
    }

    /// quick-junit normalizes what it reads (it drops tabs, carriage returns and
    /// escape sequences): compare through the same normalization on both sides.
    fn read_as(s: &str) -> String {
        quick_junit::XmlString::new(s).into_string()
    }

    fn hostile() -> Report {
        let mut r = example();
        r.scenario = format!("s {HOSTILE}");
        r.phases[1].name = format!("p {HOSTILE}");
        let fail = &mut r.rules[1];
        assert_eq!(fail.verdict, Verdict::Fail);
        fail.id = format!("r {HOSTILE}");
        fail.phase = Some(format!("p {HOSTILE}"));
        fail.witness = Some(format!("w {HOSTILE}"));
        fail.reproduce = Some(format!("curl {HOSTILE}"));
        r.thresholds[1].threshold = format!("t {HOSTILE}");
        r.banners = vec![crate::report::Banner {
            level: crate::report::BannerLevel::Warning,
            text: format!("b {HOSTILE}"),
        }];
        r
    }

    #[test]
    fn hostile_text_is_well_formed_and_reads_back_as_written() {
        let x = String::from_utf8(JunitExporter.render(&hostile()).unwrap()).unwrap();
        for c in x.chars() {
            assert!(
                !matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'),
                "{c:?} reached the file"
            );
        }
        assert!(
            !x.contains("]]>") && !x.contains("<b>") && !x.contains("&c;"),
            "{x}"
        );

        let parsed = quick_junit::Report::deserialize_from_str(&x).unwrap();
        let want = |prefix: &str| read_as(&meant(&format!("{prefix} {HOSTILE}")));
        assert_eq!(parsed.name.as_str(), format!("quotabench {}", want("s")));
        let suite = &parsed.test_suites[1];
        assert_eq!(suite.name.as_str(), want("p"));
        assert_eq!((suite.tests, suite.failures), (1, 1));
        let case = &suite.test_cases[0];
        assert_eq!(case.name.as_str(), want("r"));
        assert_eq!(
            case.classname.as_ref().map(|c| c.as_str()),
            Some(format!("{}.{}", want("s"), want("p")).as_str())
        );
        let (message, description) = failure_of(case);
        assert_eq!(message, want("w"));
        assert_eq!(description, format!("reproduce: {}", want("curl")));
        let run = parsed.test_suites.last().unwrap();
        assert!(run.test_cases.iter().any(|c| c.name.as_str() == want("t")));
        let banner = run.properties.iter().find(|p| p.name.as_str() == "banner");
        assert_eq!(banner.unwrap().value.as_str(), want("b"));
    }
}
