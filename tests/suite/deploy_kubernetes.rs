//! deploy/kubernetes/ without a cluster: every manifest against the vendored Kubernetes
//! schema (misspelled fields and wrong types must fail), the Indexed Job's shape, the
//! scenario it runs, and run.sh's gate driven through a stub kubectl.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::deploy_k8s_schema::validate;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest(name: &str) -> Value {
    let path = root().join("deploy/kubernetes").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    quotabench_yaml::from_str(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema_for(doc: &Value) -> Value {
    let file = match (doc["apiVersion"].as_str(), doc["kind"].as_str()) {
        (Some("batch/v1"), Some("Job")) => "job-batch-v1.json",
        (Some("v1"), Some("PersistentVolumeClaim")) => "persistentvolumeclaim-v1.json",
        (Some("v1"), Some("ConfigMap")) => "configmap-v1.json",
        other => panic!("no vendored schema for {other:?}: add it to tests/data/k8s-schema/"),
    };
    let path = root().join("tests/data/k8s-schema").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_manifest_is_valid_kubernetes() {
    let mut seen = 0;
    for e in std::fs::read_dir(root().join("deploy/kubernetes")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let doc = manifest(p.file_name().unwrap().to_str().unwrap());
            let errors = validate(&schema_for(&doc), &doc);
            assert!(errors.is_empty(), "{}:\n{}", p.display(), errors.join("\n"));
            seen += 1;
        }
    }
    assert_eq!(seen, 4, "pvc, configmap, shards job, merge job");
}

#[test]
fn a_misspelled_field_a_wrong_type_and_a_missing_field_are_caught() {
    let good = manifest("shards-job.yaml");
    let schema = schema_for(&good);
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        f(&mut doc);
        validate(&schema, &doc)
    };
    let e = broken(&|d| {
        let mode = d["spec"]
            .as_object_mut()
            .unwrap()
            .remove("completionMode")
            .unwrap();
        d["spec"]["completionMod"] = mode;
    });
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("spec.completionMod: unknown field"),
        "{e:?}"
    );
    assert!(
        e[0].contains("completionMode"),
        "the expected names are listed: {e:?}"
    );

    let e = broken(&|d| d["spec"]["parallelism"] = json!("four"));
    assert_eq!(
        e,
        ["spec.parallelism: expected integer or null, found string \"four\""]
    );

    let e = broken(&|d| {
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(9464.5)
    });
    assert!(
        e.iter().any(|m| m.starts_with(
            "spec.template.spec.containers[0].ports[0].containerPort: expected integer"
        )),
        "{e:?}"
    );
    let e = broken(&|d| d["spec"]["completions"] = json!(1u64 << 40));
    assert!(
        e.iter().any(|m| m.contains("not a valid \"int32\"")),
        "{e:?}"
    );

    let e = broken(&|d| {
        d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap()
            .remove("name");
    });
    assert!(
        e.iter()
            .any(|m| m == "spec.template.spec.containers[0]: missing the required field \"name\""),
        "{e:?}"
    );
    // A nested typo, deep in the pod template.
    let e = broken(&|d| {
        let c = d["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap();
        let mounts = c.remove("volumeMounts").unwrap();
        c.insert("volumeMount".into(), mounts);
    });
    assert!(
        e.iter()
            .any(|m| m.starts_with("spec.template.spec.containers[0].volumeMount: unknown field")),
        "{e:?}"
    );
    let e = broken(&|d| d["kind"] = json!("Jobs"));
    assert!(
        e.iter()
            .any(|m| m.starts_with("kind: expected one of [\"Job\"]")),
        "{e:?}"
    );
}

fn container(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]["containers"][0]
}

fn env<'a>(job: &'a Value, name: &str) -> &'a Value {
    container(job)["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("env {name} missing"))
}

fn script(job: &Value) -> String {
    container(job)["args"][0].as_str().unwrap().to_string()
}

