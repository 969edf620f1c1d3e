//! How an operation ended: the outcome classes every stage shares.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
