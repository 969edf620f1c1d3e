//! How an operation ended: the outcome classes every stage shares.

use serde::{Deserialize, Serialize};

/// How an operation ended. Only definite answers decide rules; `Indeterminate` may have
/// been applied and only widens bounds; `NotSent` never reached the target
/// (docs/rules.md, "Outcomes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
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
    /// Rate limited (a 429 with `Retry-After`, as the profile declares it): nothing was
    /// applied, and it is not a quota decision.
    RejectedRate,
    /// A definite answer that applied nothing, where the profile declares it so (an
    /// unclassified answer the profile calls an error).
    Error,
    /// It may have been applied: a timeout after sending, a connection lost after the
    /// request was written, a body lost mid-transfer, a gateway 502/503/504.
    Indeterminate,
    /// It never left: connection refused, DNS, TLS handshake, a bad URL. Certainly not
    /// applied, and no answer of the target.
    NotSent,
}

impl Outcome {
    /// All outcomes, in report order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Accepted,
        Outcome::RejectedQuota,
        Outcome::RejectedInvalid,
        Outcome::RejectedAuth,
        Outcome::RejectedRate,
        Outcome::Error,
        Outcome::Indeterminate,
        Outcome::NotSent,
    ];

    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::RejectedQuota => "rejected_quota",
            Outcome::RejectedInvalid => "rejected_invalid",
            Outcome::RejectedAuth => "rejected_auth",
            Outcome::RejectedRate => "rejected_rate",
            Outcome::Error => "error",
            Outcome::Indeterminate => "indeterminate",
            Outcome::NotSent => "not_sent",
        }
    }

    /// Whether the target gave a definite answer: the only outcomes that may decide a
    /// rule. `Indeterminate` may or may not have been applied; `NotSent` was never
    /// answered. (Jepsen's `:info` never decides.)
    pub fn definite(self) -> bool {
        !matches!(self, Outcome::Indeterminate | Outcome::NotSent)
    }

    /// Whether it may have been applied (accepted, or indeterminate).
    pub fn possibly_applied(self) -> bool {
        matches!(self, Outcome::Accepted | Outcome::Indeterminate)
    }

    /// Index into per-outcome arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}
