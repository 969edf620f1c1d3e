//! The errors a person reads: the first line as before, then the lines around the
//! mistake with a caret under it and plain words for tabs, inconsistent indentation and
//! a key one level too shallow; and the limits that keep a hostile file harmless.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::{from_str, ConfigError, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Workload {
    operations: Option<u32>,
    think_time: Option<String>,
    mix: Option<BTreeMap<String, u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Phase {
    name: String,
    workload: Option<Workload>,
    probe: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Target {
    profile: String,
    tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Scenario {
    name: String,
    target: Option<Target>,
    phases: Vec<Phase>,
}

fn err(text: &str) -> ConfigError {
    from_str::<Scenario>(Path::new("s.yaml"), text).unwrap_err()
}

/// The caret line's column (1-based) and the words after it.
fn caret(e: &ConfigError) -> (usize, String) {
    let last = e.snippet.lines().last().unwrap_or_default();
    let bar = last.find(" | ").expect("a caret line") + 3;
    let rest = &last[bar..];
    let at = rest.find('^').expect("a caret") + 1;
    (at, rest[at..].trim().to_string())
}

#[test]
fn a_key_dedented_out_of_its_block_is_said_to_belong_one_level_deeper() {
    let text = "name: x\nphases:\n  - name: steady\n    think_time: 1s\n    workload:\n      operations: 3\n";
    let e = err(text);
    assert_eq!(
        e.headline(),
        "s.yaml:4:5: phases[0].think_time: unknown field (misspelled?) `think_time`, expected one of `name`, `workload`, `probe`"
    );
    assert_eq!(
        e.to_string(),
        "s.yaml:4:5: phases[0].think_time: unknown field (misspelled?) `think_time`, expected one of `name`, `workload`, `probe`\n   \
         3 |   - name: steady\n   \
         4 |     think_time: 1s\n     \
         |     ^ `think_time` belongs one level deeper, under `workload:` (indent it 2 more spaces)"
    );
    // The block left empty by the dedent (`workload:` then nothing) is found too.
    let e = err("name: x\nphases:\n  - name: steady\n    workload:\n    think_time: 1s\n");
    assert_eq!(caret(&e).0, 5, "{e}");
    assert!(caret(&e).1.contains("under `workload:`"), "{e}");
}

#[test]
fn a_key_no_child_knows_gets_no_deeper_hint_but_a_likely_spelling() {
    // `mix` is a free-form map: it takes any key, so it proves nothing about one.
    let e = err("name: x\nphases:\n  - name: a\n    workload: {mix: {a: 1}}\n    colour: red\n");
    assert!(!e.snippet.contains("deeper"), "{e}");
    let e = err("name: x\nphases:\n  - name: a\n    nmae: b\n");
    assert_eq!(caret(&e), (5, "did you mean `name`?".to_string()), "{e}");
}

#[test]
fn a_tab_in_the_indentation_is_named_at_the_tab() {
    let e = err("name: x\nphases:\n  - name: a\n    workload:\n\toperations: 3\n");
    assert_eq!((e.line, e.column), (Some(5), Some(1)), "{e}");
    assert_eq!(
        e.message,
        "tabs are not allowed for indentation in YAML; use spaces"
    );
    assert!(e.snippet.contains("   5 | →operations: 3\n     | ^"), "{e}");
    // A list item indented with a tab.
    let e = err("name: x\nphases:\n\t- name: a\n");
    assert_eq!((e.line, e.column), (Some(3), Some(1)), "{e}");
    assert!(e.message.starts_with("tabs are not allowed"), "{e}");
}

#[test]
fn an_indentation_no_sibling_uses_is_named_with_both_widths() {
    let e = err("name: x\ntarget:\n  profile: p\n   tenant: t\nphases: []\n");
    assert_eq!((e.line, e.column), (Some(4), Some(4)), "{e}");
    assert!(
        e.message
            .starts_with("inconsistent indentation: 3 spaces where its siblings use 2"),
        "{e}"
    );
    assert_eq!(caret(&e).0, 4, "{e}");
    // Dedented to a column between two levels, in a list item.
    let e = err(
        "name: x\nphases:\n  - name: a\n    workload:\n      operations: 3\n     think_time: 1s\n",
    );
    assert_eq!(e.line, Some(6), "{e}");
    assert!(
        e.message
            .starts_with("inconsistent indentation: 5 spaces where its siblings use 4"),
        "{e}"
    );
}

#[test]
fn a_type_error_keeps_its_first_line_and_gains_a_caret_at_the_key() {
    let e = err("name: x\nphases:\n  - name: a\n    probe: maybe\n");
    assert!(
        e.to_string().starts_with(
            "s.yaml:4:5: phases[0].probe: invalid type: string \"maybe\", expected a boolean\n"
        ),
        "{e}"
    );
    assert_eq!(caret(&e), (5, String::new()), "{e}");
    // YAML 1.2 booleans, as serde_yaml read them: `yes` is a string.
    let e = err("name: x\nphases:\n  - name: a\n    probe: yes\n");
    assert!(e.message.contains("string \"yes\""), "{e}");
    // A number is not a string: typing stays strict.
    let e = err("name: 123\nphases: []\n");
    assert!(e.message.contains("expected a string"), "{e}");
}

#[test]
fn duplicate_keys_are_refused_in_structs_and_maps_at_the_second() {
    let e = err("name: x\nname: y\nphases: []\n");
    assert_eq!((e.line, e.column), (Some(2), Some(1)), "{e}");
    assert!(e.message.starts_with("duplicate key `name`"), "{e}");
    let e = err("name: x\nphases:\n  - name: a\n    workload:\n      mix: {a: 1, a: 2}\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.starts_with("duplicate key `a`"), "{e}");
}

#[test]
fn an_alias_bomb_is_refused_before_it_fills_memory() {
    // Ten levels of ten: 10^10 nodes if expanded.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", [p.as_str(); 10].join(", ")));
    }
    let e = from_str::<Value>(Path::new("b.yaml"), &text).unwrap_err();
    assert!(e.message.contains("aliases"), "{e}");
    assert!(e.line.is_some(), "{e}");
    // A few aliases, as configurations use them, are fine.
    let v: Value = from_str(Path::new("b.yaml"), "a: &x {n: 1}\nb: *x\n").unwrap();
    assert_eq!(
        v,
        Value::Map(vec![
            (
                Value::String("a".into()),
                Value::Map(vec![(Value::String("n".into()), Value::U64(1))])
            ),
            (
                Value::String("b".into()),
                Value::Map(vec![(Value::String("n".into()), Value::U64(1))])
            ),
        ])
    );
}

#[test]
fn a_file_that_is_not_a_mapping_is_never_shown() {
    let passwd =
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
    let e = err(passwd);
    assert!(e.snippet.is_empty(), "{e}");
    assert!(!e.to_string().contains("daemon"), "{e}");
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
}

#[test]
fn syntax_errors_are_located_with_a_caret() {
    let e = err("name: x\nphases: [\n");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.snippet.ends_with('^'), "{e}");
    let e = err("name: \"x\nphases: []\n");
    assert_eq!(e.line, Some(1), "{e}");
}
