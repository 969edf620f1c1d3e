//! Request templates, compiled once and rendered cheaply per request.
//!
//! Placeholders: `{{tenant}}`, `{{amount}}`, `{{request_id}}`, `{{seq}}`, `{{id}}`,
//! `{{parent}}`, `{{index}}` (inside `$repeat`), `{{seconds}}`, `{{now+25h}}` (RFC 3339,
//! offset optional).
//! A JSON string that is exactly one numeric placeholder renders as a number.

use std::fmt::Write as _;

use serde_json::Value;

/// The values a template can draw on for one request.
#[derive(Debug, Clone, Default)]
pub struct Vars<'a> {
    /// Tenant (organization).
    pub tenant: &'a str,
    /// Units asked for.
    pub amount: u64,
    /// Unique per request within a run.
    pub request_id: &'a str,
    /// Sequence number of the operation.
    pub seq: u64,
    /// Object id (release, or the object a consume moves).
    pub id: &'a str,
    /// The parent object a consume acts inside.
    pub parent: &'a str,
    /// Seconds (advance_clock).
    pub seconds: u64,
    /// The target's notion of now, as Unix seconds (wall clock plus any advance).
    pub now_unix: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Var {
    Tenant,
    Amount,
    RequestId,
    Seq,
    Id,
    Parent,
    Index,
    Seconds,
    Now(i64),
}

impl Var {
    fn parse(name: &str) -> Result<Var, String> {
        let name = name.trim();
        Ok(match name {
            "tenant" => Var::Tenant,
            "amount" => Var::Amount,
            "request_id" => Var::RequestId,
            "seq" => Var::Seq,
            "id" => Var::Id,
            "parent" => Var::Parent,
            "index" => Var::Index,
            "seconds" => Var::Seconds,
            "now" => Var::Now(0),
            _ => {
                if let Some(off) = name.strip_prefix("now+") {
                    let d = crate::vocab::units::parse_duration(off).ok_or_else(|| {
                        format!("expected an offset like now+25h, found {{{{{name}}}}}")
                    })?;
                    Var::Now(d.as_secs() as i64)
                } else {
                    return Err(format!(
                        "unknown placeholder {{{{{name}}}}}; expected one of tenant, amount, request_id, seq, id, parent, index, seconds, now, now+DURATION"
                    ));
                }
            }
        })
    }

    fn numeric(self) -> bool {
        matches!(self, Var::Amount | Var::Seq | Var::Index | Var::Seconds)
    }

    fn write(self, v: &Vars, index: u64, out: &mut String) {
        match self {
            Var::Tenant => out.push_str(v.tenant),
            Var::Amount => write!(out, "{}", v.amount).unwrap_or(()),
            Var::RequestId => out.push_str(v.request_id),
            Var::Seq => write!(out, "{}", v.seq).unwrap_or(()),
            Var::Id => out.push_str(v.id),
            Var::Parent => out.push_str(v.parent),
            Var::Index => write!(out, "{index}").unwrap_or(()),
            Var::Seconds => write!(out, "{}", v.seconds).unwrap_or(()),
            Var::Now(off) => {
                let ts = jiff::Timestamp::from_second(v.now_unix + off)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                write!(out, "{}", ts.strftime("%Y-%m-%dT%H:%M:%SZ")).unwrap_or(())
            }
        }
    }

