//! Fuzz target (proptest): the profile compiler (`api::compile_text`). Edits of the
//! built-in profiles, keys drawn from the profiles' own vocabulary (a key renamed, a
//! field inserted where a sibling sits, a value made hostile), lines and bytes moved:
//! never a panic, and every error names `file:line`.

use std::path::Path;

use proptest::prelude::*;

use crate::fuzz_support::*;

#[test]
fn fuzz_profile_compiler() {
    let mut sources = Vec::new();
    for name in ["adobe-hygiene.yaml", "didomi.yaml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("profiles")
            .join(name);
        sources.push(std::fs::read_to_string(&p).unwrap());
    }
    let keys = keys_of(sources.iter().map(String::as_str));
    assert!(keys.len() > 20, "the profiles' vocabulary: {keys:?}");
    let input = (prop::sample::select(sources), edits(keys))
        .prop_map(|(text, e)| (String::from_utf8_lossy(&apply(&text, &e)).into_owned(), e));
    let path = Path::new("fuzzed-profile.yaml");
    let tally = Tally::default();
    fuzz("fuzz_profile", 1600, &input, |(text, _)| {
        let result = quotabench::api::compile_text(path, &text).map(|_| ());
        tally.count(result.is_err());
        match result {
            Err(e) => located(&e.to_string(), path),
            Ok(()) => Ok(()),
        }
    });
    let (refused, accepted) = (tally.refused.get(), tally.accepted.get());
    eprintln!("fuzz_profile: {refused} refused, {accepted} accepted (shrinking included)");
    assert!(
        refused * 4 > refused + accepted,
        "only {refused} of {} edited profiles were refused",
        refused + accepted
    );
}
