//! summary.json: the versioned public contract (docs/summary.md).

use super::Exporter;
use crate::error::Error;
use crate::report::Report;

/// Writes summary.json.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn render(&self, report: &Report) -> Result<Vec<u8>, Error> {
        let mut out = serde_json::to_vec_pretty(report)
            .map_err(|e| Error::Target(format!("cannot serialize the report: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }
}
