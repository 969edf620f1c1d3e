//! Files committed beside the code they are generated from (the JSON schemas): a test
//! fails when one drifts, and names the command that regenerates it.

/// Asserts that `rel` (a path from the crate root) holds `fresh`; with `QB_BLESS` set,
/// writes `fresh` there first. `model` names what it is generated from, `test` the test
/// path that regenerates it (`QB_BLESS=1 cargo test --lib TEST`).
pub(crate) fn assert_committed(rel: &str, fresh: &str, model: &str, test: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if std::env::var_os("QB_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap();
    }
    // Read at run time, not a text built in: a blessed file is seen at once.
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{rel} is out of date with {model}; regenerate it with \
         `QB_BLESS=1 cargo test --lib {test}` and review the diff"
    );
}
