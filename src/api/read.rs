//! Reading quotas from list answers: an array of quota objects, or limits by name with
//! consumption counted from resource listings (APIs that list limits only).

use serde_json::Value;

use super::compile::CompiledOp;
use super::profile::{CountDecl, ListRead};
use crate::vocab::Reading;

/// The resources operations a list must also send, in order, without repeats.
pub fn count_sources(op: &CompiledOp) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in op.read.iter().flat_map(|r| &r.count) {
        if !out.contains(&c.from) {
            out.push(c.from.clone());
        }
    }
    out
}

/// Reads the quotas from a list answer; `resources` holds the answers of
/// [`count_sources`] by operation name.
pub fn read_list(
    op: &CompiledOp,
    body: &[u8],
    resources: &[(String, Vec<u8>)],
) -> Result<Vec<Reading>, String> {
    let read = op.read.as_ref().ok_or("no `read` declared")?;
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("list body is not JSON: {e}"))?;
    let mut out = match (&read.items, &read.limits) {
        (Some(items), _) => read_items(read, &v, items)?,
        (None, Some(limits)) => read_limits(&v, limits, &op.quotas)?,
        (None, None) => return Err("neither `items` nor `limits` declared".into()),
    };
    for c in &read.count {
        let n = count(c, resources)?;
        match out.iter_mut().find(|r| r.name == c.quota) {
            Some(r) => r.consumed = n,
            None => {
                return Err(format!(
                    "quota {} is counted but its limit was not listed",
                    c.quota
                ))
            }
        }
    }
    Ok(out)
}

fn read_items(read: &ListRead, v: &Value, items: &str) -> Result<Vec<Reading>, String> {
    let arr = v
        .pointer(items)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no array at {items}"))?;
    let (name_p, limit_p) = (
        read.name.as_deref().unwrap_or("/name"),
        read.limit.as_deref().unwrap_or("/limit"),
    );
    let mut out = Vec::with_capacity(arr.len());
    for (i, item) in arr.iter().enumerate() {
        let name = item
            .pointer(name_p)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("item {i}: no string at {name_p}"))?;
        let num = |ptr: &str| -> Result<u64, String> {
            item.pointer(ptr)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("item {i} ({name}): no non-negative integer at {ptr}"))
        };
        let limit = num(limit_p)?;
        let consumed = match (&read.consumed, &read.remaining) {
            (Some(c), _) => num(c)?,
            (None, Some(r)) => limit.saturating_sub(num(r)?),
            // Counted later from resources, or unknown (0 until counted).
            (None, None) => 0,
        };
        out.push(Reading {
            name: name.into(),
            limit,
            consumed,
        });
    }
    Ok(out)
}

fn read_limits(v: &Value, limits: &str, quotas: &[String]) -> Result<Vec<Reading>, String> {
    let obj = v
        .pointer(limits)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("no object at {limits}"))?;
    // The object also carries bookkeeping (`version`, `id`): read declared quotas only.
    obj.iter()
        .filter(|(k, _)| quotas.iter().any(|q| q == *k))
        .map(|(k, x)| {
            x.as_u64()
                .map(|limit| Reading {
                    name: k.as_str().into(),
                    limit,
                    consumed: 0,
                })
                .ok_or_else(|| {
                    format!("{limits}/{k}: expected a non-negative integer limit, found {x}")
                })
        })
        .collect()
}

fn count(c: &CountDecl, resources: &[(String, Vec<u8>)]) -> Result<u64, String> {
    let (_, body) = resources
        .iter()
        .find(|(n, _)| n == &c.from)
        .ok_or_else(|| format!("no answer from {}", c.from))?;
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("{} answer is not JSON: {e}", c.from))?;
    let items = v
        .pointer(&c.items)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no array at {}", c.from, c.items))?;
    let kept = items.iter().filter(|it| {
        c.filter
            .as_ref()
            .is_none_or(|f| it.pointer(&f.pointer) == Some(&f.equals))
    });
    Ok(match &c.per_item {
        None => kept.count() as u64,
        Some(p) => kept
            .map(|it| {
                it.pointer(p)
                    .and_then(Value::as_array)
                    .map_or(0, |a| a.len() as u64)
            })
            .max()
            .unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::compile::compile_text;
    use std::path::Path;

    const P: &str = r#"
name: t
quotas:
  - {name: cfgs, kind: concurrent}
  - {name: dests, kind: scoped}
operations:
  list:
    kind: list
    request: {method: GET, path: /q}
    read:
      limits: /data/0
      count:
        - {quota: cfgs, from: configs, items: /data, where: {pointer: /enabled, equals: true}}
        - {quota: dests, from: configs, items: /data, per_item: /destinations}
  configs:
    kind: resources
    request: {method: GET, path: /c}
outcomes: []
"#;

    #[test]
    fn counts_consumption_from_resources_when_only_limits_are_listed() {
        let p = compile_text(Path::new("t.yaml"), P).unwrap();
        let op = &p.ops["list"];
        assert_eq!(count_sources(op), vec!["configs".to_string()]);
        let body = br#"{"data":[{"cfgs":3,"dests":2,"version":0,"id":"x"}]}"#;
        let configs = br#"{"data":[{"enabled":true,"destinations":[1,2]},{"enabled":false,"destinations":[1]},{"enabled":true,"destinations":[]}]}"#;
        let r = read_list(op, body, &[("configs".into(), configs.to_vec())]).unwrap();
        let get = |n: &str| r.iter().find(|x| x.name == n).unwrap().clone();
        assert_eq!((get("cfgs").limit, get("cfgs").consumed), (3, 2));
        assert_eq!((get("dests").limit, get("dests").consumed), (2, 2));
        assert!(
            read_list(op, body, &[]).is_err(),
            "a missing resources answer is an error, not zero"
        );
    }

    #[test]
    fn remaining_is_turned_into_consumed() {
        let text = "name: t\nquotas: [{name: q, kind: concurrent}]\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /qs, name: /id, limit: /max, remaining: /left}\noutcomes: []\n";
        let p = compile_text(Path::new("t.yaml"), text).unwrap();
        let r = read_list(
            &p.ops["l"],
            br#"{"qs":[{"id":"q","max":10,"left":3}]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(r[0].consumed, 7);
        assert!(read_list(
            &p.ops["l"],
            br#"{"qs":[{"id":"q","max":-1,"left":3}]}"#,
            &[]
        )
        .is_err());
    }
}
