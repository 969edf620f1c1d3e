//! No import cycle between the stages of the crate, nor between the parts of one stage.
//!
//! The architecture promises stages that know each other only through data flowing one
//! way (docs/architecture.md). This test reads every `crate::…` and `super::…` path in
//! `src/` and fails on a cycle, naming a file behind each edge, so the promise stays
//! true as the code changes. Test modules (`#[cfg(test)]` and what follows it) and
//! comments are not imports of the stage and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Edges `from → to`, each with one file that makes it.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src/ is readable") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and without its trailing test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every identifier that follows `prefix` in `code` (`crate::` → `engine`, …).
fn after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .filter(|(i, _)| {
            // `crate::` inside `quotabench_fake::crate::` or an identifier is not ours.
            *i == 0
                || !code.as_bytes()[i - 1].is_ascii_alphanumeric() && code.as_bytes()[i - 1] != b'_'
        })
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Builds both graphs: between stages, and between the parts of each stage.
fn graphs(src: &Path) -> (Graph, Graph) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let (mut stages, mut parts) = (Graph::new(), Graph::new());
    for f in files {
        let rel = f.strip_prefix(src).expect("under src/");
        let comps: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        let stage = comps[0].clone();
        if stage == "lib" || stage == "main" {
            continue;
        }
        let text = code(&std::fs::read_to_string(&f).expect("readable source"));
        let shown = rel.display().to_string();
        for dep in after(&text, "crate::") {
            if dep != stage {
                stages
                    .entry(stage.clone())
                    .or_default()
                    .entry(dep.to_string())
                    .or_insert_with(|| shown.clone());
            }
        }
        // Parts: `src/<stage>/<part>.rs` or `src/<stage>/<part>/…`. A stage's mod.rs is
        // its interface (it declares and re-exports its parts), not a part.
        if comps.len() < 2 || comps.last().is_some_and(|c| c == "mod") && comps.len() == 2 {
            continue;
        }
        let part = format!("{stage}::{}", comps[1]);
        let mut deps: Vec<String> = after(&text, &format!("crate::{stage}::"))
            .into_iter()
            .map(|d| format!("{stage}::{d}"))
            .collect();
        // `super::x` from a file directly in the stage's folder names a sibling part.
        let direct = comps.len() == 2 || comps.len() == 3 && comps[2] == "mod";
        if direct {
            deps.extend(
                after(&text, "super::")
                    .into_iter()
                    .filter(|d| *d != "super")
                    .map(|d| format!("{stage}::{d}")),
            );
        }
        for dep in deps {
            let is_part = parts_exist(src, &dep);
            if dep != part && is_part {
                parts
                    .entry(part.clone())
                    .or_default()
                    .entry(dep)
                    .or_insert_with(|| shown.clone());
            }
        }
    }
    (stages, parts)
}

/// Whether `stage::name` is a part (a file or folder) rather than an item of mod.rs.
fn parts_exist(src: &Path, dep: &str) -> bool {
    let (stage, name) = dep.split_once("::").expect("stage::part");
    src.join(stage).join(format!("{name}.rs")).exists() || src.join(stage).join(name).is_dir()
}

/// One cycle in the graph, as the list of nodes around it, if there is any.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in g.get(n).into_iter().flat_map(|m| m.keys()) {
            if let Some(c) = visit(next, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut done, &mut Vec::new()))
}

fn explain(g: &Graph, cycle: &[String]) -> String {
    cycle
        .windows(2)
        .map(|w| format!("  {} → {} (in {})", w[0], w[1], g[&w[0]][&w[1]]))
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The bundled fake's crate: its modules follow the same rule.
fn fake_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/fake/src")
}

#[test]
fn no_cycle_between_stages() {
    let (stages, _) = graphs(&src());
    assert!(
        stages.contains_key("engine"),
        "the reader found the stages: {stages:?}"
    );
    if let Some(c) = find_cycle(&stages) {
        panic!(
            "import cycle between stages (docs/architecture.md says which may import which):\n{}",
            explain(&stages, &c)
        );
    }
}

#[test]
fn no_cycle_between_the_parts_of_a_stage() {
    let (_, parts) = graphs(&src());
    if let Some(c) = find_cycle(&parts) {
        panic!("import cycle inside a stage:\n{}", explain(&parts, &c));
    }
}

#[test]
fn no_cycle_inside_the_fake() {
    let (modules, parts) = graphs(&fake_src());
    assert!(
        modules.contains_key("routes"),
        "the reader found the fake's modules: {modules:?}"
    );
    for g in [&modules, &parts] {
        if let Some(c) = find_cycle(g) {
            panic!(
                "import cycle inside the fake (crates/fake/src):\n{}",
                explain(g, &c)
            );
        }
    }
}

#[test]
fn vocab_imports_no_stage() {
    let (stages, _) = graphs(&src());
    let deps: Vec<&String> = stages
        .get("vocab")
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert!(
        deps.is_empty(),
        "vocab must be a leaf, but imports {deps:?}"
    );
}

#[test]
fn the_detector_sees_a_cycle_and_the_file_behind_it() {
    // The detector itself can fail: a graph with a cycle is reported with its edges.
    let mut g = Graph::new();
    g.entry("a".into())
        .or_default()
        .insert("b".into(), "a.rs".into());
    g.entry("b".into())
        .or_default()
        .insert("c".into(), "b/x.rs".into());
    g.entry("c".into())
        .or_default()
        .insert("a".into(), "c.rs".into());
    g.entry("c".into())
        .or_default()
        .insert("d".into(), "c.rs".into());
    let c = find_cycle(&g).expect("a → b → c → a is a cycle");
    assert_eq!(c.first(), c.last());
    assert!(explain(&g, &c).contains("b → c (in b/x.rs)"));
    g.get_mut("c").unwrap().remove("a");
    assert_eq!(find_cycle(&g), None);
    // And the reader sees `crate::` imports but not comments or test modules.
    let text = "use crate::engine::X;\n// crate::report\nfn f() { crate::check::judge() }\n#[cfg(test)]\nuse crate::fake;";
    assert_eq!(after(&code(text), "crate::"), ["engine", "check"]);
}
