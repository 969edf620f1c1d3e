//! Fuzz target (proptest): the history reader (`history::load_checked`) and the checker
//! on what it accepts (`check::judge`). A real history (a run of the bundled fake),
//! edited at the JSON level (a field of the header or of a record, at any depth,
//! replaced by a hostile value, removed, or a key added) and at the line level (lines
//! deleted, duplicated, swapped, bytes replaced, the file cut at a byte): never a panic,
//! and every error names `file:line`.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

use crate::fuzz_support::*;

const SCENARIO: &str = "name: fuzzed-history
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
phases:
  - name: fill
    workload: {operations: 40, concurrency: 2, mix: {list: 1, delete_identities: 2}, amount: 5}
  - name: over
    workload: {operations: 20, concurrency: 2, mix: {list: 1, delete_identities: 1}, amount: 400}
";

/// JSON values that have broken readers before: huge, negative, fractional, of the
/// wrong type, long, control characters, durations that overflow.
fn hostile_json() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(i64::MIN)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
        Just(json!(0)),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!("")),
        Just(json!("rolling 1e30h")),
        Just(json!("1e30h")),
        Just(json!("100000000000000000000s")),
        Just(json!("fixed 0s")),
        Just(json!([])),
        Just(json!({})),
        (0usize..3000).prop_map(|n| json!("x".repeat(n))),
        Just(json!("\u{0}\u{202e}é")),
        Just(json!([1, "a", null])),
        Just(json!("accepted")),
        Just(json!("rejected_quota")),
        Just(json!({"name": "dailyConsumerDeleteIdentitiesQuota", "limit": u64::MAX, "consumed": u64::MAX})),
        any::<u32>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
    ]
    .boxed()
}

/// What happens at the chosen place in a line's JSON.
#[derive(Debug, Clone)]
enum Change {
    Replace(Value),
    Remove,
    Add(Value),
}

/// One edit of a history: a line is the header (`None`) or a record (`Some`).
#[derive(Debug, Clone)]
enum HEdit {
    /// A value somewhere inside the line's JSON, reached through `path`.
    Field(Option<Index>, Vec<Index>, Change),
    Delete(Option<Index>),
    Duplicate(Option<Index>),
    Swap(Option<Index>, Index),
    /// A byte replaced (the line may stop being UTF-8).
    Flip(Option<Index>, Index, u8),
}

fn line() -> impl Strategy<Value = Option<Index>> {
    // The header is a third of the edits: it holds what every record is read against.
    prop::option::weighted(0.65, any::<Index>())
}

fn hedit() -> impl Strategy<Value = HEdit> {
    let change = prop_oneof![
        4 => hostile_json().prop_map(Change::Replace),
        1 => Just(Change::Remove),
        1 => hostile_json().prop_map(Change::Add),
    ];
    prop_oneof![
        4 => (line(), prop::collection::vec(any::<Index>(), 1..5), change)
            .prop_map(|(l, p, c)| HEdit::Field(l, p, c)),
        1 => line().prop_map(HEdit::Delete),
        1 => line().prop_map(HEdit::Duplicate),
        1 => (line(), any::<Index>()).prop_map(|(l, j)| HEdit::Swap(l, j)),
        1 => (line(), any::<Index>(), any::<u8>()).prop_map(|(l, at, b)| HEdit::Flip(l, at, b)),
    ]
}

/// Changes the value `path` leads to inside `v` (descending while it can).
fn change_at(v: &mut Value, path: &[Index], c: &Change) {
    let deeper = |x: &Value| match x {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    let here = |len: usize| path.first().map_or(0, |i| i.index(len));
    match v {
        Value::Object(m) if !m.is_empty() => {
            let k = m.keys().nth(here(m.len())).cloned().unwrap_or_default();
            if path.len() > 1 && deeper(&m[&k]) {
                return change_at(m.get_mut(&k).unwrap(), &path[1..], c);
            }
            match c {
                Change::Replace(x) => {
                    m.insert(k, x.clone());
                }
                Change::Remove => {
                    m.remove(&k);
                }
                Change::Add(x) => {
                    m.insert("unexpected_key".into(), x.clone());
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = here(a.len());
            if path.len() > 1 && deeper(&a[i]) {
                return change_at(&mut a[i], &path[1..], c);
            }
            match c {
                Change::Replace(x) => a[i] = x.clone(),
                Change::Remove => {
                    a.remove(i);
                }
                Change::Add(x) => a.push(x.clone()),
            }
        }
        other => {
            if let Change::Replace(x) | Change::Add(x) = c {
                *other = x.clone();
            }
        }
    }
}

/// The history's lines with the edits applied, then (a fifth of the time) cut at a byte.
fn apply_history(lines: &[String], edits: &[HEdit], cut: Option<Index>) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
    for e in edits {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let n = lines.len();
        let at = |l: &Option<Index>| l.map_or(0, |i| i.index(n));
        match e {
            HEdit::Field(l, path, c) => {
                let i = at(l);
                if let Ok(mut v) = serde_json::from_slice::<Value>(&lines[i]) {
                    change_at(&mut v, path, c);
                    lines[i] = v.to_string().into_bytes();
                }
            }
            HEdit::Delete(l) => {
                lines.remove(at(l));
            }
            HEdit::Duplicate(l) => {
                let d = lines[at(l)].clone();
                lines.insert(at(l), d);
            }
            HEdit::Swap(l, j) => lines.swap(at(l), j.index(n)),
            HEdit::Flip(l, b, byte) => {
                let line = &mut lines[at(l)];
                if !line.is_empty() {
                    let k = b.index(line.len());
                    line[k] = *byte;
                }
            }
        }
    }
    let mut bytes = lines.join(&b'\n');
    match cut {
        Some(c) => bytes.truncate(c.index(bytes.len() + 1)),
        None => bytes.push(b'\n'),
    }
    bytes
}

fn real_history(dir: &std::path::Path) -> Vec<String> {
    let s = dir.join("s.yaml");
    std::fs::write(&s, SCENARIO).unwrap();
    let out = dir.join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(["--seed", "14"])
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(crate::common::run_dir(&out).join("history.jsonl")).unwrap();
    text.lines().map(str::to_string).collect()
}

#[test]
fn fuzz_history_reader_and_checker() {
    let dir = tempfile::tempdir().unwrap();
    let lines = real_history(dir.path());
    assert!(
        lines.len() > 50,
        "a real history of the run: {} lines",
        lines.len()
    );
    let path = dir.path().join("fuzzed.jsonl");
    let input = (
        prop::collection::vec(hedit(), 1..=3),
        prop::option::weighted(0.2, any::<Index>()),
    );
    let tally = Tally::default();
    fuzz("fuzz_history", 500, &input, |(edits, cut)| {
        std::fs::write(&path, apply_history(&lines, &edits, cut)).unwrap();
        match quotabench::history::load_checked(&path) {
            Ok((h, _warnings)) => {
                tally.count(false);
                // What the reader accepts, the checker judges without a panic.
                quotabench::check::judge(&h, &[]);
                Ok(())
            }
            Err(e) => {
                tally.count(true);
                located(&e.to_string(), &path)
            }
        }
    });
    // Both paths were exercised: some edits are refused, others judged.
    let (refused, judged) = (tally.refused.get(), tally.accepted.get());
    let n = refused + judged;
    eprintln!("fuzz_history: {refused} refused, {judged} judged (shrinking included)");
    assert!(
        refused > n / 10 && judged > n / 10,
        "{refused} refused, {judged} judged of {n}"
    );
}
