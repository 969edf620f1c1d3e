//! A history cut at any byte (a crash mid-write) is judged on its whole lines: the
//! torn last line is named in a warning, never turned into a verdict. Corruption
//! elsewhere, a duplicated record id and a first line that is not the header are
//! errors naming the line.

use std::path::{Path, PathBuf};
use std::process::Command;

const SCENARIO: &str = "name: cuts
target:
  profile: adobe-hygiene
  headers: {Authorization: Bearer t, x-api-key: k}
phases:
  - name: p
    workload: {operations: 150, concurrency: 3, mix: {list: 1, delete_identities: 2}, amount: 1}
";

fn real_history(dir: &Path) -> PathBuf {
    let s = dir.join("s.yaml");
    std::fs::write(&s, SCENARIO).unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("run")
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .arg("--seed")
        .arg("14")
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    run.join("history.jsonl")
}

#[test]
fn a_history_cut_at_any_byte_never_fails_on_a_torn_record() {
    let dir = tempfile::tempdir().unwrap();
    let full = real_history(dir.path());
    let bytes = std::fs::read(&full).unwrap();
    let (_, none) = quotabench::history::load_checked(&full).unwrap();
    assert!(none.is_empty(), "{none:?}");
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut x: u64 = 0x0014_c075;
    let cut_path = dir.path().join("cut.jsonl");
    let mut torn_seen = 0;
    for k in 0..25 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Mostly past the header (where a crash leaves records), a few inside it.
        let at = if k < 3 {
            1 + (x >> 33) as usize % (header_end - 1)
        } else {
            header_end + (x >> 33) as usize % (bytes.len() - header_end)
        };
        std::fs::write(&cut_path, &bytes[..at]).unwrap();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        // A cut just before a record's newline keeps the whole record: its JSON is
        // complete, so the reader may judge it; only a cut inside the text tears it.
        let torn = bytes[at - 1] != b'\n' && bytes[at] != b'\n';
        let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
            .arg("check")
            .arg(&cut_path)
            .output()
            .unwrap();
        let (code, err) = (o.status.code(), String::from_utf8_lossy(&o.stderr));
        if at < header_end {
            // Only a torn header may refuse the file: it holds what the rules need.
            assert_eq!(code, Some(2), "cut at byte {at}: {err}");
            assert!(err.contains(&format!("{}:1:", cut_path.display())), "{err}");
            continue;
        }
        assert!(
            matches!(code, Some(0 | 3)),
            "cut at byte {at}: exit {code:?}: {err}"
        );
        if torn {
            torn_seen += 1;
            let named = format!("warning: {}:{line}: torn record", cut_path.display());
            assert!(
                err.contains(&named),
                "cut at byte {at}: no warning naming line {line}: {err}"
            );
        } else {
            // Whole lines, but no closing line: the run never finished.
            assert!(
                err.contains("without its closing line"),
                "cut at a line end: {err}"
            );
        }
    }
    assert!(torn_seen > 15, "only {torn_seen} cuts tore a record");
    // A killed run leaves whole lines: cut after every record in turn (a consume that
    // finished before a kept list may be among the lost lines), never a FAIL.
    let ends: Vec<usize> = (header_end..bytes.len())
        .filter(|&i| bytes[i] == b'\n')
        .map(|i| i + 1)
        .collect();
    assert!(ends.len() > 100, "the run wrote {} lines", ends.len());
    for &at in ends.iter().step_by(3) {
        std::fs::write(&cut_path, &bytes[..at]).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
            .arg("check")
            .arg(&cut_path)
            .output()
            .unwrap();
        let code = o.status.code();
        if at == bytes.len() {
            assert_eq!(code, Some(0), "the whole history passes");
        } else {
            assert!(
                matches!(code, Some(0 | 3)),
                "cut after a whole line at byte {at}: exit {code:?}: {}",
                String::from_utf8_lossy(&o.stdout)
            );
        }
    }
    // The finished history has its closing line and judges without a warning.
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("check")
        .arg(&full)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}

#[test]
fn corruption_duplicates_and_a_missing_header_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let full = real_history(dir.path());
    let text = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let p = dir.path().join("bad.jsonl");
    let check = |body: String, want_line: usize, want: &str| {
        std::fs::write(&p, body).unwrap();
        let e = quotabench::history::load_checked(&p)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{}:{want_line}:", p.display())),
            "{e}"
        );
        assert!(e.contains(want), "{e}");
    };
    // A corrupt line before the last.
    let mut v = lines.clone();
    v[3] = "{\"id\": 3, garbage";
    check(v.join("\n") + "\n", 4, "corrupt");
    // A record id used twice.
    let mut v = lines.clone();
    v.insert(5, lines[2]);
    check(v.join("\n") + "\n", 6, "already used on line 3");
    // A first line that is not the header.
    let v: Vec<&str> = lines[1..].to_vec();
    check(v.join("\n") + "\n", 1, "\"type\": \"header\"");
}
