//! What the fuzz targets share: a seeded generator, the iteration budget, text
//! mutations, and the "every error is located" check.
//!
//! The CI run is bounded (a fixed seed and a fixed number of cases per target, seconds
//! each). For a deep run, raise the budget and vary the seed:
//! `QB_FUZZ_SCALE=100 QB_FUZZ_SEED=$RANDOM cargo test --test suite fuzz_` (docs/limits.md).
//! A failure prints the seed, the case number and the input, so it reproduces.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The generator for one target: the fixed CI seed, or `QB_FUZZ_SEED` mixed with the
/// target's name so each target draws its own sequence.
pub fn rng(target: &str) -> (SmallRng, u64) {
    let base = std::env::var("QB_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0x5eed_0014);
    let seed = target
        .bytes()
        .fold(base, |h, b| h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b));
    (SmallRng::seed_from_u64(seed), seed)
}

/// How many cases a target runs: `ci` times `QB_FUZZ_SCALE` (default 1).
pub fn cases(ci: usize) -> usize {
    let scale = std::env::var("QB_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    ci.saturating_mul(scale.max(1))
}

/// Values that have broken parsers before: huge, negative, fractional, of the wrong
/// type, unset variables, control characters, deep flow nesting.
pub const HOSTILE: &[&str] = &[
    "100000000000000000000s",
    "10000000000000000000",
    "18446744073709551616",
    "-1",
    "-5s",
    "0",
    "0s",
    "1e309",
    "-1e309",
    "NaN",
    ".nan",
    ".inf",
    "1e30h",
    "rolling 1e30h",
    "fixed 0s",
    "\"a string\"",
    "${QB_SURELY_UNSET_VARIABLE}",
    "${QB_SURELY_UNSET_VARIABLE:-}",
    "$$",
    "~",
    "{}",
    "[]",
    "[[[[[[[[[[1]]]]]]]]]]",
    "1000000000000/s",
    "0/s",
    "99999999999999999999999999d",
    "\"\\r\\n\"",
    "\"\\u0000\"",
    "\"é\\u202e\"",
    "!!binary aGk=",
    "&a [*a]",
    "*undefined_alias",
    "'",
    "\"",
    ": :",
    "- - -",
    "auto",
    "true",
];

/// One random mutation of `text`: lines deleted, duplicated, swapped or re-indented, a
/// value replaced by a hostile one, bytes flipped or inserted, the text cut short.
/// Returns the new text and what was done (for the failure message).
pub fn mutate(text: &str, r: &mut SmallRng) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = r.random_range(0..lines.len());
    let what = match r.random_range(0..10) {
        0 => {
            lines.remove(i);
            format!("deleted line {}", i + 1)
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(i, l);
            format!("duplicated line {}", i + 1)
        }
        2 => {
            let j = r.random_range(0..lines.len());
            lines.swap(i, j);
            format!("swapped lines {} and {}", i + 1, j + 1)
        }
        3..=5 => {
            let v = HOSTILE[r.random_range(0..HOSTILE.len())];
            match lines[i].find(": ") {
                Some(at) => {
                    let keep = lines[i][..at + 2].to_string();
                    lines[i] = format!("{keep}{v}");
                }
                None => lines[i] = format!("{} {v}", lines[i]),
            }
            format!("line {} value -> {v}", i + 1)
        }
        6 => {
            let n = r.random_range(1..4);
            if r.random_bool(0.5) {
                lines[i] = format!("{}{}", " ".repeat(n), lines[i]);
            } else {
                lines[i] = lines[i].trim_start().to_string();
            }
            format!("re-indented line {}", i + 1)
        }
        7 => {
            // A byte from the YAML-significant alphabet (or any char) somewhere.
            let alphabet = b":-[]{},#&*!|>'\"%@` \t\\";
            let mut b = lines[i].clone().into_bytes();
            let at = r.random_range(0..=b.len());
            b.insert(at, alphabet[r.random_range(0..alphabet.len())]);
            lines[i] = String::from_utf8_lossy(&b).into_owned();
            format!("inserted a byte in line {}", i + 1)
        }
        8 => {
            let depth = r.random_range(10..200);
            let open = if r.random_bool(0.5) { "[" } else { "{a: " };
            let close = if open == "[" { "]" } else { "}" };
            lines.insert(
                i,
                format!("deep: {}1{}", open.repeat(depth), close.repeat(depth)),
            );
            format!("nesting {depth} deep at line {}", i + 1)
        }
        _ => {
            let whole = lines.join("\n");
            let mut at = r.random_range(0..=whole.len());
            while !whole.is_char_boundary(at) {
                at -= 1;
            }
            return (whole[..at].to_string(), format!("cut at byte {at}"));
        }
    };
    (lines.join("\n") + "\n", what)
}

/// Applies one to three mutations.
pub fn mutate_some(text: &str, r: &mut SmallRng) -> (String, String) {
    let mut t = text.to_string();
    let mut did = Vec::new();
    for _ in 0..r.random_range(1..=3) {
        let (n, w) = mutate(&t, r);
        t = n;
        did.push(w);
    }
    (t, did.join(", "))
}

/// The lines of `error` that do not start with `file:LINE:` (every configuration
/// error names where it is).
pub fn unlocated(error: &str, file: &std::path::Path) -> Vec<String> {
    let prefix = format!("{}:", file.display());
    // The source lines under an error (`   7 |     think_time: 1s`, `     |     ^ …`)
    // belong to the located line above them.
    let snippet = |line: &str| {
        line.split_once(" | ")
            .or_else(|| line.strip_suffix(" |").map(|l| (l, "")))
            .is_some_and(|(gutter, _)| gutter.trim().chars().all(|c| c.is_ascii_digit()))
    };
    error
        .lines()
        .filter(|line| !snippet(line))
        .filter(|line| {
            !line.strip_prefix(&prefix).is_some_and(|rest| {
                rest.split(':')
                    .next()
                    .is_some_and(|l| l.parse::<usize>().is_ok())
            })
        })
        .map(str::to_string)
        .collect()
}

/// Runs `f`, turning a panic into a failure message naming the case.
pub fn no_panic<T>(what: impl FnOnce() -> String, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("panicked ({msg}) on {}", what())
        }
    }
}