    fn number(self, v: &Vars, index: u64) -> u64 {
        match self {
            Var::Amount => v.amount,
            Var::Seq => v.seq,
            Var::Index => index,
            Var::Seconds => v.seconds,
            _ => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(String),
    Var(Var),
}

/// A compiled string template.
#[derive(Debug, Clone, PartialEq)]
pub struct StrTemplate(Vec<Piece>);

impl StrTemplate {
    /// Compiles `text`.
    pub fn compile(text: &str) -> Result<StrTemplate, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("{{") {
            if i > 0 {
                pieces.push(Piece::Lit(rest[..i].to_string()));
            }
            let after = &rest[i + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| format!("unclosed {{{{ in {text:?}"))?;
            pieces.push(Piece::Var(Var::parse(&after[..end])?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest.to_string()));
        }
        Ok(StrTemplate(pieces))
    }

    fn render_index(&self, v: &Vars, index: u64, out: &mut String) {
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Var(var) => var.write(v, index, out),
            }
        }
    }

    /// Whether the template has no placeholders.
    pub fn is_static(&self) -> bool {
        self.0.iter().all(|p| matches!(p, Piece::Lit(_)))
    }

    /// Whether the template's only placeholder (if any) is `{{tenant}}`: its value is
    /// then fixed for a target and can be rendered once.
    pub fn tenant_only(&self) -> bool {
        self.0
            .iter()
            .all(|p| matches!(p, Piece::Lit(_) | Piece::Var(Var::Tenant)))
    }

    /// Renders to a new string.
    pub fn render(&self, v: &Vars) -> String {
        let mut s = String::new();
        self.render_index(v, 0, &mut s);
        s
    }

    fn single_numeric(&self) -> Option<Var> {
        match self.0.as_slice() {
            [Piece::Var(v)] if v.numeric() => Some(*v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    /// A literal, pre-serialized.
    Raw(String),
    Str(StrTemplate),
    Num(Var),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
    Repeat {
        count: Var,
        item: Box<Node>,
    },
}

/// A compiled JSON body template.
#[derive(Debug, Clone)]
pub struct JsonTemplate(Node);

impl JsonTemplate {
    /// Compiles a JSON value with placeholders in its strings.
    pub fn compile(v: &Value) -> Result<JsonTemplate, String> {
        compile_node(v, "").map(JsonTemplate)
    }

    /// Renders the body into `out` (cleared first).
    pub fn render(&self, v: &Vars, out: &mut Vec<u8>) {
        out.clear();
        let mut scratch = String::new();
        render_node(&self.0, v, 0, out, &mut scratch);
    }
}

fn compile_node(v: &Value, at: &str) -> Result<Node, String> {
    Ok(match v {
        Value::String(s) if s.contains("{{") => {
            let t = StrTemplate::compile(s).map_err(|e| format!("{at}: {e}"))?;
            match t.single_numeric() {
                Some(var) => Node::Num(var),
                None => Node::Str(t),
            }
        }
        Value::Array(items) => Node::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| compile_node(x, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) if map.contains_key("$repeat") => {
            let count = match map.get("$repeat") {
                Some(Value::String(s)) => {
                    StrTemplate::compile(s)?.single_numeric().ok_or_else(|| {
                        format!(
                            "{at}.$repeat: expected a numeric placeholder like \"{{{{amount}}}}\""
                        )
                    })?
                }
                _ => {
                    return Err(format!(
                        "{at}.$repeat: expected a numeric placeholder like \"{{{{amount}}}}\""
                    ))
                }
            };
            let item = map
                .get("item")
                .ok_or_else(|| format!("{at}: $repeat needs an `item` template"))?;
            if map.len() != 2 {
                return Err(format!("{at}: $repeat takes only `$repeat` and `item`"));
            }
            Node::Repeat {
                count,
                item: Box::new(compile_node(item, &format!("{at}.item"))?),
            }
        }
        Value::Object(map) => Node::Object(
            map.iter()
                .map(|(k, x)| {
                    let key = serde_json::to_string(k).unwrap_or_default();
                    compile_node(x, &format!("{at}.{k}")).map(|n| (key, n))
                })
                .collect::<Result<_, _>>()?,
        ),
        other => Node::Raw(other.to_string()),
    })
}

fn render_node(n: &Node, v: &Vars, index: u64, out: &mut Vec<u8>, scratch: &mut String) {
    match n {
        Node::Raw(s) => out.extend_from_slice(s.as_bytes()),
        Node::Str(t) => {
            scratch.clear();
            t.render_index(v, index, scratch);
            // Writing a &str to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, scratch.as_str());
        }
        Node::Num(var) => {
            let _ = write_u64(out, var.number(v, index));
        }
        Node::Array(items) => {
            out.push(b'[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                render_node(x, v, index, out, scratch);
            }
            out.push(b']');
        }
        Node::Object(fields) => {
            out.push(b'{');
            for (i, (k, x)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                render_node(x, v, index, out, scratch);
            }
            out.push(b'}');
        }
        Node::Repeat { count, item } => {
            out.push(b'[');
            for i in 0..count.number(v, index) {
                if i > 0 {
                    out.push(b',');
                }
                render_node(item, v, i, out, scratch);
            }
            out.push(b']');
        }
    }
}

fn write_u64(out: &mut Vec<u8>, n: u64) -> std::io::Result<()> {
    use std::io::Write;
    write!(out, "{n}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars<'static> {
        Vars {
            tenant: "org\"1",
            amount: 3,
            request_id: "r-7",
            seq: 7,
            id: "SD-1",
            parent: "",
            seconds: 86400,
            now_unix: 0,
        }
    }

    #[test]
    fn renders_strings_numbers_and_repeats_as_valid_json() {
        let t = JsonTemplate::compile(&json!({
            "org": "{{tenant}}",
            "n": "{{amount}}",
            "name": "qb {{request_id}}",
            "ids": {"$repeat": "{{amount}}", "item": {"id": "u{{index}}@x", "i": "{{index}}"}},
            "fixed": [1, true, null],
            "at": "{{now+25h}}"
        }))
        .unwrap();
        let mut out = Vec::new();
        t.render(&vars(), &mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["org"], "org\"1");
        assert_eq!(v["n"], 3);
        assert_eq!(v["name"], "qb r-7");
        assert_eq!(v["ids"].as_array().unwrap().len(), 3);
        assert_eq!(v["ids"][2]["id"], "u2@x");
        assert_eq!(v["ids"][2]["i"], 2);
        assert_eq!(v["fixed"], json!([1, true, null]));
        assert_eq!(v["at"], "1970-01-02T01:00:00Z");
    }

    #[test]
    fn unknown_placeholder_is_an_error_naming_it() {
        let e = StrTemplate::compile("/x/{{tennant}}").unwrap_err();
        assert!(e.contains("{{tennant}}"), "{e}");
        assert!(StrTemplate::compile("/x/{{tenant").is_err());
    }
}
