//! Scoped quotas, parent by parent: what each parent object (an export configuration)
//! saw — consumes acting inside it, releases of what they made, its creation by the run
//! — and its count as the snapshots listed it. A scoped quota's limit holds in each
//! parent on its own, so every rule judging one asks this, never the quota-wide maximum
//! (which is only an upper bound for every parent).

use std::collections::BTreeMap;

use super::facts::{quota_bit, Facts};
use crate::history::History;
use crate::vocab::{OpKind, Outcome, QuotaKind};

/// A parent's count at a known instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The count.
    pub count: u64,
    /// When it was true: the snapshot's (or creation's) send and completion, µs.
    pub sent: u64,
    pub done: u64,
    /// Where it comes from, for witnesses (`snapshot #12`, `its creation #8`).
    pub origin: String,
    /// The snapshot's index into `Facts::snapshots`, when it is one.
    pub snap: Option<usize>,
}

/// What happened inside one parent, as indexes into `History::ops` by completion.
#[derive(Debug, Default)]
pub struct Log {
    /// The setup that created it, when the run did: (sent, done, id).
    pub created: Option<(u64, u64, u64)>,
    /// Consumes acting inside it (any outcome).
    pub consumes: Vec<usize>,
    /// Releases of what those consumes made (any outcome).
    pub releases: Vec<usize>,
}

/// One scoped quota's parents.
pub struct Scoped {
    /// The quota's name.
    pub quota: String,
    /// Its bit in `Decl` masks.
    pub bit: u64,
    /// By parent id.
    pub parents: BTreeMap<String, Log>,
}

/// Every scoped quota of the history with its parents (main tenant only).
pub fn scoped(h: &History, f: &Facts) -> Vec<Scoped> {
    h.header
        .quotas
        .iter()
        .filter(|q| q.kind == QuotaKind::Scoped)
        .map(|q| build(h, f, &q.name))
        .collect()
}

fn build(h: &History, f: &Facts, quota: &str) -> Scoped {
    let bit = quota_bit(h, quota);
    let mut parents: BTreeMap<String, Log> = BTreeMap::new();
    for &i in &f.order {
        let o = &h.ops[i];
        let Some(d) = f.decl(i) else { continue };
        if o.tenant != f.tenant {
            continue;
        }
        if d.kind == OpKind::Setup && o.outcome == Outcome::Accepted {
            if let Some(id) = o.object.as_deref() {
                parents.entry(id.to_string()).or_default().created =
                    Some((o.sent_us, o.done_us, o.id));
            }
            continue;
        }
        let Some(parent) = o.parent.as_deref() else {
            continue;
        };
        if d.kind == OpKind::Consume && d.touches & bit != 0 {
            parents
                .entry(parent.to_string())
                .or_default()
                .consumes
                .push(i);
        } else if d.kind == OpKind::Release && d.frees & bit != 0 {
            parents
                .entry(parent.to_string())
                .or_default()
                .releases
                .push(i);
        }
    }
    // Setups that are no parent of this quota's consumes are of no interest.
    parents.retain(|_, l| !l.consumes.is_empty() || !l.releases.is_empty());
    Scoped {
        quota: quota.to_string(),
        bit,
        parents,
    }
}

impl Scoped {
    /// The latest known count of `parent` at or before `t`: the last snapshot completed
    /// by then that lists the parent, or 0 at its creation by the run when that is
    /// later (or no snapshot lists it). `None`: neither is known.
    pub fn base(&self, f: &Facts, parent: &str, t: u64) -> Option<Base> {
        let snap = f.snapshots[..f.snapshots.partition_point(|s| s.done <= t)]
            .iter()
            .enumerate()
            .rev()
            .find_map(|(k, s)| {
                let n = s.get(&self.quota)?.in_parent(parent)?;
                Some(Base {
                    count: n,
                    sent: s.sent,
                    done: s.done,
                    origin: format!("snapshot #{}", s.id),
                    snap: Some(k),
                })
            });
        let created = self
            .parents
            .get(parent)
            .and_then(|l| l.created)
            .filter(|c| c.1 <= t)
            .map(|(sent, done, id)| Base {
                count: 0,
                sent,
                done,
                origin: format!("its creation #{id}"),
                snap: None,
            });
        match (snap, created) {
            (Some(s), Some(c)) if c.sent >= s.done => Some(c),
            (Some(s), _) => Some(s),
            (None, c) => c,
        }
    }

    /// The quota's limit, from the last snapshot listing it.
    pub fn limit(&self, f: &Facts) -> Option<u64> {
        f.snapshots
            .iter()
            .rev()
            .find_map(|s| s.get(&self.quota))
            .map(|r| r.limit)
    }

    /// The most that may have been consumed in `parent` by `until` (µs) counting from
    /// `b`: its count plus every consume in the parent that may have taken effect since
    /// (accepted and completed after `b.sent`, or indeterminate, whenever sent: it may
    /// take effect at any later instant), `skip` (the order judged) left out. Releases only lower a count,
    /// so leaving them out keeps this an upper bound.
    pub fn upper(&self, h: &History, parent: &str, b: &Base, until: u64, skip: u64) -> u64 {
        let Some(l) = self.parents.get(parent) else {
            return b.count;
        };
        let possible: u64 = l
            .consumes
            .iter()
            .map(|&i| &h.ops[i])
            .filter(|o| o.id != skip && o.sent_us < until)
            .filter(|o| match o.outcome {
                Outcome::Accepted => o.done_us > b.sent,
                Outcome::Indeterminate => true,
                _ => false,
            })
            .map(|o| o.amount)
            .sum();
        b.count + possible
    }
}
