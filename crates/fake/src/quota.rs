//! The quota catalogue as data (names, kinds, seed defaults) and the one admission
//! decision every consuming operation goes through.
//!
//! Keeping the decision a pure function over `(consumed, limit)` pairs means the
//! correct rule and each seeded off-by-one fault can be tested without any state.

use serde::Serialize;

use super::faults::FaultSet;

/// Which API a quota belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Adobe Experience Platform Data Hygiene.
    Adobe,
    /// Didomi batch exports.
    Didomi,
}

/// How a quota is consumed and released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaKind {
    /// Consumption summed over a calendar day (00:00 UTC).
    Daily,
    /// Consumption summed over a calendar month (1st, 00:00 UTC).
    Monthly,
    /// Number of resources active at the same time (freed on release).
    Concurrent,
    /// Number of child resources per parent resource (freed on detach).
    Scoped,
}

/// One quota the fake knows.
#[derive(Debug, Clone, Copy)]
pub struct QuotaDef {
    /// Wire name (`dailyConsumerDeleteIdentitiesQuota`, `exports_configs`, ...).
    pub name: &'static str,
    /// Which API lists it.
    pub api: Api,
    /// How it is consumed and released.
    pub kind: QuotaKind,
    /// The seed default limit.
    pub default_limit: u64,
    /// The description the list endpoint shows.
    pub description: &'static str,
}

/// Index of `datasetExpirationQuota` in [`QUOTAS`].
pub const DATASET_EXPIRATION: usize = 0;
/// Index of `dailyConsumerDeleteIdentitiesQuota`.
pub const DAILY_DELETE: usize = 1;
/// Index of `monthlyConsumerDeleteIdentitiesQuota`.
pub const MONTHLY_DELETE: usize = 2;
/// Index of `monthlyUpdatedFieldIdentitiesQuota`.
pub const MONTHLY_UPDATED: usize = 3;
/// Index of `exports_configs`.
pub const EXPORTS_CONFIGS: usize = 4;
/// Index of `exports_destinations`.
pub const EXPORTS_DESTINATIONS: usize = 5;
/// Number of quotas in [`QUOTAS`].
pub const N_QUOTAS: usize = 6;

/// One limit per quota, indexed like [`QUOTAS`].
pub type Limits = [u64; N_QUOTAS];

/// Every quota of both APIs, with the seed defaults (reference/quota-apis.md).
pub const QUOTAS: [QuotaDef; N_QUOTAS] = [
    QuotaDef {
        name: "datasetExpirationQuota",
        api: Api::Adobe,
        kind: QuotaKind::Concurrent,
        default_limit: 50,
        description: "The number of dataset expirations that can be pending at the same time.",
    },
    QuotaDef {
        name: "dailyConsumerDeleteIdentitiesQuota",
        api: Api::Adobe,
        kind: QuotaKind::Daily,
        default_limit: 600_000,
        description:
            "The number of identities that can be deleted by record-delete work orders per day.",
    },
    QuotaDef {
        name: "monthlyConsumerDeleteIdentitiesQuota",
        api: Api::Adobe,
        kind: QuotaKind::Monthly,
        default_limit: 600_000,
        description:
            "The number of identities that can be deleted by record-delete work orders per month.",
    },
    QuotaDef {
        name: "monthlyUpdatedFieldIdentitiesQuota",
        api: Api::Adobe,
        kind: QuotaKind::Monthly,
        default_limit: 0,
        description: "The number of identities whose fields can be updated per month.",
    },
    QuotaDef {
        name: "exports_configs",
        api: Api::Didomi,
        kind: QuotaKind::Concurrent,
        default_limit: 3,
        description: "Batch export configurations that can be enabled at the same time.",
    },
    QuotaDef {
        name: "exports_destinations",
        api: Api::Didomi,
        kind: QuotaKind::Scoped,
        default_limit: 2,
        description: "Destinations that can be attached to one export configuration.",
    },
];

/// The seed default limits.
pub fn seed_limits() -> Limits {
    let mut l = [0; N_QUOTAS];
    for (i, q) in QUOTAS.iter().enumerate() {
        l[i] = q.default_limit;
    }
    l
}

/// Index in [`QUOTAS`] of the quota called `name`.
pub fn index_of(name: &str) -> Option<usize> {
    QUOTAS.iter().position(|q| q.name == name)
}

