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

/// The JSON Schema of the scenario format.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Scenario);
    serde_json::to_value(schema).unwrap_or_default()
}
