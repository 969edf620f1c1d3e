//! The operation history: an append-only record of every operation, and the header
//! that makes a saved history self-contained (the checker needs nothing else).

mod fast;
mod file;
mod read;
mod source;

pub use crate::vocab::{Outcome, Reading, Readings, Sym};
pub use file::{HistoryWriter, WriteStopped};
pub use read::{load, load_checked, load_in_order, stream, stream_while, Read};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::vocab::{Capabilities, OpKind, QuotaDecl};

/// Format version of history.jsonl.
pub const HISTORY_VERSION: u32 = 1;

/// How an operation is declared in the profile, copied into the history header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpDecl {
    /// Its kind.
    pub kind: OpKind,
    /// Quotas a consume draws on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub touches: Vec<String>,
    /// For a release, the consume operation whose objects it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub releases: Option<String>,
    /// For consume_invalid and list_invalid, why it is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a filtered list, the one quota it asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// The first line of history.jsonl.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always "header".
    #[serde(rename = "type")]
    pub kind: String,
    /// [`HISTORY_VERSION`].
    pub history_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Profile name.
    pub profile: String,
    /// Base URL of the target (secrets are never part of it).
    pub target: String,
    /// Tenant exercised.
    pub tenant: String,
    /// Wall-clock start of the run (RFC 3339), the zero of every `*_us` offset.
    pub started_at: String,
    /// Phase names in order.
    pub phases: Vec<String>,
    /// The quotas as declared.
    pub quotas: Vec<QuotaDecl>,
    /// The operations as declared.
    pub operations: BTreeMap<String, OpDecl>,
    /// The target's declared capabilities.
    pub capabilities: Capabilities,
    /// Whether the target's clock was controllable.
    pub clock_control: bool,
    /// A reset probe that waits for a real boundary (`probe: reset` with `wait:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_wait: Option<ResetWait>,
    /// A sharded run (`run --shard K/N`): its one shard. A merged history: every shard
    /// it was merged from, in shard order. Empty (absent) for a single run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
}

/// One shard of a sharded run: which, how far its clock may be from the target's, and
/// what the merge needs to judge the whole as the shards were judged.
///
/// Clock differences between machines are uncertainty, not truth: `offset_us` is an
/// estimate, and the true offset lies within `bound_us` of it. `quotabench merge`
/// aligns each shard's records by the estimate and widens them by the bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// K, from 1.
    pub index: u32,
    /// N, the number of shards.
    pub count: u32,
    /// The target's clock minus this shard's, µs (estimate).
    pub offset_us: i64,
    /// The most the true offset may differ from the estimate, µs.
    pub bound_us: u64,
    /// Where the estimate comes from: `date-header` (the target's `Date` answers) or
    /// `clock-uncertainty` (given on the command line; offset 0).
    pub source: String,
    /// The scenario's `max_indefinite` (a fraction), which the merge judges with too.
    pub max_indefinite: f64,
}

/// `probe: reset` with `wait:`: which phase, and how long it may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetWait {
    /// Index into the header's phases.
    pub phase: u32,
    /// The longest wait, seconds.
    pub wait_s: u64,
}

/// One completed (or abandoned) operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRecord {
    /// Sequence number, unique within the run (`#812` in witnesses).
    pub id: u64,
    /// Which phase (index into the header's phases).
    pub phase: u32,
    /// Which virtual user (`u32::MAX` for the coordinator's snapshots).
    pub worker: u32,
    /// The label it is reported under (the mix key: `consume`, `list`, …).
    pub op: Sym,
    /// The profile operation name.
    pub name: Sym,
    /// Tenant.
    pub tenant: Sym,
    /// Units asked for (consume), else 0.
    pub amount: u64,
    /// Intended start, µs since the run started (open model: the schedule).
    pub intended_us: u64,
    /// Actual send, µs since the run started.
    pub sent_us: u64,
    /// Completion, µs since the run started.
    pub done_us: u64,
    /// Outcome class.
    pub outcome: Outcome,
    /// HTTP status, when one came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Created or released object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Box<str>>,
    /// The parent object a scoped consume acted inside (a configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<str>>,
    /// For list operations: what was read. Shared: while a target answers the same
    /// list, every record holds the same readings (one allocation, serialized once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Readings>,
    /// Short detail for errors and unclassified answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Box<str>>,
}

/// A whole history: header and records in completion order.
#[derive(Debug, Clone)]
pub struct History {
    /// Metadata.
    pub header: Header,
    /// Every operation.
    pub ops: Vec<OpRecord>,
}

#[cfg(test)]
impl Header {
    /// A test header: tenant "org", one phase "a", no quotas or operations, no clock
    /// control. Tests that need declarations build their own.
    pub(crate) fn sample() -> Header {
        serde_json::from_value(serde_json::json!({
            "type": "header", "history_version": HISTORY_VERSION,
            "scenario": "s", "profile": "p", "target": "http://127.0.0.1:1",
            "tenant": "org", "started_at": "2026-11-21T05:00:00Z", "phases": ["a"],
            "quotas": [], "operations": {},
            "capabilities": {"consistency_window": "0s", "reset_tolerance": "0s"},
            "clock_control": false
        }))
        .expect("the sample header is valid")
    }
}

#[cfg(test)]
impl OpRecord {
    /// A test record: operation `name` (label and profile name alike) accepted with 200,
    /// sent at `sent_us` (as intended) and done at `done_us`, by worker 0 in phase 0, one
    /// unit, tenant "t". Tests change the fields their case is about.
    pub(crate) fn sample(id: u64, name: &str, sent_us: u64, done_us: u64) -> OpRecord {
        OpRecord {
            id,
            phase: 0,
            worker: 0,
            op: name.into(),
            name: name.into(),
            tenant: "t".into(),
            amount: 1,
            intended_us: sent_us,
            sent_us,
            done_us,
            outcome: Outcome::Accepted,
            status: Some(200),
            object: None,
            parent: None,
            snapshot: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn record_footprint_is_known() {
        // Guards the figure docs/architecture.md states for memory planning.
        assert!(
            std::mem::size_of::<OpRecord>() <= 256,
            "{}",
            std::mem::size_of::<OpRecord>()
        );
    }
}

#[cfg(test)]
mod shard_tests {
    use super::*;

    #[test]
    fn a_merged_history_keeps_its_shards_and_reads_back_as_any_history() {
        let mut h = crate::report::example::example_history();
        h.header.shards = vec![ShardInfo {
            index: 2,
            count: 4,
            offset_us: -1_250,
            bound_us: 500_000,
            source: "date-header".into(),
            max_indefinite: 0.05,
        }];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let mut w = HistoryWriter::create(&path, &h.header).unwrap();
        for o in &h.ops {
            w.append_in_shard(o, 2).unwrap();
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let second = text.lines().nth(1).unwrap();
        assert!(second.ends_with(",\"shard\":2}"), "{second}");
        let back = load(&path).unwrap();
        assert_eq!(back.header.shards, h.header.shards);
        assert_eq!(back.ops, h.ops);
        // A single run's header has no `shards` at all.
        let single =
            serde_json::to_string(&crate::report::example::example_history().header).unwrap();
        assert!(!single.contains("shards"), "{single}");
    }
}
