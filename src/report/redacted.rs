//! A copy of the report with every registered secret masked in every string.
//!
//! write_atomic masks secrets in the rendered bytes, but an exporter that escapes text
//! (HTML `&amp;`, XML, JSON `\"`) turns a secret into a form the byte-level pass no longer
//! recognises. Masking the model before any exporter sees it closes that gap.

use serde_json::Value;

use super::Report;

fn mask(v: &mut Value) {
    match v {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(clean) = crate::redact::redact(s) {
                *s = clean;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask),
        Value::Object(o) => {
            let entries = std::mem::take(o);
            for (k, mut val) in entries {
                mask(&mut val);
                o.insert(crate::redact::redact(&k).into_owned(), val);
            }
        }
        _ => {}
    }
}

/// The report with every registered secret masked in its strings (and map keys).
///
/// Should masking break the structure (a secret equal to an enum name such as `pass`),
/// the report is returned unchanged: write_atomic still masks the rendered bytes.
pub fn redacted(report: &Report) -> Report {
    let Ok(mut v) = serde_json::to_value(report) else {
        return report.clone();
    };
    mask(&mut v);
    serde_json::from_value(v).unwrap_or_else(|_| report.clone())
}
