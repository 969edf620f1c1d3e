//! Who the implementation under test is, as the scenario states it and reports show it.

use serde::Deserialize;

/// The implementation's identity as the vendor states it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Implementation {
    /// Product or service name.
    pub name: String,
    /// Version string.
    #[serde(default)]
    pub version: Option<String>,
}
