//! What the fuzz targets share: the proptest runner (bounded case count, fixed seed in
//! CI, where failures are kept), text edits as shrinkable values, hostile values, and
//! the "every error is located" check.
//!
//! The CI run is bounded: a fixed number of cases per target and a fixed seed, seconds
//! each. A deep run raises the count and draws a seed of its own:
//! `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=$RANDOM cargo test --test suite fuzz_`
//! (docs/limits.md "Fuzzing"). A failure is shrunk to a minimal input, printed, and its
//! seed kept in `tests/suite/proptest-regressions/<target>.txt`, replayed first by every
//! later run (commit the file with the fix).

use std::cell::Cell;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestError, TestRunner};

/// The runner for one target: `ci_cases` cases unless `PROPTEST_CASES` says otherwise,
/// a seed fixed per target unless `PROPTEST_RNG_SEED` is set, failures persisted under
/// tests/suite/proptest-regressions/ (the tests run from the package root).
pub fn runner(target: &'static str, ci_cases: u32) -> TestRunner {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = ci_cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        let seed = target.bytes().fold(0x5eed_0014u64, |h, b| {
            h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b)
        });
        c.rng_seed = RngSeed::Fixed(seed);
    }
    let file: &'static str = Box::leak(
        format!(
            "{}/tests/suite/proptest-regressions/{target}.txt",
            env!("CARGO_MANIFEST_DIR")
        )
        .into_boxed_str(),
    );
    c.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(file)));
    // Shrinking re-runs the property; bounded so a failure is reported in seconds.
    c.max_shrink_iters = 2_000;
    TestRunner::new(c)
}

thread_local! {
    /// Set while this thread runs a fuzz target: its panics are the runner's findings,
    /// caught and reported once, shrunk, rather than printed for every try.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `test` on inputs from `strategy` (see [`runner`]) and panics with the minimal
/// failing input, if any. The panic hook stays quiet on this thread meanwhile (the
/// other tests' panics print as usual).
pub fn fuzz<S: Strategy>(
    target: &'static str,
    ci_cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = runner(target, ci_cases).run(strategy, test);
    QUIET.with(|q| q.set(false));
    passed(target, result);
}

/// Bytes shown as text (lossy) in a failure's minimal input.
#[derive(Clone)]
pub struct Text(pub Vec<u8>);

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// Panics with the minimal failing input when the run found one.
fn passed<T: std::fmt::Debug>(target: &str, result: Result<(), TestError<T>>) {
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => {
            panic!("fuzz target {target} failed: {why}\nminimal input: {input:#?}")
        }
        Err(TestError::Abort(why)) => panic!("fuzz target {target} aborted: {why}"),
    }
}

/// Counts over a run's cases (the runner's closure is `Fn`): how many inputs were
/// refused, how many accepted.
#[derive(Default)]
pub struct Tally {
    pub refused: Cell<u32>,
    pub accepted: Cell<u32>,
}

impl Tally {
    pub fn count(&self, refused: bool) {
        let c = if refused {
            &self.refused
        } else {
            &self.accepted
        };
        c.set(c.get() + 1);
    }
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

/// Values a field takes when it is right: durations, rates, counts, names, URLs.
pub const VALID: &[&str] = &[
    "1s",
    "500ms",
    "2m",
    "10ms",
    "50/s",
    "10/m",
    "1",
    "2",
    "4",
    "20",
    "auto",
    "false",
    "adobe-hygiene",
    "didomi",
    "acme",
    "http://127.0.0.1:9",
    "rolling 1h",
    "fixed 1d",
    "1%",
    "[list]",
    "{list: 1}",
    "reset",
    "isolation",
    "limit.never-exceeded",
    "\"error_rate < 1%\"",
];

/// Units of durations and rates (and none).
const UNITS: &[&str] = &["ms", "s", "m", "h", "d", "/s", "/m", ""];

/// A scalar for a field: right, hostile, or drawn (text, numbers).
pub fn value() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(VALID).prop_map(str::to_string),
        3 => prop::sample::select(HOSTILE).prop_map(str::to_string),
        1 => "[ -~]{0,16}",
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| format!("{x}")),
        1 => (any::<u32>(), prop::sample::select(UNITS)).prop_map(|(n, u)| format!("{n}{u}")),
        // Magnitudes up to 1e40: where durations, rates and counts overflow.
        2 => (0usize..40, prop::sample::select(UNITS)).prop_map(|(k, u)| format!("1{}{u}", "0".repeat(k))),
    ]
    .boxed()
}

/// One edit of a text: lines deleted, duplicated, swapped or re-indented, a key or a
/// value replaced (keys from the inputs' own vocabulary), a line inserted, a byte
/// inserted or replaced (any byte: the text may stop being UTF-8), deep flow nesting,
/// the text cut short. Indexes are proptest's, so an edit shrinks with its input.
#[derive(Debug, Clone)]
pub enum Edit {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Value(Index, Index, String),
    /// The value of the n-th `key: value` of the whole text (any field, block or flow).
    Field(Index, String),
    Key(Index, String),
    Insert(Index, String, String),
    Indent(Index, i8),
    Byte(Index, Index, u8),
    Flip(Index, Index, u8),
    Nest(Index, u16, bool),
    Cut(Index),
}

/// Bytes that mean something to YAML, for [`Edit::Byte`].
const YAML_BYTES: &[u8] = b":-[]{},#&*!|>'\"%@` \t\\\n";

