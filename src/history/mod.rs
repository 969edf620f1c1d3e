//! The operation history: an append-only record of every operation, and the header
//! that makes a saved history self-contained (the checker needs nothing else).

mod file;
mod sym;

pub use file::{load, HistoryWriter};
pub use sym::Sym;

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::profile::{Capabilities, OpKind, QuotaDecl};

/// Format version of history.jsonl.
pub const HISTORY_VERSION: u32 = 1;

/// How an operation ended, as the target answered it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The work was accepted.
    Accepted,
    /// Rejected because a quota was full.
    RejectedQuota,
    /// Rejected by validation.
    RejectedInvalid,
    /// Rejected for missing or invalid credentials.
    RejectedAuth,
    /// A definite failure that took no effect (a 5xx, an unclassified answer).
    Error,
    /// Unknown whether it took effect (timeout, connection lost mid-request).
    Indeterminate,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Accepted,
        Outcome::RejectedQuota,
        Outcome::RejectedInvalid,
        Outcome::RejectedAuth,
        Outcome::Error,
        Outcome::Indeterminate,
    ];

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::RejectedQuota => "rejected_quota",
            Outcome::RejectedInvalid => "rejected_invalid",
            Outcome::RejectedAuth => "rejected_auth",
            Outcome::Error => "error",
            Outcome::Indeterminate => "indeterminate",
        }
    }

    /// Index into per-outcome arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What one list operation read for one quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Quota name.
    pub name: Sym,
    /// The limit reported.
    pub limit: u64,
    /// What was consumed (derived from `remaining` when the API reports that).
    pub consumed: u64,
}

/// The readings of one list operation, shared: cloning one is a reference count.
/// Serialized as the plain array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Readings(pub Arc<[Reading]>);

impl std::ops::Deref for Readings {
    type Target = [Reading];
    fn deref(&self) -> &[Reading] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Readings {
    type Item = &'a Reading;
    type IntoIter = std::slice::Iter<'a, Reading>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Vec<Reading>> for Readings {
    fn from(v: Vec<Reading>) -> Readings {
        Readings(v.into())
    }
}

impl Readings {
    /// Whether both are the same allocation (not merely equal readings).
    pub fn same(&self, other: &Readings) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

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
