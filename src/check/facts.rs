//! Facts derived once from a history and shared by every rule.

use std::collections::BTreeMap;

use crate::history::{History, OpRecord, Outcome, Reading};
use crate::target::profile::OpKind;

/// The coordinator's worker id: its list operations are quiescent snapshots.
pub const COORDINATOR: u32 = u32::MAX;

/// Indexes over a history.
pub struct Facts {
    /// Quiescent snapshots (taken when nothing else was in flight), in time order:
    /// (op id, time µs, readings).
    pub snapshots: Vec<(u64, u64, BTreeMap<String, Reading>)>,
}

impl Facts {
    /// Builds the facts.
    pub fn build(h: &History) -> Facts {
        let mut snapshots: Vec<_> = h
            .ops
            .iter()
            .filter(|o| o.worker == COORDINATOR && o.outcome == Outcome::Accepted)
            .filter_map(|o| {
                o.snapshot.as_ref().map(|s| {
                    (
                        o.id,
                        o.done_us,
                        s.iter().map(|r| (r.name.clone(), r.clone())).collect(),
                    )
                })
            })
            .collect();
        snapshots.sort_by_key(|s| s.1);
        Facts { snapshots }
    }
}

/// The kind of the operation a record is of, per the header.
pub fn kind_of(h: &History, op: &OpRecord) -> Option<OpKind> {
    h.header.operations.get(&op.name).map(|d| d.kind)
}

/// Whether `op` is a consume drawing on `quota`.
pub fn touches(h: &History, op: &OpRecord, quota: &str) -> bool {
    h.header
        .operations
        .get(&op.name)
        .is_some_and(|d| d.kind == OpKind::Consume && d.touches.iter().any(|t| t == quota))
}

/// Formats a number with thousands separators (witnesses are read by people).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `#1, #2, #3, …` (at most `max` ids).
pub fn cite(ids: &[u64], max: usize) -> String {
    let mut s: Vec<String> = ids.iter().take(max).map(|i| format!("#{i}")).collect();
    if ids.len() > max {
        s.push("…".into());
    }
    s.join(", ")
}
