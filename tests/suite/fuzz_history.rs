//! Fuzz target: the history reader (`history::load_checked`) and the checker on what it
//! accepts (`check::judge`). A real history, mutated at the JSON level (a field of the
//! header or of a record replaced by a hostile value, removed, or a key added) and at
//! the line level (lines deleted, duplicated, swapped, cut, bytes flipped): never a
//! panic, and every error names `file:line`.

use rand::rngs::SmallRng;
use rand::Rng;
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

fn hostile_json(r: &mut SmallRng) -> Value {
    match r.random_range(0..22) {
        0 => json!(u64::MAX),
        1 => json!(-1),
        2 => json!(i64::MIN),
        3 => json!(1e300),
        4 => json!(-0.5),
        5 => json!(0),
        6 => Value::Null,
        7 => json!(true),
        8 => json!(""),
        9 => json!("rolling 1e30h"),
        10 => json!("1e30h"),
        11 => json!("100000000000000000000s"),
        12 => json!("fixed 0s"),
        13 => json!([]),
        14 => json!({}),
        15 => json!("x".repeat(r.random_range(0..3000))),
        16 => json!("\u{0}\u{202e}é"),
        17 => json!([1, "a", null]),
        18 => json!("accepted"),
        19 => json!("rejected_quota"),
        20 => {
            json!({"name": "dailyConsumerDeleteIdentitiesQuota", "limit": u64::MAX, "consumed": u64::MAX})
        }
        _ => json!(r.random::<u32>()),
    }
}

/// Replaces, removes or adds one value somewhere inside `v`.
fn mutate_value(v: &mut Value, r: &mut SmallRng, depth: u32) -> String {
    let descend = depth < 4 && r.random_bool(0.6);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = keys[r.random_range(0..keys.len())].clone();
            if descend && matches!(m[&k], Value::Object(_) | Value::Array(_)) {
                let inner = mutate_value(m.get_mut(&k).unwrap(), r, depth + 1);
                return format!("{k}.{inner}");
            }
            match r.random_range(0..6) {
                0 => {
                    m.remove(&k);
                    format!("{k} removed")
                }
                1 => {
                    m.insert("unexpected_key".into(), hostile_json(r));
                    "unexpected_key added".into()
                }
                _ => {
                    let h = hostile_json(r);
                    let said = format!("{k} -> {}", truncated(&h));
                    m.insert(k, h);
                    said
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            let i = r.random_range(0..a.len());
            if descend {
                let inner = mutate_value(&mut a[i], r, depth + 1);
                return format!("[{i}].{inner}");
            }
            match r.random_range(0..3) {
                0 => {
                    a.remove(i);
                    format!("[{i}] removed")
                }
                1 => {
                    let d = a[i].clone();
                    a.push(d);
                    format!("[{i}] duplicated")
                }
                _ => {
                    a[i] = hostile_json(r);
                    format!("[{i}] -> {}", truncated(&a[i]))
                }
            }
        }
        other => {
            *other = hostile_json(r);
            format!("-> {}", truncated(other))
        }
    }
}

fn truncated(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(60).collect()
}

fn mutate_history(lines: &[String], r: &mut SmallRng) -> (Vec<u8>, String) {
    let mut lines = lines.to_vec();
    let mut did = Vec::new();
    for _ in 0..r.random_range(1..=3) {
        let i = if r.random_bool(0.35) {
            0
        } else {
            r.random_range(0..lines.len())
        };
        match r.random_range(0..8) {
            0..=3 => {
                if let Ok(mut v) = serde_json::from_str::<Value>(&lines[i]) {
                    let what = mutate_value(&mut v, r, 0);
                    lines[i] = v.to_string();
                    did.push(format!("line {}: {what}", i + 1));
                }
            }
            4 => {
                lines.remove(i);
                if lines.is_empty() {
                    lines.push(String::new());
                }
                did.push(format!("deleted line {}", i + 1));
            }
            5 => {
                let l = lines[i].clone();
                lines.insert(i, l);
                did.push(format!("duplicated line {}", i + 1));
            }
            6 => {
                let j = r.random_range(0..lines.len());
                lines.swap(i, j);
                did.push(format!("swapped lines {} and {}", i + 1, j + 1));
            }
            _ => {
                let mut b = lines[i].clone().into_bytes();
                if !b.is_empty() {
                    let at = r.random_range(0..b.len());
                    b[at] = r.random();
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
                did.push(format!("flipped a byte in line {}", i + 1));
            }
        }
    }
    let mut bytes = lines.join("\n").into_bytes();
    if r.random_bool(0.8) {
        bytes.push(b'\n');
    } else {
        let at = r.random_range(0..=bytes.len());
        bytes.truncate(at);
        did.push(format!("cut at byte {at}"));
    }
    (bytes, did.join(", "))
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
    let (mut r, seed) = rng("history");
    let dir = tempfile::tempdir().unwrap();
    let lines = real_history(dir.path());
    assert!(
        lines.len() > 50,
        "a real history of the run: {} lines",
        lines.len()
    );
    let path = dir.path().join("fuzzed.jsonl");
    let n = cases(400);
    let mut refused = 0;
    let mut judged = 0;
    let mut unlocated_errors = Vec::new();
    for case in 0..n {
        let (bytes, what) = mutate_history(&lines, &mut r);
        std::fs::write(&path, &bytes).unwrap();
        let about = || format!("seed {seed} case {case}: {what}");
        match no_panic(about, || quotabench::history::load_checked(&path)) {
            Ok((h, _warnings)) => {
                judged += 1;
                no_panic(
                    || format!("judging seed {seed} case {case}: {what}"),
                    || quotabench::check::judge(&h, &[]),
                );
            }
            Err(e) => {
                refused += 1;
                for line in unlocated(&e.to_string(), &path) {
                    unlocated_errors.push(format!("seed {seed} case {case}: {what}: {line}"));
                }
            }
        }
    }
    assert!(
        unlocated_errors.is_empty(),
        "errors without file:line:\n{}",
        unlocated_errors.join("\n")
    );
    // Both paths were exercised: some mutations are refused, others judged.
    assert!(
        refused > n / 10 && judged > n / 10,
        "{refused} refused, {judged} judged of {n}"
    );
}
