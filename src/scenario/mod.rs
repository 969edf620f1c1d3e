//! Scenarios: the YAML model, loading, `${VAR}` substitution and validation.

pub(crate) mod env;
pub(crate) mod model;
pub use crate::vocab::units;
mod overrides;
pub mod shard;
mod validate;

use std::path::{Path, PathBuf};

pub use env::set_overrides as set_variables;
pub use model::*;
pub use overrides::LoadOverrides;
pub use validate::{proxy_setting, resolve_mix, tls_settings, MixEntry};

use crate::error::Error;
use crate::yaml;

/// A scenario as loaded, with its source kept for locating later errors.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The typed scenario.
    pub scenario: Scenario,
    /// Where it was read from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

impl Loaded {
    /// A located configuration error at `field` in this scenario.
    pub fn error_at(&self, field: &str, message: impl Into<String>) -> Error {
        Error::Config(yaml::error_at(&self.path, &self.text, field, message))
    }
}

/// Reads, parses and checks a scenario file (everything that does not need the profile).
pub fn load(path: &Path) -> Result<Loaded, Error> {
    load_with(path, &LoadOverrides::default())
}

/// [`load`], with the command line's load overrides applied before validation.
pub fn load_with(path: &Path, overrides: &LoadOverrides) -> Result<Loaded, Error> {
    let text = yaml::read_file(path)?;
    load_text_with(path, &text, overrides)
}

/// Parses and checks scenario text.
pub fn load_text(path: &Path, text: &str) -> Result<Loaded, Error> {
    load_text_with(path, text, &LoadOverrides::default())
}

fn load_text_with(path: &Path, text: &str, overrides: &LoadOverrides) -> Result<Loaded, Error> {
    let scenario: Scenario = yaml::from_str_rewritten(path, text, &mut |at, value| {
        if !value.contains("${") || keeps_template(at) {
            return Ok(None);
        }
        env::substitute_value(value).map(Some)
    })?;
    let mut scenario = scenario;
    overrides
        .apply(&mut scenario)
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    let loaded = Loaded {
        scenario,
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    // Registered first: a validation error may quote a URL.
    register_secrets(&loaded.scenario);
    validate::standalone(&loaded)?;
    Ok(loaded)
}

/// Fields read as [`env::EnvString`]: they substitute while deserializing and keep the
/// text as written (safe to print, and the secrets found in it).
fn keeps_template(path: &str) -> bool {
    matches!(
        path,
        "target.base_url" | "target.tenant" | "target.other_tenant"
    ) || path.starts_with("target.headers.")
}

/// Registers every secret the scenario holds, before anything is printed or written:
/// sensitive header values, values of secret-named variables wherever they are used
/// (headers, base_url, tenants), and the URL's userinfo and secret query parameters.
fn register_secrets(s: &Scenario) {
    let t = &s.target;
    for (k, v) in &t.headers {
        if crate::redact::is_sensitive_header(k) {
            crate::redact::register(&v.value);
        }
    }
    let all = t
        .headers
        .values()
        .chain(t.base_url.iter())
        .chain(t.tenant.iter())
        .chain(t.other_tenant.iter())
        .chain(t.proxy.iter());
    for v in all {
        for secret in &v.secrets {
            crate::redact::register(secret);
        }
    }
    if let Some(u) = &t.base_url {
        crate::redact::register_url(&u.value, &t.secret_params);
        crate::redact::register_url(&u.template, &t.secret_params);
    }
    // A proxy's credentials (`http://user:password@proxy:3128`) are masked everywhere.
    if let Some(p) = &t.proxy {
        crate::redact::register_url(&crate::api::proxy::with_scheme(&p.value), &[]);
    }
}

/// The scenario format's JSON Schema (what `quotabench schema` prints), pretty-printed
/// with a trailing newline: the committed docs/scenario.schema.json. It is generated from
/// the model by a test (schemars is a dev-dependency, kept out of the binary's build),
/// which fails when the committed file differs.
pub fn schema() -> &'static str {
    include_str!("../../docs/scenario.schema.json")
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    const COMMITTED: &str = "docs/scenario.schema.json";

    fn generated() -> String {
        let schema = schemars::schema_for!(Scenario);
        // Through a `Value`, whose keys are sorted (schemars orders them its own way): the
        // form `quotabench schema` has always printed. Serializing a schema built from our
        // own types cannot fail (no non-string keys).
        let value = serde_json::to_value(schema).unwrap_or_default();
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Regenerate with `QB_BLESS=1 cargo test --lib scenario::schema_tests`.
    #[test]
    fn committed_scenario_schema_matches_the_model() {
        crate::committed::assert_committed(
            COMMITTED,
            &generated(),
            "the scenario model (src/scenario/model.rs and the types it holds)",
            "scenario::schema_tests",
        );
    }
}
