//! `${VAR}` and `${VAR:-default}` substitution from the environment.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer};

/// Variables given on the command line (`run -e KEY=VALUE`): they take precedence over
/// the environment, for every `${VAR}` of every scenario the process loads.
static OVERRIDES: std::sync::RwLock<BTreeMap<String, String>> =
    std::sync::RwLock::new(BTreeMap::new());

/// Sets the command line's variables (replacing any set before).
pub fn set_overrides(vars: BTreeMap<String, String>) {
    if let Ok(mut o) = OVERRIDES.write() {
        *o = vars;
    }
}

/// A variable's value: the command line's, else the environment's.
pub fn lookup(name: &str) -> Option<String> {
    OVERRIDES
        .read()
        .ok()
        .and_then(|o| o.get(name).cloned())
        .or_else(|| std::env::var(name).ok())
}

/// Substitutes a value written outside the fields that keep their template
/// ([`EnvString`]), registering values of secret-named variables for redaction.
pub fn substitute_value(text: &str) -> Result<String, String> {
    substitute(text, |k| {
        let v = lookup(k);
        if let (Some(v), true) = (&v, secret_name(k)) {
            crate::redact::register(v);
        }
        v
    })
    .map(|(v, _)| v)
}

/// A string from a scenario whose `${VAR}` references were resolved at load time.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvString {
    /// The text as written in the file (safe to print: it holds names, not values).
    pub template: String,
    /// The resolved value.
    pub value: String,
    /// Whether any part came from the environment.
    pub from_env: bool,
    /// Values taken from set variables whose names look secret (TOKEN, KEY, SECRET,
    /// PASSWORD, AUTH, CREDENTIAL): registered for redaction.
    pub secrets: Vec<String>,
}

/// Whether a variable name suggests its value is a secret.
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "TOKEN",
        "KEY",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "AUTH",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
}

impl fmt::Debug for EnvString {
    // The resolved value may be a secret: debug output shows the template only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvString({:?})", self.template)
    }
}

impl EnvString {
    /// A literal with no substitution.
    pub fn literal(s: &str) -> Self {
        EnvString {
            template: s.into(),
            value: s.into(),
            from_env: false,
            secrets: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for EnvString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let template = String::deserialize(d)?;
        let secrets = std::cell::RefCell::new(Vec::new());
        let (value, from_env) = substitute(&template, |k| {
            let v = lookup(k);
            if let (Some(v), true) = (&v, secret_name(k)) {
                secrets.borrow_mut().push(v.clone());
            }
            v
        })
        .map_err(de::Error::custom)?;
        Ok(EnvString {
            template,
            value,
            from_env,
            secrets: secrets.into_inner(),
        })
    }
}

/// Replaces `${VAR}` / `${VAR:-default}` using `lookup`; `$$` is a literal `$`.
/// Returns the result and whether anything was substituted.
pub fn substitute(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(text.len());
    let mut used = false;
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body.find('}') else {
            return Err(format!(
                "unclosed `${{` in {text:?}; expected ${{VAR}} or ${{VAR:-default}}"
            ));
        };
        let inner = &body[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "invalid variable name {name:?} in {text:?}; expected letters, digits and _"
            ));
        }
        match lookup(name).or_else(|| default.map(str::to_string)) {
            Some(v) => out.push_str(&v),
            None => {
                return Err(format!(
                    "environment variable {name} is not set and has no default (write ${{{name}:-value}} to give one)"
                ))
            }
        }
        used = true;
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Ok((out, used))
}

// The JSON Schemas (docs/scenario.schema.json, docs/summary.schema.json) are generated
// by tests only: schemars is a dev-dependency, out of the binary's build. Kept last,
// with the tests: tests/suite/layers.rs reads a file only up to its first cfg(test).
#[cfg(test)]
impl schemars::JsonSchema for EnvString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "EnvString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A string; ${VAR} and ${VAR:-default} are taken from the environment"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        (k == "SET").then(|| "v".to_string())
    }

    #[test]
    fn substitutes_set_and_default_values() {
        assert_eq!(substitute("a${SET}b", env).unwrap(), ("avb".into(), true));
        assert_eq!(substitute("${NOPE:-d}", env).unwrap(), ("d".into(), true));
        assert_eq!(substitute("${NOPE:-}", env).unwrap(), ("".into(), true));
        assert_eq!(substitute("$$5 $x", env).unwrap(), ("$5 $x".into(), false));
    }

    #[test]
    fn unset_without_default_names_the_variable() {
        let e = substitute("Bearer ${TOKEN}", env).unwrap_err();
        assert!(e.contains("TOKEN is not set"), "{e}");
        assert!(substitute("${A", env).is_err());
        assert!(substitute("${A B}", env).is_err());
    }
}
