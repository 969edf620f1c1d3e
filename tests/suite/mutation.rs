//! The shipped scenarios, mutated a few hundred deterministic ways (a line deleted or
//! duplicated, a value replaced by a huge number, a negative, a string, an unset
//! `${VAR}`, a tab, deep nesting) and validated in-process: never a panic, and every
//! error names `file:line`.

use std::path::{Path, PathBuf};

const VALUES: &[&str] = &[
    "100000000000000000000s",
    "10000000000000000000",
    "-1",
    "-5s",
    "\"a string\"",
    "${QB_SURELY_UNSET_VARIABLE}",
    "1e309",
    "0",
    "~",
    "{}",
    "[]",
    "1000000000000/s",
    "99999999999999999999999999d",
    "\"\\r\\n\"",
];

fn shipped() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for d in ["scenarios/conformance", "scenarios/load"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                all.push(p);
            }
        }
    }
    all.sort();
    assert!(!all.is_empty());
    all
}

/// A small deterministic generator (no seed from the clock: a failure reproduces).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn mutate(text: &str, r: &mut Lcg) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = r.next(lines.len());
    let what = match r.next(6) {
        0 => {
            lines.remove(i);
            format!("deleted line {}", i + 1)
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
            format!("duplicated line {}", i + 1)
        }
        2 | 3 => {
            let v = VALUES[r.next(VALUES.len())];
            // Replace the value after the first `: ` (or inside a flow mapping).
            match lines[i].find(": ") {
                Some(at) => {
                    let keep = &lines[i][..at + 2];
                    lines[i] = format!("{keep}{v}");
                }
                None => lines[i] = format!("{} {v}", lines[i]),
            }
            format!("line {} value -> {v}", i + 1)
        }
        4 => {
            lines[i] = format!("\t{}", lines[i]);
            format!("tab before line {}", i + 1)
        }
        _ => {
            let depth = 10 + r.next(200);
            lines.insert(
                i,
                format!("deep: {}1{}", "[".repeat(depth), "]".repeat(depth)),
            );
            format!("nesting {depth} deep at line {}", i + 1)
        }
    };
    (lines.join("\n") + "\n", what)
}

#[test]
fn mutated_shipped_scenarios_never_panic_and_every_error_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = Lcg(0x5eed_0014);
    let mut errors = 0;
    let mut unlocated = Vec::new();
    for (n, src) in shipped().iter().cycle().take(300).enumerate() {
        let text = std::fs::read_to_string(src).unwrap();
        let (mutated, what) = mutate(&text, &mut r);
        let path = dir.path().join(format!("m{n}.yaml"));
        std::fs::write(&path, &mutated).unwrap();
        let result = std::panic::catch_unwind(|| quotabench::run::prepare(&path));
        let name = src.file_name().unwrap().to_string_lossy();
        match result {
            Err(_) => panic!("{name}, {what}: validate panicked"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                errors += 1;
                // The source snippet under a located line belongs to it (fuzz_support).
                for line in crate::fuzz_support::unlocated(&e.to_string(), &path) {
                    unlocated.push(format!("{name}, {what}: {line}"));
                }
            }
        }
    }
    assert!(
        unlocated.is_empty(),
        "errors without file:line:\n{}",
        unlocated.join("\n")
    );
    // The mutations do break things: a test that cannot fail proves nothing.
    assert!(errors > 100, "only {errors} of 300 mutations were refused");
}