/// What to do with an order of `amount` against some quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admit it and add `count` to every quota touched (`count < amount` only under the
    /// `partial-admit` fault).
    Admit {
        /// Amount to add to every touched counter.
        count: u64,
    },
    /// Reject it because of the touched quota at position `which`; still add `count`
    /// (0 unless the `count-quota-rejected` fault is on).
    Reject {
        /// Position (in the slice given to [`decide`]) of the first quota that refused.
        which: usize,
        /// Amount to add anyway.
        count: u64,
    },
}

/// Decides an order of `amount` against `(consumed, limit)` pairs, all or nothing:
/// admitted only if every quota has room for the whole amount (limit 0 admits nothing).
/// The seeded limit faults bend exactly this rule and nothing else.
pub fn decide(faults: &FaultSet, touched: &[(u64, u64)], amount: u64) -> Decision {
    let fits = |consumed: u64, limit: u64| {
        let after = consumed.saturating_add(amount);
        if faults.admit_over_limit {
            after <= limit.saturating_add(1)
        } else if faults.reject_before_limit {
            after < limit
        } else {
            after <= limit
        }
    };
    match touched.iter().position(|&(c, l)| !fits(c, l)) {
        None => Decision::Admit { count: amount },
        Some(which) => {
            if faults.partial_admit {
                let remaining = touched
                    .iter()
                    .map(|&(c, l)| l.saturating_sub(c))
                    .min()
                    .unwrap_or(0);
                if remaining > 0 && remaining < amount {
                    return Decision::Admit { count: remaining };
                }
            }
            let count = if faults.count_quota_rejected {
                amount
            } else {
                0
            };
            Decision::Reject { which, count }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(spec: &[&str]) -> FaultSet {
        FaultSet::parse(&spec.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn exact_fill_is_admitted_one_more_is_rejected() {
        let f = FaultSet::none();
        assert_eq!(decide(&f, &[(7, 10)], 3), Decision::Admit { count: 3 });
        assert_eq!(
            decide(&f, &[(7, 10)], 4),
            Decision::Reject { which: 0, count: 0 }
        );
    }

    #[test]
    fn all_or_nothing_over_several_quotas() {
        let f = FaultSet::none();
        assert_eq!(
            decide(&f, &[(0, 10), (9, 10)], 2),
            Decision::Reject { which: 1, count: 0 }
        );
    }

    #[test]
    fn zero_limit_admits_nothing() {
        assert_eq!(
            decide(&FaultSet::none(), &[(0, 0)], 1),
            Decision::Reject { which: 0, count: 0 }
        );
    }

    #[test]
    fn admit_over_limit_allows_limit_plus_one() {
        let f = faults(&["admit-over-limit"]);
        assert_eq!(decide(&f, &[(9, 10)], 2), Decision::Admit { count: 2 });
        assert!(matches!(decide(&f, &[(9, 10)], 3), Decision::Reject { .. }));
    }

    #[test]
    fn reject_before_limit_refuses_the_exact_fill() {
        let f = faults(&["reject-before-limit"]);
        assert!(matches!(decide(&f, &[(7, 10)], 3), Decision::Reject { .. }));
        assert_eq!(decide(&f, &[(7, 10)], 2), Decision::Admit { count: 2 });
    }

    #[test]
    fn partial_admit_counts_what_remains() {
        let f = faults(&["partial-admit"]);
        assert_eq!(
            decide(&f, &[(7, 10), (0, 10)], 5),
            Decision::Admit { count: 3 }
        );
        assert!(matches!(
            decide(&f, &[(10, 10)], 5),
            Decision::Reject { .. }
        ));
    }

    #[test]
    fn count_quota_rejected_adds_the_amount_anyway() {
        let f = faults(&["count-quota-rejected"]);
        assert_eq!(
            decide(&f, &[(9, 10)], 5),
            Decision::Reject { which: 0, count: 5 }
        );
    }

    #[test]
    fn names_round_trip() {
        for (i, q) in QUOTAS.iter().enumerate() {
            assert_eq!(index_of(q.name), Some(i));
        }
        assert_eq!(index_of("nope"), None);
        assert_eq!(seed_limits(), [50, 600_000, 600_000, 0, 3, 2]);
    }
}
