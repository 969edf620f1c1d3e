//! Who the implementation under test is, as the scenario states it and reports show it.

use schemars::JsonSchema;
use serde::Deserialize;

/// The implementation's identity as the vendor states it.
#[derive(Debug, Clone, Deserialize, JsonSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    /// Product or service name.
    pub name: String,
    /// Version string.
    #[serde(default)]
    pub version: Option<String>,
}
