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

    /// A history that stopped at a failed write is said in every file, from the one
    /// notice the model gives (`Report::notices`), not rebuilt per format.
    #[test]
    fn a_stopped_history_is_said_in_every_file() {
        let mut r = example();
        r.history_write = Some(crate::history::WriteStopped {
            file: "/runs/x/history.jsonl".into(),
            os_error: "No space left on device (os error 28)".into(),
            records_written: 1234,
            last_whole_line: 1235,
            records_lost: 77,
            cut: true,
        });
        let where_ = "its last whole line is line 1235 (the header and 1234 records)";
        assert!(r.notices()[0].text.contains(where_), "{:?}", r.notices());
        // summary.json holds it as data (below); the others in words.
        for e in all().iter().filter(|e| e.file_name() != "summary.json") {
            let text = String::from_utf8(e.render(&r).unwrap()).unwrap();
            assert!(
                text.contains(where_),
                "{} does not say where: {text}",
                e.file_name()
            );
            assert!(text.contains("77 records"), "{}", e.file_name());
        }
        let v: serde_json::Value =
            serde_json::from_slice(&JsonExporter.render(&r).unwrap()).unwrap();
        assert_eq!(v["history_write"]["records_written"], 1234);
        assert_eq!(v["history_write"]["last_whole_line"], 1235);
        let j = String::from_utf8(JunitExporter.render(&r).unwrap()).unwrap();
        assert!(j.contains("<testcase name=\"history_write\""), "{j}");
        // Without it, no file says so.
        r.history_write = None;
        for e in all() {
            let text = String::from_utf8(e.render(&r).unwrap()).unwrap();
            assert!(!text.contains("last whole line"), "{}", e.file_name());
        }
    }
}