#[test]
fn the_shards_are_an_indexed_job_of_four_that_start_together_and_share_a_volume() {
    let shards = manifest("shards-job.yaml");
    let spec = &shards["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 4);
    assert_eq!(spec["parallelism"], 4);
    assert_eq!(spec["backoffLimitPerIndex"], 0, "a shard is never retried");
    // The shard count quotabench reads beside JOB_COMPLETION_INDEX equals the Job's.
    assert_eq!(env(&shards, "QB_SHARDS")["value"], "4");
    // --start-at comes from one annotation of the pod template: the same for every pod.
    assert_eq!(
        env(&shards, "QB_START_AT")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['quotabench.dev/start-at']"
    );
    assert!(spec["template"]["metadata"]["annotations"]["quotabench.dev/start-at"].is_string());
    let run = script(&shards);
    assert!(run.contains("--start-at \"$QB_START_AT\""), "{run}");
    assert!(
        !run.contains("--shard"),
        "the shard comes from JOB_COMPLETION_INDEX: {run}"
    );
    assert!(run.contains("--out \"/results/$QB_RUN_ID\""), "{run}");
    assert!(run.contains("--metrics-listen 0.0.0.0:9464"), "{run}");

    let merge = manifest("merge-job.yaml");
    assert_eq!(
        merge["spec"]["backoffLimit"], 0,
        "a verdict is never retried"
    );
    assert!(merge["spec"].get("completionMode").is_none());
    let m = script(&merge);
    assert!(
        m.starts_with("exec quotabench merge /results/\"$QB_RUN_ID\"/*-shard-*-of-4"),
        "{m}"
    );
    // Both mount the one claim the PVC manifest declares, at the path both scripts use.
    let claim = manifest("results-pvc.yaml")["metadata"]["name"].clone();
    assert_eq!(claim, "quotabench-results");
    for job in [&shards, &merge] {
        let vols = job["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap();
        let results = vols.iter().find(|v| v["name"] == "results").unwrap();
        assert_eq!(results["persistentVolumeClaim"]["claimName"], claim);
        let mounts = container(job)["volumeMounts"].as_array().unwrap();
        assert!(mounts
            .iter()
            .any(|m| m["name"] == "results" && m["mountPath"] == "/results"));
        assert_eq!(
            job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
            true
        );
    }
    assert_eq!(
        manifest("results-pvc.yaml")["spec"]["accessModes"],
        json!(["ReadWriteMany"]),
        "pods on several nodes write to it"
    );
}

#[test]
fn the_configmap_holds_a_scenario_quotabench_accepts() {
    let cm = manifest("scenario-configmap.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("scenario.yaml");
    std::fs::write(&path, cm["data"]["scenario.yaml"].as_str().unwrap()).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_quotabench"))
        .arg("validate")
        .arg(&path)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A kubectl that records its calls, keeps what is applied, and answers from files.
fn stub(dir: &Path, shards: &str, merge: &str, merge_exit: &str) -> PathBuf {
    let bin = dir.join("kubectl");
    std::fs::write(
        &bin,
        format!(
            r#"#!/usr/bin/env bash
echo "$*" >>"{log}"
case "$*" in
  *"apply -f -"*) n=$(ls "{dir}"/applied-*.yaml 2>/dev/null | wc -l); cat >"{dir}/applied-$n.yaml" ;;
  *"get job quotabench-shards"*) printf '%s' '{shards}' ;;
  *"get job quotabench-merge"*) printf '%s' '{merge}' ;;
  *"get pods"*) printf '%s' '{merge_exit}' ;;
  *logs*) echo "merged run: verdict printed here" ;;
esac
exit 0
"#,
            log = dir.join("calls.log").display(),
            dir = dir.display(),
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&bin).status().unwrap();
    bin
}

struct Gate {
    code: i32,
    calls: String,
    applied: Vec<String>,
    stderr: String,
}