/// An edit, its keys drawn from `keys`.
pub fn edit(keys: Vec<String>) -> BoxedStrategy<Edit> {
    let key = prop::sample::select(keys);
    prop_oneof![
        1 => any::<Index>().prop_map(Edit::Delete),
        1 => any::<Index>().prop_map(Edit::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        2 => (any::<Index>(), any::<Index>(), value()).prop_map(|(i, k, v)| Edit::Value(i, k, v)),
        4 => (any::<Index>(), value()).prop_map(|(i, v)| Edit::Field(i, v)),
        2 => (any::<Index>(), key.clone()).prop_map(|(i, k)| Edit::Key(i, k)),
        2 => (any::<Index>(), key, value()).prop_map(|(i, k, v)| Edit::Insert(i, k, v)),
        1 => (any::<Index>(), -3i8..=3).prop_map(|(i, n)| Edit::Indent(i, n)),
        1 => (any::<Index>(), any::<Index>(), prop::sample::select(YAML_BYTES))
            .prop_map(|(i, at, b)| Edit::Byte(i, at, b)),
        1 => (any::<Index>(), any::<Index>(), any::<u8>())
            .prop_map(|(i, at, b)| Edit::Flip(i, at, b)),
        1 => (any::<Index>(), 10u16..300, any::<bool>()).prop_map(|(i, d, f)| Edit::Nest(i, d, f)),
        1 => any::<Index>().prop_map(Edit::Cut),
    ]
    .boxed()
}

/// One to three edits.
pub fn edits(keys: Vec<String>) -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(keys), 1..=3)
}

/// The keys (`name:` before a value) a YAML text uses: the vocabulary of its format.
pub fn keys_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = texts
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let (k, _) = t.split_once(':')?;
            (!k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                .then(|| k.to_string())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// `text` with the edits applied, as bytes (a byte edit may leave it non-UTF-8).
pub fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
    let mut cut = None;
    for e in edits {
        if lines.is_empty() {
            lines.push(Vec::new());
        }
        let n = lines.len();
        let indent = |l: &[u8]| l.iter().take_while(|b| **b == b' ').count();
        match e {
            Edit::Delete(i) => {
                lines.remove(i.index(n));
            }
            Edit::Duplicate(i) => {
                let l = lines[i.index(n)].clone();
                lines.insert(i.index(n), l);
            }
            Edit::Swap(a, b) => lines.swap(a.index(n), b.index(n)),
            Edit::Value(i, k, v) => {
                // The k-th `key: value` of the line (a block line has one, a flow map
                // several): its value, up to the next `,` or `}`, replaced.
                let l = &mut lines[i.index(n)];
                let colons: Vec<usize> = l
                    .windows(2)
                    .enumerate()
                    .filter(|(_, w)| *w == b": ")
                    .map(|(at, _)| at + 2)
                    .collect();
                if colons.is_empty() {
                    l.push(b' ');
                    l.extend_from_slice(v.as_bytes());
                } else {
                    let from = colons[k.index(colons.len())];
                    let to = l[from..]
                        .iter()
                        .position(|b| matches!(b, b',' | b'}'))
                        .map_or(l.len(), |p| from + p);
                    l.splice(from..to, v.bytes());
                }
            }
            Edit::Field(which, v) => {
                let fields: Vec<(usize, usize)> = lines
                    .iter()
                    .enumerate()
                    .flat_map(|(li, l)| {
                        l.windows(2)
                            .enumerate()
                            .filter(|(_, w)| *w == b": ")
                            .map(move |(at, _)| (li, at + 2))
                    })
                    .collect();
                if !fields.is_empty() {
                    let (li, from) = fields[which.index(fields.len())];
                    let l = &mut lines[li];
                    let to = l[from..]
                        .iter()
                        .position(|b| matches!(b, b',' | b'}'))
                        .map_or(l.len(), |p| from + p);
                    l.splice(from..to, v.bytes());
                }
            }
            Edit::Key(i, k) => {
                let l = &mut lines[i.index(n)];
                let start = indent(l)
                    + if l[indent(l)..].starts_with(b"- ") {
                        2
                    } else {
                        0
                    };
                if let Some(colon) = l[start..].iter().position(|b| *b == b':') {
                    l.splice(start..start + colon, k.bytes());
                }
            }
            Edit::Insert(i, k, v) => {
                let at = i.index(n);
                let pad = indent(&lines[at]);
                lines.insert(at, format!("{}{k}: {v}", " ".repeat(pad)).into_bytes());
            }
            Edit::Indent(i, by) => {
                let l = &mut lines[i.index(n)];
                if *by >= 0 {
                    l.splice(0..0, std::iter::repeat_n(b' ', *by as usize));
                } else {
                    let drop = indent(l).min(by.unsigned_abs() as usize);
                    l.drain(..drop);
                }
            }
            Edit::Byte(i, at, b) | Edit::Flip(i, at, b) => {
                let l = &mut lines[i.index(n)];
                let at = at.index(l.len() + 1);
                if matches!(e, Edit::Flip(..)) && at < l.len() {
                    l[at] = *b;
                } else {
                    l.insert(at, *b);
                }
            }
            Edit::Nest(i, depth, flow_seq) => {
                let (open, close) = if *flow_seq { ("[", "]") } else { ("{a: ", "}") };
                let d = usize::from(*depth);
                let line = format!("deep: {}1{}", open.repeat(d), close.repeat(d));
                lines.insert(i.index(n), line.into_bytes());
            }
            Edit::Cut(at) => cut = Some(*at),
        }
    }
    let mut out = lines.join(&b'\n');
    match cut {
        Some(at) => out.truncate(at.index(out.len() + 1)),
        None => out.push(b'\n'),
    }
    out
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

/// The property every loader target checks: a refusal names `file:line` on each line.
pub fn located(error: &str, file: &std::path::Path) -> Result<(), TestCaseError> {
    let bad = unlocated(error, file);
    prop_assert!(
        bad.is_empty(),
        "errors without file:line: {bad:?}\nin:\n{error}"
    );
    Ok(())
}
