//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The one run folder a `quotabench run --out OUT` wrote.
pub fn run_dir(out: &Path) -> PathBuf {
    std::fs::read_dir(out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("no run folder under {}", out.display()))
}

/// A run folder's summary.json.
pub fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    serde_json::from_str(&text).unwrap()
}

/// A rule's entry in a summary.
pub fn rule<'a>(s: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no rule {id} in {s}"))
}

/// Starts `quotabench fake --listen 127.0.0.1:0 [args]` and returns it with the URL it
/// printed on its first line.
pub fn standalone_fake(args: &[&str]) -> (std::process::Child, String) {
    spawn_fake(args, std::process::Stdio::inherit())
}

/// `standalone_fake` with its stderr piped (read it through `Target::child_mut`), killed
/// when dropped.
pub fn standalone_fake_piped(args: &[&str]) -> Target {
    let (child, url) = spawn_fake(args, std::process::Stdio::piped());
    Target::new(child, url)
}

fn spawn_fake(args: &[&str], stderr: std::process::Stdio) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .args(["fake", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (child, url)
}

/// A server on loopback (an independent Python target, a standalone fake), killed —
/// and its stdin closed, which ends a Python target too — when dropped, so a failing
/// test never leaves one behind.
pub struct Target {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Target {
    /// Wraps a started server and the URL it listens on.
    pub fn new(child: std::process::Child, url: String) -> Target {
        let addr = url.trim_start_matches("http://").to_string();
        Target { child, addr, url }
    }

    /// The process, to signal it or read its piped output.
    pub fn child_mut(&mut self) -> &mut std::process::Child {
        &mut self.child
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python3 tests/targets/SCRIPT --listen 127.0.0.1:0 --max-seconds 300 [args]`
/// (a later `--max-seconds` in `args` wins), once it printed `LISTENING ADDR`.
pub fn python_target(script: &str, args: &[&str]) -> Target {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new("python3")
        .arg(format!("tests/targets/{script}"))
        .args(["--listen", "127.0.0.1:0", "--max-seconds", "300"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the independent targets");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("LISTENING ")
        .unwrap_or_else(|| panic!("{script}: {line:?}"))
        .trim()
        .to_string();
    Target::new(child, format!("http://{addr}"))
}
