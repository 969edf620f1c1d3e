//! The report: one model, many exporters, atomic redacted writes.

pub(crate) mod errors;
pub(crate) mod escape;
pub mod example;
pub mod export;
mod model;
pub(crate) mod plot;
mod redacted;
mod schema;
mod write;

pub use export::markdown::append_step_summary;
pub use model::*;
pub use redacted::redacted;
pub use schema::summary_schema;
pub use write::write_atomic;

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Writes every file of [`export::all`] into `dir`: the model is masked first
/// ([`redacted`]), each file is written atomically. Returns the paths written.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let clean = redacted(report);
    export::all()
        .iter()
        .map(|e| {
            let path = dir.join(e.file_name());
            write_atomic(&path, &e.render(&clean)?)?;
            Ok(path)
        })
        .collect()
}
