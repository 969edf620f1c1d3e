//! One small file per output format behind one trait (hyperfine's src/export is the model).

mod json;
mod terminal;

pub use json::JsonExporter;
pub use terminal::TerminalExporter;

use crate::error::Error;
use crate::report::Report;

/// Renders a report to one output format.
pub trait Exporter {
    /// The file it writes in the run folder.
    fn file_name(&self) -> &'static str;
    /// The rendered bytes (redaction happens when written).
    fn render(&self, report: &Report) -> Result<Vec<u8>, Error>;
}

/// The exporters whose files every run folder holds.
pub fn all() -> Vec<Box<dyn Exporter>> {
    vec![Box::new(JsonExporter)]
}
