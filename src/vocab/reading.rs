//! What a list operation read: one reading per quota, shared between records.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Sym;

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
