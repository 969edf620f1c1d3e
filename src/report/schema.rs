//! The JSON Schema of summary.json, generated from the report model by a test so the
//! committed docs/summary.schema.json cannot drift from what the code writes. schemars
//! is a dev-dependency: the binary does not build it, the tests do.

/// The JSON Schema of summary.json, pretty-printed with a trailing newline: the committed
/// docs/summary.schema.json, which a test keeps equal to the model's.
pub fn summary_schema() -> &'static str {
    include_str!("../../docs/summary.schema.json")
}

#[cfg(test)]
mod tests {
    use super::super::Report;

    const COMMITTED: &str = "docs/summary.schema.json";

    /// The schema generated from the model, as committed.
    fn generated() -> String {
        let schema = schemars::schema_for!(Report);
        // Serializing a schema built from our own types cannot fail (no non-string keys).
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Regenerate with `QB_BLESS=1 cargo test --lib report::schema`.
    #[test]
    fn committed_schema_matches_the_model() {
        crate::committed::assert_committed(
            COMMITTED,
            &generated(),
            "src/report/model.rs",
            "report::schema",
        );
    }

    #[test]
    fn schema_requires_the_documented_fields() {
        let s: serde_json::Value = serde_json::from_str(&generated()).unwrap();
        let required = |v: &serde_json::Value| -> Vec<String> {
            v["required"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let top = required(&s);
        for f in [
            "schema_version",
            "scenario",
            "verdict",
            "rules",
            "operations",
        ] {
            assert!(top.contains(&f.to_string()), "top-level {f} not required");
        }
        let rule = required(&s["$defs"]["RuleVerdict"]);
        for f in ["id", "level", "verdict", "witness"] {
            assert!(rule.contains(&f.to_string()), "rules[].{f} not required");
        }
        let op = required(&s["$defs"]["OpStats"]);
        for f in ["count", "per_second", "latency_us", "outcomes"] {
            assert!(op.contains(&f.to_string()), "operations.*.{f} not required");
        }
        let p = required(&s["$defs"]["Percentiles"]);
        for f in ["p50", "p90", "p99", "p999", "max"] {
            assert!(p.contains(&f.to_string()), "latency_us.{f} not required");
        }
    }

    /// Every field the schema names is documented in docs/summary.md.
    #[test]
    fn every_field_is_documented() {
        let doc_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary.md");
        let doc = std::fs::read_to_string(doc_path).unwrap_or_default();
        let s: serde_json::Value = serde_json::from_str(&generated()).unwrap();
        let mut objects = vec![&s];
        objects.extend(s["$defs"].as_object().into_iter().flat_map(|d| d.values()));
        let mut missing = Vec::new();
        for o in objects {
            for name in o["properties"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.keys())
            {
                if !doc.contains(&format!("`{name}`")) {
                    missing.push(name.clone());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "docs/summary.md does not document {missing:?}"
        );
    }
}
