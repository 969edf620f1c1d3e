//! Fuzz target: the profile compiler (`api::compile_text`). Seeded mutations of the
//! built-in profiles: never a panic, and every error names `file:line`.

use std::path::Path;

use crate::fuzz_support::*;

#[test]
fn fuzz_profile_compiler() {
    let (mut r, seed) = rng("profile");
    let mut sources = Vec::new();
    for name in ["adobe-hygiene.yaml", "didomi.yaml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("profiles")
            .join(name);
        sources.push((name, std::fs::read_to_string(&p).unwrap()));
    }
    let path = Path::new("fuzzed-profile.yaml");
    let n = cases(800);
    let mut refused = 0;
    let mut unlocated_errors = Vec::new();
    for case in 0..n {
        let (name, text) = &sources[case % sources.len()];
        let (mutated, what) = mutate_some(text, &mut r);
        let about = || format!("seed {seed} case {case}: {name}, {what}:\n{mutated}");
        let result = no_panic(about, || {
            quotabench::api::compile_text(path, &mutated)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        if let Err(e) = result {
            refused += 1;
            for line in unlocated(&e, path) {
                unlocated_errors.push(format!("seed {seed} case {case}: {name}, {what}: {line}"));
            }
        }
    }
    assert!(
        unlocated_errors.is_empty(),
        "errors without file:line:\n{}",
        unlocated_errors.join("\n")
    );
    assert!(
        refused > n / 4,
        "only {refused} of {n} mutated profiles were refused"
    );
}
