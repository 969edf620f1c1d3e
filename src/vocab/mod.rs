//! The shared words: what every stage of quotabench speaks and none owns.
//!
//! Operation kinds, outcome classes, worker ids, quota declarations and periods, target
//! capabilities, list readings, verdicts, phase delivery and units. Every stage imports
//! this module; it imports no stage (`tests/suite/layers.rs` keeps that true), so a
//! word changes in one place and no two stages need each other to agree on it.

pub mod boundary;
mod budget;
mod delivery;
mod implementation;
mod op;
mod outcome;
mod quota;
mod reading;
mod sym;
pub mod units;
mod verdict;
mod worker;

pub use budget::{BudgetEntry, BudgetPlan};
pub use delivery::PhaseStats;
pub use implementation::Implementation;
pub use op::OpKind;
pub use outcome::Outcome;
pub use quota::{
    declared_before, AuthDecl, Capabilities, PeriodDecl, QuotaDecl, QuotaKind, MAX_QUOTAS,
};
pub use reading::{out_of_range, Reading, Readings, OUT_OF_RANGE_NOTE};
pub use sym::Sym;
pub use verdict::Verdict;
pub use worker::{CLEANUP, COORDINATOR, INTERRUPTED_NOTE, SNAPSHOT};
