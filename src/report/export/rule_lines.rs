//! Rule verdicts as terminal lines, shared by `run` and `check` so both say the same
//! words in the same order: failures first, each rule with its one-line meaning and
//! where docs/rules.md explains it, then a counts line.

use std::fmt::Write;

use super::style::Style;
use crate::check::RuleVerdict;
use crate::vocab::Verdict;

/// Where a rule is explained (each rule has an explicit anchor in docs/rules.md).
pub fn doc_link(id: &str) -> String {
    format!("docs/rules.md#{id}")
}

/// Worst first: fail, unknown, skip, pass; catalogue order within each.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Fail => 0,
        Verdict::Unknown => 1,
        Verdict::Skipped => 2,
        Verdict::Pass => 3,
    }
}

/// The rules block. Under `quiet`, passing rules are left out.
pub fn rules(rules: &[RuleVerdict], style: &Style) -> String {
    let mut order: Vec<&RuleVerdict> = rules.iter().collect();
    order.sort_by_key(|r| rank(r.verdict));
    let mut s = String::new();
    for v in order {
        if style.quiet && v.verdict == Verdict::Pass {
            continue;
        }
        let title = crate::check::rule_info(&v.id).map_or("", |i| i.title);
        let _ = writeln!(
            s,
            "  {} {:<6} {}  {}  ({} definite, {} undecided)",
            style.verdict(v.verdict, 8),
            v.level.as_str(),
            v.id,
            title,
            v.evidence.definite,
            v.evidence.indeterminate
        );
        if v.verdict != Verdict::Pass {
            if let Some(w) = &v.witness {
                let _ = writeln!(s, "           {w}");
            }
            if let Some(c) = &v.reproduce {
                let _ = writeln!(s, "           reproduce: {c}");
            }
            let _ = writeln!(s, "           see {}", doc_link(&v.id));
        }
    }
    s
}

/// `1 failed · 16 passed · 1 skipped · 1 unknown` over rules and thresholds (zero
/// counts left out; `nothing judged` when there is nothing).
pub fn counts(verdicts: impl IntoIterator<Item = Verdict>) -> String {
    let (mut fail, mut pass, mut skip, mut unknown) = (0, 0, 0, 0);
    for v in verdicts {
        match v {
            Verdict::Fail => fail += 1,
            Verdict::Pass => pass += 1,
            Verdict::Skipped => skip += 1,
            Verdict::Unknown => unknown += 1,
        }
    }
    let parts: Vec<String> = [
        (fail, "failed"),
        (pass, "passed"),
        (skip, "skipped"),
        (unknown, "unknown"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    if parts.is_empty() {
        "nothing judged".into()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Evidence, Level};

    fn rv(id: &str, verdict: Verdict) -> RuleVerdict {
        RuleVerdict {
            id: id.into(),
            level: Level::Must,
            verdict,
            witness: Some(format!("why {id}")),
            ops: vec![],
            phase: None,
            reproduce: None,
            evidence: Evidence::default(),
        }
    }

    /// Every link the terminal prints lands on an anchor docs/rules.md has.
    #[test]
    fn every_rule_has_its_anchor_in_the_rules_doc() {
        let doc = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"),
        )
        .unwrap();
        for id in crate::check::rule_ids() {
            assert!(
                doc.contains(&format!("<a id=\"{id}\"></a>")),
                "docs/rules.md has no anchor for {id} (linked as {})",
                doc_link(id)
            );
        }
    }

    #[test]
    fn failures_come_first_with_meaning_and_link_and_quiet_drops_passes() {
        let rs = vec![
            rv("accounting.exact", Verdict::Pass),
            rv("concurrent.cap", Verdict::Skipped),
            rv("limit.never-exceeded", Verdict::Fail),
            rv("isolation.tenants", Verdict::Unknown),
        ];
        let text = rules(&rs, &Style::default());
        let first: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("           "))
            .map(|l| l.split_whitespace().nth(2).unwrap())
            .collect();
        assert_eq!(
            first,
            [
                "limit.never-exceeded",
                "isolation.tenants",
                "concurrent.cap",
                "accounting.exact"
            ]
        );
        let title = crate::check::rule_info("limit.never-exceeded")
            .unwrap()
            .title;
        assert!(text.contains(title), "{text}");
        assert!(text.contains("see docs/rules.md#limit.never-exceeded"));
        let quiet = rules(
            &rs,
            &Style {
                color: false,
                quiet: true,
            },
        );
        assert!(!quiet.contains("accounting.exact") && quiet.contains("concurrent.cap"));
        assert_eq!(
            counts(rs.iter().map(|r| r.verdict)),
            "1 failed · 1 passed · 1 skipped · 1 unknown"
        );
        assert_eq!(counts([]), "nothing judged");
    }
}
