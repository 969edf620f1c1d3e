//! Operation kinds: what a profile operation does to the quotas.

use serde::{Deserialize, Serialize};

/// What kind of operation a profile entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Consumes quota (a valid work order).
    Consume,
    /// An order the API must reject by validation.
    ConsumeInvalid,
    /// Ends work and frees a concurrent slot.
    Release,
    /// Lists quotas.
    List,
    /// A list the API must reject by validation (an unknown filter).
    ListInvalid,
    /// Moves the target's clock (a test hook).
    AdvanceClock,
    /// Reads the target's clock (`now:` points at the instant in its answer), so the run
    /// reasons in the target's time rather than the wall clock's.
    Clock,
    /// Creates an object that consumes no quota but that a consume acts on
    /// (an export configuration that is later enabled).
    Setup,
    /// A read-only listing of resources, used to count consumption.
    Resources,
    /// Deletes an object the run created (`deletes:` names the operation that made it),
    /// sent when the run cleans up.
    Delete,
}

impl OpKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Consume => "consume",
            OpKind::ConsumeInvalid => "consume_invalid",
            OpKind::Release => "release",
            OpKind::List => "list",
            OpKind::ListInvalid => "list_invalid",
            OpKind::AdvanceClock => "advance_clock",
            OpKind::Clock => "clock",
            OpKind::Setup => "setup",
            OpKind::Resources => "resources",
            OpKind::Delete => "delete",
        }
    }
    /// Parses a kind name.
    pub fn parse(s: &str) -> Option<OpKind> {
        Some(match s {
            "consume" => OpKind::Consume,
            "consume_invalid" => OpKind::ConsumeInvalid,
            "release" => OpKind::Release,
            "list" => OpKind::List,
            "list_invalid" => OpKind::ListInvalid,
            "advance_clock" => OpKind::AdvanceClock,
            "clock" => OpKind::Clock,
            "setup" => OpKind::Setup,
            "resources" => OpKind::Resources,
            "delete" => OpKind::Delete,
            _ => return None,
        })
    }
}
