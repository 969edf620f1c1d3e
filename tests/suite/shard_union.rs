//! An over-admission only the union of the shards shows: a target that enforces (and
//! lists) the tenant's daily quota per API key instead of per tenant
//! (`tests/targets/per_client_quota.py --bug per-client`). Four shards, each with its
//! own key, each stay within the limit by their own evidence — no shard's run fails —
//! and the merge, seeing every shard's accepted orders on one time line, fails
//! `limit.never-exceeded`.

use std::process::{Command, Stdio};

use crate::common::{python_target, rule, summary};

const SCENARIO: &str = "tests/targets/per-client-quota.scenario.yaml";

#[test]
fn an_over_admission_split_across_clients_is_caught_by_the_merge_and_by_no_shard() {
    let target = python_target(
        "per_client_quota.py",
        &["--bug", "per-client", "--limit", "100"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let shard_out = tmp.path().join("shards");
    // One after another: shard 1's snapshots stay quiescent, so the merge has the
    // baseline it judges the union against (the shards need not overlap to share a quota).
    for k in 1..=4 {
        let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
            .args([
                "run",
                SCENARIO,
                "--target",
                &target.url,
                "--shard",
                &format!("{k}/4"),
            ])
            .args([
                "-e",
                &format!("CLIENT_KEY=key-{k}"),
                "--clock-uncertainty",
                "1ms",
                "-q",
            ])
            .arg("--out")
            .arg(&shard_out)
            .env_remove("QB_SHARD")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "shard {k}: {err}");
    }
    let mut dirs: Vec<_> = std::fs::read_dir(&shard_out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in &dirs {
        let s = summary(d);
        assert_eq!(
            rule(&s, "limit.never-exceeded")["verdict"],
            "pass",
            "{}",
            d.display()
        );
    }
    let merged_out = tmp.path().join("merged");
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged_out)
        .arg("-q")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merged = summary(&crate::common::run_dir(&merged_out));
    let r = rule(&merged, "limit.never-exceeded");
    assert_eq!(r["verdict"], "fail", "{r}");
    assert!(
        r["witness"].as_str().unwrap().contains("> quota 100"),
        "{r}"
    );
}
