//! A small JSON Schema validator: the keywords the vendored Kubernetes schemas use
//! (tests/data/k8s-schema/README.md), and nothing more. A keyword it does not know is an
//! error, not a pass, so a schema that needs more cannot be half-checked in silence.

use serde_json::Value;

/// Keywords that only annotate.
fn annotation(k: &str) -> bool {
    matches!(k, "description" | "$schema") || k.starts_with("x-kubernetes-")
}

/// Every way `doc` breaks `schema`, each `path: what was expected`.
pub fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, doc, "", &mut errors);
    errors
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    let actual = type_name(v);
    actual == t || (t == "number" && actual == "integer")
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "(the document)"
    } else {
        path
    }
}

fn check(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(s) = schema.as_object() else {
        errors.push(format!("{}: the schema is not an object", at(path)));
        return;
    };
    for (k, rule) in s {
        match k.as_str() {
            k if annotation(k) => {}
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|t| is_type(v, t)) {
                    errors.push(format!(
                        "{}: expected {}, found {} {v}",
                        at(path),
                        types.join(" or "),
                        type_name(v)
                    ));
                    return; // the other keywords would only repeat it
                }
            }
            "enum" => {
                let allowed = rule.as_array().map(Vec::as_slice).unwrap_or_default();
                if !allowed.contains(v) {
                    errors.push(format!("{}: expected one of {rule}, found {v}", at(path)));
                }
            }
            "format" => {
                let bad = match (rule.as_str(), v) {
                    (Some("int32"), Value::Number(n)) => n
                        .as_i64()
                        .is_none_or(|i| i32::try_from(i).is_err()),
                    (Some("int64"), Value::Number(n)) => n.as_i64().is_none(),
                    (Some("date-time"), Value::String(t)) => {
                        t.parse::<jiff::Timestamp>().is_err()
                    }
                    (Some("int32" | "int64" | "date-time"), _) => false,
                    (other, _) => {
                        errors.push(format!("{}: the validator does not know format {other:?}", at(path)));
                        false
                    }
                };
                if bad {
                    errors.push(format!("{}: {v} is not a valid {rule}", at(path)));
                }
            }
            "maxLength" => {
                if let (Some(max), Some(t)) = (rule.as_u64(), v.as_str()) {
                    if t.chars().count() as u64 > max {
                        errors.push(format!("{}: longer than {max} characters: {t:?}", at(path)));
                    }
                }
            }
            "required" => {
                if let Some(obj) = v.as_object() {
                    for r in rule.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if !obj.contains_key(r) {
                            errors.push(format!("{}: missing the required field {r:?}", at(path)));
                        }
                    }
                }
            }
            "properties" | "additionalProperties" => {} // together, below
            "items" => {
                if let Some(items) = v.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        check(rule, item, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            "oneOf" => {
                let alternatives = rule.as_array().map(Vec::as_slice).unwrap_or_default();
                let matching = alternatives
                    .iter()
                    .filter(|alt| {
                        let mut e = Vec::new();
                        check(alt, v, path, &mut e);
                        e.is_empty()
                    })
                    .count();
                if matching != 1 {
                    errors.push(format!(
                        "{}: expected exactly one of {rule} to match {v}, {matching} did",
                        at(path)
                    ));
                }
            }
            other => errors.push(format!(
                "{}: the validator does not know the keyword {other:?}; extend tests/suite/deploy_k8s_schema.rs",
                at(path)
            )),
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for (key, value) in obj {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match (
                props.and_then(|p| p.get(key)),
                s.get("additionalProperties"),
            ) {
                (Some(sub), _) => check(sub, value, &child, errors),
                (None, Some(Value::Bool(false))) => {
                    let mut known: Vec<&str> = props
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    known.sort_unstable();
                    errors.push(format!(
                        "{child}: unknown field {key:?}; expected one of: {}",
                        known.join(", ")
                    ));
                }
                (None, Some(extra @ Value::Object(_))) => check(extra, value, &child, errors),
                (None, _) => {}
            }
        }
    }
}
