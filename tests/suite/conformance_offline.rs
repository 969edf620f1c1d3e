//! A saved history is self-contained: judging history.jsonl offline gives the verdicts,
//! witnesses and cited operations the run reported.

use crate::conformance_support;

use conformance_support::{run, ADOBE};

fn offline(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let h = quotabench::history::load(&dir.join("history.jsonl")).unwrap();
    quotabench::check::judge(&h, &[])
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id, "verdict": r.verdict, "witness": r.witness, "ops": r.ops
            })
        })
        .collect()
}

fn reported(s: &serde_json::Value) -> Vec<serde_json::Value> {
    s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r["id"], "verdict": r["verdict"], "witness": r["witness"],
                "ops": r.get("ops").cloned().unwrap_or(serde_json::json!([]))
            })
        })
        .collect()
}

#[test]
fn offline_judgement_matches_the_run_on_a_correct_and_a_faulty_fake() {
    for faults in [&[][..], &["admit-over-limit"][..]] {
        let r = run(ADOBE, 5, faults);
        let (live, off) = (reported(&r.summary), offline(&r.dir));
        assert_eq!(live, off, "{faults:?}");
        // The faulty run really failed, so the comparison covered a witness.
        assert_eq!(
            !faults.is_empty(),
            !r.failed().is_empty(),
            "{}",
            r.explain()
        );
    }
}