fn gate(shards: &str, merge: &str, merge_exit: &str) -> Gate {
    let tmp = tempfile::tempdir().unwrap();
    let kubectl = stub(tmp.path(), shards, merge, merge_exit);
    let o = Command::new("bash")
        .arg(root().join("deploy/kubernetes/run.sh"))
        .args(["--namespace", "load", "--lead", "90", "--timeout", "0"])
        .env("KUBECTL", &kubectl)
        .env("POLL_SECONDS", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let mut applied = Vec::new();
    for n in 0.. {
        match std::fs::read_to_string(tmp.path().join(format!("applied-{n}.yaml"))) {
            Ok(t) => applied.push(t),
            Err(_) => break,
        }
    }
    Gate {
        code: o.status.code().unwrap_or(-1),
        calls: std::fs::read_to_string(tmp.path().join("calls.log")).unwrap_or_default(),
        applied,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn annotation(doc: &str, key: &str) -> String {
    let v: Value = quotabench_yaml::from_str(std::path::Path::new("job.yaml"), doc).unwrap();
    v["spec"]["template"]["metadata"]["annotations"][key]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn run_sh_merges_after_the_shards_and_exits_with_the_merge_verdict() {
    let g = gate("Complete ", "Failed ", "1");
    assert_eq!(
        g.code, 1,
        "a failing merged verdict fails the gate\n{}",
        g.stderr
    );
    assert_eq!(g.applied.len(), 2, "{}", g.calls);
    let (shards, merge) = (&g.applied[0], &g.applied[1]);
    assert!(
        shards.contains("completionMode: Indexed"),
        "the shards Job first"
    );
    assert!(merge.contains("name: quotabench-merge"));
    // One start instant for every shard, in the future, RFC 3339; one run id for both Jobs.
    let start: jiff::Timestamp = annotation(shards, "quotabench.dev/start-at")
        .parse()
        .unwrap();
    assert!(start > jiff::Timestamp::now(), "{start}");
    let id = annotation(shards, "quotabench.dev/run-id");
    assert!(id.starts_with("qb-"), "{id}");
    assert_eq!(annotation(merge, "quotabench.dev/run-id"), id);
    assert!(
        g.calls.lines().all(|l| l.starts_with("--namespace load ")),
        "{}",
        g.calls
    );

    let g = gate("Complete ", "Complete ", "0");
    assert_eq!(g.code, 0, "{}", g.stderr);
    let g = gate("Complete ", "Failed ", "3");
    assert_eq!(g.code, 3, "unknown passes through");
}

#[test]
fn run_sh_never_merges_an_incomplete_run() {
    let g = gate("Failed ", "", "");
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert_eq!(
        g.applied.len(),
        1,
        "the merge Job is not applied: {}",
        g.calls
    );
    assert!(
        g.stderr.contains("not merging an incomplete run"),
        "{}",
        g.stderr
    );
    // Shards still running at the deadline: unknown, and no merge.
    let g = gate("", "", "");
    assert_eq!(g.code, 3, "{}", g.stderr);
    assert_eq!(g.applied.len(), 1);
}

#[test]
fn a_shard_pod_fails_only_when_its_run_errs() {
    // The shard container's shell, run with a stand-in quotabench that exits as told.
    let tmp = tempfile::tempdir().unwrap();
    let stub = tmp.path().join("quotabench");
    std::fs::write(
        &stub,
        "#!/bin/sh\necho \"$*\" >\"$ARGS_LOG\"\nexit \"$STUB_EXIT\"\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&stub).status().unwrap();
    let shell = script(&manifest("shards-job.yaml"));
    let path = format!(
        "{}:{}",
        tmp.path().display(),
        std::env::var("PATH").unwrap()
    );
    let log = tmp.path().join("args");
    for (run_exit, pod_exit) in [(0, 0), (1, 0), (3, 0), (2, 2), (143, 143)] {
        let s = Command::new("sh")
            .args(["-c", &shell])
            .env("PATH", &path)
            .env("STUB_EXIT", run_exit.to_string())
            .env("ARGS_LOG", &log)
            .env("QB_START_AT", "2026-12-02T04:00:00Z")
            .env("QB_RUN_ID", "qb-1")
            .status()
            .unwrap();
        assert_eq!(s.code(), Some(pod_exit), "quotabench exit {run_exit}");
    }
    let args = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        args.trim(),
        "run /scenarios/scenario.yaml --start-at 2026-12-02T04:00:00Z --out /results/qb-1 --metrics-listen 0.0.0.0:9464"
    );
}
