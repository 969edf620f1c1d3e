//! Who sent an operation, and the label of the coordinator's own reads.

/// The worker id of the coordinator: phase-opening snapshots and probes are its
/// operations, never a virtual user's.
pub const COORDINATOR: u32 = u32::MAX;

/// The label of the coordinator's quiescent list reads (reported apart from user lists).
pub const SNAPSHOT: &str = "snapshot";

/// The label of the releases and deletes the run sends to clean up what it created.
pub const CLEANUP: &str = "cleanup";

/// The note of an operation cut short by an interrupt (Ctrl-C, SIGTERM, the run's
/// deadline): recorded as indeterminate, but never counted as an error of the target.
pub const INTERRUPTED_NOTE: &str = "interrupted while in flight";
