//! What an install needs beside the binary: shell completions and a man page, generated
//! from the one command-line definition.

use assert_cmd::Command;

fn out(args: &[&str]) -> String {
    let o = Command::cargo_bin("quotabench")
        .unwrap()
        .args(args)
        .assert()
        .code(0);
    String::from_utf8_lossy(&o.get_output().stdout).into_owned()
}

#[test]
fn completions_know_every_subcommand_and_flag_and_bash_parses_its_script() {
    let bash = out(&["completions", "bash"]);
    for word in [
        "run",
        "check",
        "compare",
        "--max-duration",
        "--concurrency",
        "--color",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("qb.bash");
    std::fs::write(&script, &bash).unwrap();
    let ok = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(ok.success(), "bash -n rejects the completion script");
    assert!(out(&["completions", "zsh"]).contains("#compdef quotabench"));
    assert!(out(&["completions", "fish"]).contains("complete -c quotabench"));
    let bad = Command::cargo_bin("quotabench")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&bad.get_output().stderr).contains("bash"));
}

#[test]
fn the_man_page_is_roff_naming_the_commands() {
    let man = out(&["man"]);
    assert!(man.contains(".TH quotabench"), "not a man page: {man:.200}");
    for word in ["run", "validate", "check", "compare", "fake"] {
        assert!(man.contains(word), "man page lacks {word}");
    }
}
