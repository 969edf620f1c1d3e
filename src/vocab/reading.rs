//! What a list operation read: one reading per quota, shared between records.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Sym;

/// What one list operation read for one quota.
///
/// **Values out of range.** A list answer whose values fall outside what the profile
/// allows (a negative, fractional or string limit or counter, `remaining` above the
/// limit, a missing field) is not thrown away: that is evidence about the target, not
/// noise. The list is recorded `accepted` with
/// * `snapshot`: the readings of the quotas whose values could be represented (a
///   negative `remaining` is kept: consumed = limit − remaining, above the limit, which
///   is what an over-counted quota looks like), and
/// * `note`: [`OUT_OF_RANGE_NOTE`] followed by every problem, `; `-separated, each
///   naming its quota (`value out of range: item 1 (q): limit -1 at /quota is not a
///   non-negative integer`). [`out_of_range`] tells such a note.
///
/// A quota whose values could not be represented is absent from the readings and named
/// in the note; the listing rules fail on the note, and the rest of the checker sees
/// only values the target really listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    /// Quota name.
    pub name: Sym,
    /// The limit reported.
    pub limit: u64,
    /// What was consumed (derived from `remaining` when the API reports that). For a
    /// scoped quota: the largest count over the parents listed, an upper bound for
    /// every one of them (the per-parent counts are in `parents`).
    pub consumed: u64,
    /// How long after its answer the quota's current window ends, µs, where the profile
    /// declares where the answer says so (`read.expires_in`): it places first-hit
    /// windows, which a history alone cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_in_us: Option<u64>,
    /// The quota was missing from the answer and, as the profile declares
    /// (`read.absent: zero`), read as nothing consumed: no window was open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
    /// For a scoped quota counted from a resources listing: the count in each parent
    /// listed, by the parent's id (a configuration's destinations). A parent absent
    /// from the map was not listed, so its count is unknown, never 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parents: Option<Box<BTreeMap<String, u64>>>,
}

impl Reading {
    /// A reading of a quota counted as one number: no window information, no per-parent
    /// counts.
    pub fn new(name: impl Into<Sym>, limit: u64, consumed: u64) -> Reading {
        Reading {
            name: name.into(),
            limit,
            consumed,
            ends_in_us: None,
            absent: false,
            parents: None,
        }
    }

    /// The count listed for `parent`, when the reading has per-parent counts and the
    /// parent was listed.
    pub fn in_parent(&self, parent: &str) -> Option<u64> {
        self.parents.as_ref()?.get(parent).copied()
    }
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

/// How an accepted list record's `note` starts when some listed values were out of range
/// (see [`Reading`]).
pub const OUT_OF_RANGE_NOTE: &str = "value out of range: ";

/// Whether a list record's note says some of its values were out of range.
pub fn out_of_range(note: Option<&str>) -> bool {
    note.is_some_and(|n| n.starts_with(OUT_OF_RANGE_NOTE))
}
