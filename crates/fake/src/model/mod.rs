//! The quota model: a pure state machine over organizations, driven by the clock.
//! It knows nothing of HTTP; routes translate requests into these calls and turn the
//! records it returns into wire views.
//!
//! Split by job: [`state`] (organizations, counters, the check-and-consume and the
//! `non-atomic` race window), [`adobe`] (work orders and expirations), [`didomi`]
//! (configurations and destinations), [`truth`] (ground truth for tests and tools).

pub mod adobe;
pub mod didomi;
pub mod state;
pub mod truth;

pub use adobe::{TtlInput, WorkOrderInput};
pub use state::{parse_id, Model, QuotaLine, QuotaRejection, Refusal, Window, RACE_WINDOW};
pub use truth::{ConfigStateView, OrgStateView, QuotaStateView};
