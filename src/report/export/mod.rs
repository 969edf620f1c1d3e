//! One small file per output format behind one trait (hyperfine's src/export is the model).

pub(crate) mod html;
mod json;
mod junit;
pub(crate) mod markdown;
pub mod rule_lines;
pub mod style;
mod terminal;

pub use html::HtmlExporter;
pub use json::JsonExporter;
pub use junit::JunitExporter;
pub use markdown::MarkdownExporter;
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
    vec![
        Box::new(JsonExporter),
        Box::new(JunitExporter),
        Box::new(MarkdownExporter),
        Box::new(HtmlExporter),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::example::example;

    /// A secret planted in user-visible text never reaches any written file, neither raw
    /// nor in an exporter's escaped form (`&amp;`, `&lt;`, `\"`).
    #[test]
    fn registered_secrets_never_reach_any_file() {
        let secret = "QB-s3cr&t<\"tok>-9f1c";
        crate::redact::register(secret);
        let mut r = example();
        r.rules[1].witness = Some(format!("token {secret} leaked into a witness"));
        r.rules[1].reproduce = Some(format!("curl -H 'Authorization: Bearer {secret}'"));
        r.target.tenant = secret.into();
        r.thresholds[0].threshold = format!("p99({secret}) < 5ms");
        let dir = tempfile::tempdir().unwrap();
        let written = crate::report::write_all(&r, dir.path()).unwrap();
        assert_eq!(written.len(), all().len());
        // The distinctive core survives every escaping scheme unchanged.
        let core = "s3cr";
        for p in &written {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(!text.contains(core), "{} leaks the secret", p.display());
            // Markdown escapes the mask's asterisks.
            let masked = text.contains(crate::redact::MASK) || text.contains("\\*\\*\\*");
            assert!(masked, "{} lost the mask", p.display());
        }
    }

    #[test]
    fn every_exporter_has_its_own_file() {
        let mut names: Vec<&str> = all().iter().map(|e| e.file_name()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
