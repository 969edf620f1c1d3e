//! The Dockerfile, checked by shape (no Docker daemon here or in CI): the dependency
//! layer stubs every target cargo's manifests name (a new bench or test would otherwise
//! break `docker build`), every COPY source exists and is not ignored, the image runs
//! as a non-root user with `quotabench` as its entrypoint.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Dockerfile instructions with their continuation lines joined.
fn instructions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() && cur.is_empty() {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => {
                cur.push_str(part);
                cur.push(' ');
            }
            None => {
                cur.push_str(t);
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    out
}

/// The source files of every bench, test and bin target of a manifest (`dir/Cargo.toml`).
fn declared_targets(dir: &str) -> Vec<String> {
    let text = read(&format!("{dir}Cargo.toml"));
    let mut targets = Vec::new();
    let mut section = String::new();
    let (mut name, mut path) = (None::<String>, None::<String>);
    let mut flush = |section: &str, name: &mut Option<String>, path: &mut Option<String>| {
        let default = match (section, name.as_deref()) {
            ("[[bench]]", Some(n)) => Some(format!("benches/{n}.rs")),
            ("[[test]]", Some(n)) => Some(format!("tests/{n}.rs")),
            _ => None,
        };
        if let Some(p) = path.take().or(default) {
            targets.push(format!("{dir}{p}"));
        }
        *name = None;
    };
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            flush(&section, &mut name, &mut path);
            section = line.to_string();
        } else if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match (section.as_str(), k.trim()) {
                ("[[bench]]" | "[[test]]" | "[[bin]]" | "[lib]", "name") => name = Some(v),
                ("[[bench]]" | "[[test]]" | "[[bin]]" | "[lib]", "path") => path = Some(v),
                _ => {}
            }
        }
    }
    flush(&section, &mut name, &mut path);
    targets
}

#[test]
fn the_dependency_layer_stubs_every_target_the_manifests_declare() {
    let dockerfile = read("Dockerfile");
    let stub_step = instructions(&dockerfile)
        .into_iter()
        .find(|i| i.starts_with("RUN mkdir -p src"))
        .expect("the stub step");
    for dir in ["", "crates/fake/", "crates/yaml/"] {
        for target in declared_targets(dir) {
            assert!(
                stub_step.contains(&target),
                "{target} is declared in {dir}Cargo.toml but the Dockerfile's dependency layer does not stub it: `docker build` would fail"
            );
        }
        assert!(
            dockerfile.contains(&format!("COPY {dir}Cargo.toml")),
            "{dir}Cargo.toml"
        );
    }
    assert!(stub_step.contains("cargo build --release --locked"));
}

#[test]
fn every_copy_source_exists_and_is_in_the_build_context() {
    let ignore = read(".dockerignore");
    let ignored: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    let mut copies = 0;
    for i in instructions(&read("Dockerfile")) {
        let Some(rest) = i.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = rest
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        if i.contains("--from=") {
            continue;
        }
        for src in &words[..words.len() - 1] {
            assert!(root().join(src).exists(), "COPY {src}: no such path");
            assert!(
                !ignored
                    .iter()
                    .any(|g| src == g || src.starts_with(&format!("{g}/"))),
                "COPY {src}: excluded by .dockerignore"
            );
            copies += 1;
        }
    }
    assert!(copies >= 8, "{copies}");
    for must in ["target", ".git", "reports"] {
        assert!(
            ignored.contains(&must),
            ".dockerignore keeps {must} out of the context"
        );
    }
}

#[test]
fn the_image_runs_quotabench_as_a_non_root_user_on_a_slim_base() {
    let all = instructions(&read("Dockerfile"));
    let last_from = all.iter().rposition(|i| i.starts_with("FROM ")).unwrap();
    let runtime = &all[last_from..];
    assert!(
        runtime[0].contains("debian:") && runtime[0].contains("-slim"),
        "{}",
        runtime[0]
    );
    let user = runtime
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("a USER in the runtime stage");
    assert!(!["root", "0", "0:0"].contains(&user.trim()), "USER {user}");
    assert_eq!(
        runtime
            .iter()
            .rev()
            .find(|i| i.starts_with("ENTRYPOINT"))
            .map(String::as_str),
        Some(r#"ENTRYPOINT ["quotabench"]"#)
    );
    // The builder's Rust is at least the manifest's rust-version.
    let want = read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap();
    let have = all
        .iter()
        .find_map(|i| i.strip_prefix("ARG RUST_VERSION="))
        .unwrap()
        .to_string();
    let v = |s: &str| -> Vec<u32> { s.split('.').map(|p| p.parse().unwrap()).collect() };
    assert!(
        v(&have) >= v(&want),
        "RUST_VERSION {have} < rust-version {want}"
    );
}
