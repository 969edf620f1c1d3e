//! Fuzz target (proptest): the scenario loader (`scenario::load_text`) and, for a share
//! of the cases, everything `validate` does (`run::prepare`: the file's bytes, profile,
//! mix, thresholds). Two kinds of input: scenarios generated from the real field
//! vocabulary (docs/scenario.schema.json: its objects' keys, nested as the schema nests
//! them, block or flow style, with right and hostile values), and edits of the shipped
//! scenarios and of one that uses every target field. Properties: never a panic, and
//! every error names `file:line`.
//!
//! Loading registers the secrets a scenario holds in a process-wide list that masks
//! every output, and random inputs make random secrets; so the cases run in a child
//! process of this test binary, and the other tests' outputs stay as they are.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::fuzz_support::*;

/// A scenario using the target fields the shipped ones leave out.
const RICH: &str = "name: rich
target:
  profile: adobe-hygiene
  base_url: \"http://127.0.0.1:9/?page=1&mine=x\"
  secret_params: [mine]
  tenant: ${QB_FUZZ_TENANT:-acme}
  other_tenant: other
  timeout: 2s
  headers: {Authorization: Bearer t, x-api-key: k}
checks: [limit.never-exceeded]
thresholds: [\"error_rate < 1%\"]
phases:
  - name: warm
    workload: {rate: 50/s, duration: 2s, concurrency: 2, mix: {list: 1, delete_identities: 2}, amount: 1, think_time: 10ms}
  - name: burst
    workload: {operations: 20, concurrency: 4, mix: {delete_identities: 1}, amount: auto}
";

fn sources() -> Vec<(String, String)> {
    let mut all = vec![("rich".to_string(), RICH.to_string())];
    for d in ["scenarios/conformance", "scenarios/load"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(d);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for p in files {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            all.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    all
}

/// A YAML value as the generator builds it.
#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Map(Vec<(String, Yaml)>, bool),
    List(Vec<Yaml>, bool),
}

impl Yaml {
    /// Block style at `indent`, or flow style where the node asks for it.
    fn render(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Yaml::Scalar(_) => {}
            Yaml::Map(m, _) => {
                for (k, v) in m {
                    out.push_str(&format!("{pad}{k}:"));
                    v.after_key(indent, out);
                }
            }
            Yaml::List(l, _) => {
                for v in l {
                    out.push_str(&format!("{pad}-"));
                    v.after_key(indent, out);
                }
            }
        }
    }

    fn after_key(&self, indent: usize, out: &mut String) {
        match self {
            Yaml::Scalar(s) => out.push_str(&format!(" {s}\n")),
            Yaml::Map(m, flow) if *flow || m.is_empty() => {
                out.push_str(&format!(" {}\n", self.flow()))
            }
            Yaml::List(l, flow) if *flow || l.is_empty() => {
                out.push_str(&format!(" {}\n", self.flow()))
            }
            _ => {
                out.push('\n');
                self.render(indent + 2, out);
            }
        }
    }

    fn flow(&self) -> String {
        match self {
            Yaml::Scalar(s) => s.clone(),
            Yaml::Map(m, _) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.flow()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            Yaml::List(l, _) => {
                let items: Vec<String> = l.iter().map(Yaml::flow).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// The keys of each object of the scenario format, read from the committed schema (a
/// test keeps it in step with the code): the generator speaks the real vocabulary.
fn schema_keys() -> std::collections::BTreeMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario.schema.json");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keys = |o: &serde_json::Value| -> Vec<String> {
        o["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut all = std::collections::BTreeMap::new();
    all.insert("Scenario".to_string(), keys(&s));
    for (name, def) in s["$defs"].as_object().unwrap() {
        all.insert(name.clone(), keys(def));
    }
    for must in ["TargetSpec", "Phase", "Workload"] {
        assert!(
            !all.get(must).is_none_or(Vec::is_empty),
            "docs/scenario.schema.json has no {must} keys"
        );
    }
    all
}

/// Which object a key holds, as the schema nests them.
fn child_of(key: &str) -> Option<(&'static str, bool)> {
    Some(match key {
        "target" => ("TargetSpec", false),
        "phases" => ("Phase", true),
        "workload" => ("Workload", false),
        "stages" => ("Stage", true),
        "fake" => ("FakeSpec", false),
        "implementation" => ("Implementation", false),
        _ => return None,
    })
}

/// Operation names and header names the maps hold.
const OPS: &[&str] = &[
    "list",
    "delete_identities",
    "list_daily_quota",
    "create_config",
    "create_expiration",
    "cancel_expiration",
    "nope",
];
const HEADERS: &[&str] = &[
    "Authorization",
    "x-api-key",
    "x-gw-ims-org-id",
    "bad header",
    "X-Ok",
];
const LISTS: &[&str] = &["checks", "thresholds", "secret_params", "faults", "parents"];

fn object(
    def: &'static str,
    keys: std::sync::Arc<std::collections::BTreeMap<String, Vec<String>>>,
    depth: u32,
) -> BoxedStrategy<Yaml> {
    let mut names = keys.get(def).cloned().unwrap_or_default();
    // Now and then a key the format does not have.
    names.push("unknown_field".into());
    let fields: Vec<BoxedStrategy<(String, Yaml)>> = names
        .into_iter()
        .map(|k| {
            let v = field(&k, keys.clone(), depth);
            (Just(k), v).boxed()
        })
        .collect();
    let n = fields.len();
    // Each key present or not: a random subset, in schema order.
    (
        proptest::collection::vec(any::<bool>(), n),
        fields,
        any::<bool>(),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(keep, fields, flow, dup)| {
            let mut m: Vec<(String, Yaml)> = fields
                .into_iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(f, _)| f)
                .collect();
            if dup {
                if let Some(first) = m.first().cloned() {
                    m.push(first);
                }
            }
            Yaml::Map(m, flow)
        })
        .boxed()
}

fn field(
    key: &str,
    keys: std::sync::Arc<std::collections::BTreeMap<String, Vec<String>>>,
    depth: u32,
) -> BoxedStrategy<Yaml> {
    let scalar = || value().prop_map(Yaml::Scalar);
    if depth > 3 {
        return scalar().boxed();
    }
    if let Some((def, list)) = child_of(key) {
        let obj = object(def, keys, depth + 1);
        return if list {
            prop_oneof![
                8 => (prop::collection::vec(obj, 0..4), any::<bool>()).prop_map(|(l, f)| Yaml::List(l, f)),
                1 => scalar(),
            ]
            .boxed()
        } else {
            prop_oneof![8 => obj, 1 => scalar()].boxed()
        };
    }
    let map_of = |names: &'static [&'static str]| {
        (
            prop::collection::vec((prop::sample::select(names), value()), 0..4),
            any::<bool>(),
        )
            .prop_map(|(m, f)| {
                Yaml::Map(
                    m.into_iter()
                        .map(|(k, v)| (k.to_string(), Yaml::Scalar(v)))
                        .collect(),
                    f,
                )
            })
    };
    match key {
        "mix" => prop_oneof![6 => map_of(OPS), 1 => scalar()].boxed(),
        "headers" => prop_oneof![6 => map_of(HEADERS), 1 => scalar()].boxed(),
        k if LISTS.contains(&k) => prop_oneof![
            4 => (prop::collection::vec(scalar(), 0..4), any::<bool>()).prop_map(|(l, f)| Yaml::List(l, f)),
            1 => scalar(),
        ]
        .boxed(),
        _ => scalar().boxed(),
    }
}

/// A whole scenario from the vocabulary.
fn generated() -> BoxedStrategy<String> {
    let keys = std::sync::Arc::new(schema_keys());
    object("Scenario", keys, 0)
        .prop_map(|y| {
            let mut s = String::new();
            y.render(0, &mut s);
            s
        })
        .boxed()
}

/// One case: the scenario's bytes, where they came from, and whether the whole of
/// `validate` reads them (one in ten: it reads the file, the profile, the mix).
fn input(sources: Vec<(String, String)>) -> impl Strategy<Value = (String, Text, bool)> {
    let keys = keys_of(sources.iter().map(|(_, t)| t.as_str()));
    let edited = (prop::sample::select(sources), edits(keys))
        .prop_map(|((name, text), e)| (format!("{name} edited {e:?}"), apply(&text, &e)));
    let made = generated().prop_map(|t| ("generated".to_string(), t.into_bytes()));
    (
        prop_oneof![2 => edited, 1 => made],
        prop::bool::weighted(0.1),
    )
        .prop_map(|((what, bytes), whole)| (what, Text(bytes), whole))
}

#[test]
fn fuzz_scenario_loader_in_a_child_process() {
    let exe = std::env::current_exe().unwrap();
    let o = std::process::Command::new(exe)
        .args([
            "fuzz_scenario::cases_of_the_scenario_loader",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    // The child really ran the cases (a filter that matched nothing would pass too).
    assert!(out.contains("1 passed"), "{out}\n{err}");
}

#[test]
#[ignore = "run by fuzz_scenario_loader_in_a_child_process, in its own process"]
fn cases_of_the_scenario_loader() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("rich.yaml");
    if let Err(e) = quotabench::scenario::load_text(&plain, RICH) {
        panic!("the unmutated rich scenario must load: {e}");
    }
    let path = dir.path().join("fuzzed.yaml");
    let tally = Tally::default();
    fuzz(
        "fuzz_scenario",
        2500,
        &input(sources()),
        |(_, Text(bytes), whole)| {
            let result = if whole {
                std::fs::write(&path, &bytes).unwrap();
                quotabench::run::prepare(&path)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                let text = String::from_utf8_lossy(&bytes);
                quotabench::scenario::load_text(&path, &text)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            tally.count(result.is_err());
            match result {
                Err(e) => located(&e, &path),
                Ok(()) => Ok(()),
            }
        },
    );
    // The inputs do break scenarios, and some still load: a fuzzer that only feeds
    // valid input, or only garbage, proves little.
    let (refused, accepted) = (tally.refused.get(), tally.accepted.get());
    eprintln!("fuzz_scenario: {refused} refused, {accepted} accepted (shrinking included)");
    assert!(
        refused * 4 > refused + accepted && accepted > 0,
        "{refused} refused, {accepted} accepted"
    );
}
