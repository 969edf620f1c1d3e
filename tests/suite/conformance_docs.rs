//! docs/rules.md carries the fault → rule table generated from the two catalogues, so it
//! cannot drift from the code. On mismatch the expected table is printed: paste it in.

use quotabench::check;
use quotabench_fake::catalogue;

fn table() -> String {
    let rules = check::catalogue();
    let mut out =
        String::from("| fault | breaks rule | level | what the fake does |\n|---|---|---|---|\n");
    for f in catalogue() {
        let level = rules
            .iter()
            .find(|r| r.info().id == f.rule_id)
            .map_or("—", |r| r.info().level.as_str());
        let rule = if f.rule_id == "-" {
            "— (performance)".to_string()
        } else {
            format!("`{}`", f.rule_id)
        };
        out.push_str(&format!(
            "| `{}` | {rule} | {level} | {} |\n",
            f.name,
            f.description.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn every_fault_names_a_rule_of_the_catalogue() {
    let ids = check::rule_ids();
    for f in catalogue() {
        assert!(
            f.rule_id == "-" || ids.contains(&f.rule_id),
            "{} names {}",
            f.name,
            f.rule_id
        );
    }
}

#[test]
fn the_rules_doc_carries_the_generated_fault_table() {
    let doc = std::fs::read_to_string("docs/rules.md").unwrap();
    let t = table();
    assert!(
        doc.contains(&t),
        "docs/rules.md is out of date; its fault table should read:\n\n{t}"
    );
}

#[test]
fn the_rules_doc_describes_every_rule() {
    let doc = std::fs::read_to_string("docs/rules.md").unwrap();
    for r in check::catalogue() {
        let id = r.info().id;
        assert!(
            doc.contains(&format!("### `{id}`")),
            "docs/rules.md has no section for {id}"
        );
    }
}
