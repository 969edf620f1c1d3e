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
/// ([`redacted`]), each file is written atomically. Returns the paths written; stops at
/// the first that cannot be.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    write_each(report, dir)
        .into_iter()
        .map(|(path, r)| r.map(|()| path))
        .collect()
}

/// [`write_all`] trying every file whatever befell the others (a full disk may take
/// the small ones): each path with whether it was written.
pub fn write_each(report: &Report, dir: &Path) -> Vec<(PathBuf, Result<(), Error>)> {
    let clean = redacted(report);
    export::all()
        .iter()
        .map(|e| {
            let path = dir.join(e.file_name());
            let r = e
                .render(&clean)
                .and_then(|bytes| write_atomic(&path, &bytes));
            (path, r)
        })
        .collect()
}
