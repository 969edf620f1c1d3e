//! Judging both ways: the history as the run keeps it in memory, and the same history
//! written to history.jsonl and read back as a run that outgrew its in-memory copy reads
//! it (`history::load_in_order`). Every rule test judges through here, so each of the
//! suite's hand-built histories proves the two give the same verdicts and witnesses, and
//! the same time source and thin-evidence judgement the report states.

use super::{judge_with, RuleVerdict, SegmentOpts, Verdict};
use crate::history::{load_in_order, History, HistoryWriter};

/// Judges `h` in memory and from its file, asserts both agree, and returns the verdicts.
pub(crate) fn judged_both_ways(h: &History, only: &[String], max: f64) -> Vec<RuleVerdict> {
    let back = round_trip(h);
    let in_memory = judge_with(h, only, max);
    let from_file = judge_with(&back, only, max);
    assert_eq!(
        in_memory, from_file,
        "the history read back from its file is judged otherwise than in memory"
    );
    // The report's other judgements of the history, too.
    assert_eq!(super::time_source(h), super::time_source(&back));
    assert_eq!(
        super::too_indefinite(h, max),
        super::too_indefinite(&back, max)
    );
    segmented_agrees(h, only, max, &in_memory);
    in_memory
}

/// Judges `h` in segments as small as the history allows (cut at every quiescent
/// snapshot after 1, 3 and 50 records) and asserts each rule's verdict is the whole
/// history's; the thin-evidence judgement too.
pub(crate) fn segmented_agrees(h: &History, only: &[String], max: f64, whole: &[RuleVerdict]) {
    for n in [1, 3, 50] {
        let s = super::segment::judge_segmented(h, only, max, SegmentOpts::with_records(n));
        assert_eq!(s.thin, super::too_indefinite(h, max), "segments of {n}");
        assert_eq!(s.time_source, super::time_source(h), "segments of {n}");
        assert_eq!(s.rules.len(), whole.len());
        for (a, b) in whole.iter().zip(&s.rules) {
            if s.segments > 1
                && b.verdict == Verdict::Unknown
                && super::segmented_unknown(&h.header, &a.id).is_some()
            {
                // Never a guess: unknown, with the reason.
                let w = b.witness.as_deref().unwrap_or("");
                assert!(w.contains("no segment holds whole"), "{b:?}");
                continue;
            }
            assert_eq!(
                (a.id.as_str(), a.verdict),
                (b.id.as_str(), b.verdict),
                "judged in {} segments of {n}, {} says otherwise than the whole history:\nwhole: {:?}\nsegmented: {:?}",
                s.segments,
                a.id,
                a.witness,
                b.witness
            );
        }
    }
}

/// `h` written record by record in the order given (a run writes in arrival order),
/// closed, and read back.
pub(crate) fn round_trip(h: &History) -> History {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("history.jsonl");
    let mut w = HistoryWriter::create(&path, &h.header).expect("the history file");
    for o in &h.ops {
        w.append(o).expect("a record written");
    }
    w.finish().expect("the closing line");
    let (back, warnings) = load_in_order(&path).expect("the history read back");
    assert!(warnings.is_empty(), "{warnings:?}");
    back
}
