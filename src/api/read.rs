//! Reading quotas from list answers: an array of quota objects, or limits by name with
//! consumption counted from resource listings (APIs that list limits only).

use std::collections::BTreeMap;

use serde_json::Value;

use super::compile::CompiledOp;
use super::profile::{Absent, CountDecl, LimitsFrom, ListRead};
use crate::vocab::Reading;

/// The resources operations a list must also send, in order, without repeats.
pub fn count_sources(op: &CompiledOp) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let joined = op.read.iter().filter_map(|r| r.limits_from.as_ref());
    for from in op
        .read
        .iter()
        .flat_map(|r| &r.count)
        .map(|c| &c.from)
        .chain(joined.map(|j| &j.from))
    {
        if !out.contains(from) {
            out.push(from.clone());
        }
    }
    out
}

/// What a list answer said: the readings that could be represented, and every value
/// outside what the profile allows (see [`Reading`]'s doc: the record keeps both).
#[derive(Debug, Clone, Default)]
pub struct Listed {
    /// The quotas read.
    pub readings: Vec<Reading>,
    /// Values out of range, each naming its quota.
    pub problems: Vec<String>,
}

/// Reads the quotas from a list answer; `resources` holds the answers of
/// [`count_sources`] by operation name. `Err` only when the answer's shape is not the
/// declared one (not JSON, no array or object where the profile says).
pub fn read_list(
    op: &CompiledOp,
    body: &[u8],
    resources: &[(String, Vec<u8>)],
) -> Result<Listed, String> {
    let read = op.read.as_ref().ok_or("no `read` declared")?;
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("list body is not JSON: {e}"))?;
    let mut out = Listed::default();
    let joined = match &read.limits_from {
        Some(j) => Some(joined_limits(op, j, resources, &mut out)?),
        None => None,
    };
    match (&read.items, &read.limits) {
        (Some(items), _) => read_items(read, &v, items, joined.as_ref(), &mut out)?,
        (None, Some(limits)) => read_limits(&v, limits, &op.quotas, &mut out)?,
        (None, None) => return Err("neither `items` nor `limits` declared".into()),
    };
    if let (Some(Absent::Zero), Some(limits)) = (read.absent, &joined) {
        absent_as_zero(op, limits, &mut out);
    }
    for c in &read.count {
        let (n, parents) = count(c, resources)?;
        match out.readings.iter_mut().find(|r| r.name == c.quota) {
            Some(r) => {
                r.consumed = n;
                r.parents = parents.map(Box::new);
            }
            // Its limit was out of range: already named among the problems.
            None if out.problems.iter().any(|p| p.contains(&c.quota)) => {}
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

/// A listed number that must be a non-negative integer.
fn natural(x: Option<&Value>) -> Result<u64, String> {
    match x {
        None => Err("nothing".into()),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("{v} is not a non-negative integer")),
    }
}

fn read_items(
    read: &ListRead,
    v: &Value,
    items: &str,
    joined: Option<&Joined>,
    out: &mut Listed,
) -> Result<(), String> {
    let arr = v
        .pointer(items)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no array at {items}"))?;
    let (name_p, limit_p) = (
        read.name.as_deref().unwrap_or("/name"),
        read.limit.as_deref().unwrap_or("/limit"),
    );
    out.readings.reserve(arr.len());
    for (i, item) in arr.iter().enumerate() {
        let Some(name) = item.pointer(name_p).and_then(Value::as_str) else {
            out.problems
                .push(format!("item {i}: no string at {name_p}"));
            continue;
        };
        let bad = |ptr: &str, e: String| format!("item {i} ({name}): {e} at {ptr}");
        let limit = match joined {
            Some(j) => match j.limits.iter().find(|(n, _)| n == name) {
                Some((_, l)) => *l,
                // Its limit was out of range: already named among the problems.
                None if out
                    .problems
                    .iter()
                    .any(|p| p.contains(&format!("({name})"))) =>
                {
                    continue
                }
                None => {
                    out.problems.push(format!(
                        "item {i} ({name}): {} lists no limit for it",
                        j.from
                    ));
                    continue;
                }
            },
            None => match natural(item.pointer(limit_p)) {
                Ok(l) => l,
                Err(e) => {
                    out.problems.push(bad(limit_p, e));
                    continue;
                }
            },
        };
        let consumed = match (&read.consumed, &read.remaining) {
            (Some(c), _) => match natural(item.pointer(c)) {
                Ok(n) => n,
                Err(e) => {
                    out.problems.push(bad(c, e));
                    continue;
                }
            },
            (None, Some(r)) => {
                match signed(item.pointer(r)) {
                    Some((left, _)) if left >= 0 && left as u64 <= limit => limit - left as u64,
                    // A negative remaining is an over-counted quota: keep it, above the limit.
                    Some((left, raw)) if left < 0 => {
                        let what = if raw.is_empty() {
                            format!("remaining {left} is negative")
                        } else {
                            // An unsigned subtraction below zero (INCR-then-check): the
                            // listed value is the wrapped negative, said as listed.
                            format!("remaining {raw} is above the limit {limit}: a 64-bit wrap of {left}")
                        };
                        out.problems.push(bad(r, what));
                        limit.saturating_add(left.unsigned_abs())
                    }
                    Some((left, _)) => {
                        out.problems.push(bad(
                            r,
                            format!("remaining {left} is above the limit {limit}"),
                        ));
                        continue;
                    }
                    None => {
                        let e = natural(item.pointer(r)).err().unwrap_or_default();
                        out.problems.push(bad(r, e));
                        continue;
                    }
                }
            }
            // Counted later from resources, or unknown (0 until counted).
            (None, None) => 0,
        };
        let mut reading = Reading::new(name, limit, consumed);
        if let Some(e) = &read.expires_in {
            match item.pointer(e).and_then(Value::as_f64) {
                Some(secs) if secs.is_finite() && secs >= 0.0 => {
                    reading.ends_in_us = Some((secs * 1e6).round() as u64)
                }
                x => {
                    let found = x.map_or_else(
                        || item.pointer(e).map_or("nothing".into(), Value::to_string),
                        |f| f.to_string(),
                    );
                    out.problems.push(bad(
                        e,
                        format!("{found} is not a non-negative number of seconds"),
                    ));
                }
            }
        }
        out.readings.push(reading);
    }
    Ok(())
}

/// A listed integer as a signed value: `(value, "")`, or for an unsigned above
/// `i64::MAX` the two's-complement value with the digits as listed.
fn signed(x: Option<&Value>) -> Option<(i64, String)> {
    let v = x?;
    if let Some(n) = v.as_i64() {
        return Some((n, String::new()));
    }
    v.as_u64().map(|n| (n as i64, n.to_string()))
}

/// Limits (and listed window lengths) read from the joined operation's answer.
struct Joined {
    from: String,
    limits: Vec<(String, u64)>,
}

fn joined_limits(
    op: &CompiledOp,
    j: &LimitsFrom,
    resources: &[(String, Vec<u8>)],
    out: &mut Listed,
) -> Result<Joined, String> {
    let (_, body) = resources
        .iter()
        .find(|(n, _)| n == &j.from)
        .ok_or_else(|| format!("no answer from {}", j.from))?;
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("{} answer is not JSON: {e}", j.from))?;
    let arr = v
        .pointer(&j.items)
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{}: no array at {:?}", j.from, j.items))?;
    let mut limits = Vec::new();
    for (i, item) in arr.iter().enumerate() {
        let Some(name) = item.pointer(&j.name).and_then(Value::as_str) else {
            out.problems
                .push(format!("{} item {i}: no string at {}", j.from, j.name));
            continue;
        };
        let bad = |ptr: &str, e: String| format!("{} item {i} ({name}): {e} at {ptr}", j.from);
        match natural(item.pointer(&j.limit)) {
            Ok(l) => limits.push((name.to_string(), l)),
            Err(e) => {
                out.problems.push(bad(&j.limit, e));
                continue;
            }
        }
        // The service's own window length must be the declared one: a profile written
        // for `--window 3` silently misjudges a service started with another.
        let declared = op.windows.iter().find(|(n, _)| n == name).map(|(_, d)| *d);
        if let (Some(w), Some(d)) = (&j.window, declared) {
            match item.pointer(w).and_then(Value::as_f64) {
                Some(secs) if (secs - d.as_secs_f64()).abs() < 1e-6 => {}
                x => out.problems.push(bad(
                    w,
                    format!(
                        "window {} is not the declared period's {}s",
                        x.map_or("nothing".to_string(), |s| format!("{s}s")),
                        d.as_secs_f64()
                    ),
                )),
            }
        }
    }
    Ok(Joined {
        from: j.from.clone(),
        limits,
    })
}

/// `absent: zero`: a declared quota the joined limits list but the items do not is a
/// counter not yet hit (or whose window ended): nothing consumed.
fn absent_as_zero(op: &CompiledOp, j: &Joined, out: &mut Listed) {
    for q in &op.quotas {
        let listed = out.readings.iter().any(|r| r.name == q.as_str());
        let named = out.problems.iter().any(|p| p.contains(&format!("({q})")));
        if listed || named {
            continue;
        }
        if let Some((_, limit)) = j.limits.iter().find(|(n, _)| n == q) {
            let mut r = Reading::new(q.as_str(), *limit, 0);
            r.absent = true;
            out.readings.push(r);
        }
    }
}

fn read_limits(v: &Value, limits: &str, quotas: &[String], out: &mut Listed) -> Result<(), String> {
    let obj = v
        .pointer(limits)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("no object at {limits}"))?;
    // The object also carries bookkeeping (`version`, `id`): read declared quotas only.
    for (k, x) in obj.iter().filter(|(k, _)| quotas.iter().any(|q| q == *k)) {
        match x.as_u64() {
            Some(limit) => out.readings.push(Reading::new(k.as_str(), limit, 0)),
            None => out.problems.push(format!(
                "{k}: limit {x} at {limits}/{k} is not a non-negative integer"
            )),
        }
    }
    Ok(())
}

/// Counts a quota from its resources listing: the number of resources kept, or for a
/// scoped quota (`per_item`) the count in each parent by its id, with the largest as
/// the quota's consumption. A parent whose id or array is missing is named: counting
/// it as 0 would hide the parent closest to its limit.
fn count(
    c: &CountDecl,
    resources: &[(String, Vec<u8>)],
) -> Result<(u64, Option<BTreeMap<String, u64>>), String> {
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
    let Some(p) = &c.per_item else {
        return Ok((kept.count() as u64, None));
    };
    let id_p = c.parent_id.as_deref().unwrap_or("/id");
    let mut parents = BTreeMap::new();
    for (i, it) in kept.enumerate() {
        let id = match it.pointer(id_p) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(format!("{}: item {i} has no id at {id_p}", c.from)),
        };
        let n = it
            .pointer(p)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: item {i} ({id}) has no array at {p}", c.from))?
            .len() as u64;
        parents.insert(id, n);
    }
    let max = parents.values().copied().max().unwrap_or(0);
    Ok((max, Some(parents)))
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
        let configs = br#"{"data":[{"id":"c1","enabled":true,"destinations":[1,2]},{"id":"c2","enabled":false,"destinations":[1]},{"id":"c3","enabled":true,"destinations":[]}]}"#;
        let r = read_list(op, body, &[("configs".into(), configs.to_vec())])
            .unwrap()
            .readings;
        let get = |n: &str| r.iter().find(|x| x.name == n).unwrap().clone();
        assert_eq!((get("cfgs").limit, get("cfgs").consumed), (3, 2));
        assert_eq!((get("dests").limit, get("dests").consumed), (2, 2));
        // Each parent's own count, not only the largest one.
        assert_eq!(
            get("dests")
                .parents
                .as_deref()
                .map(|m| m.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>()),
            Some(vec![("c1", 2), ("c2", 1), ("c3", 0)])
        );
        assert_eq!(
            (get("dests").in_parent("c2"), get("dests").in_parent("c9")),
            (Some(1), None)
        );
        assert!(get("cfgs").parents.is_none());
        // A parent without an id cannot be counted as anyone's.
        let no_id = br#"{"data":[{"enabled":true,"destinations":[1]}]}"#;
        let e = read_list(op, body, &[("configs".into(), no_id.to_vec())]).unwrap_err();
        assert!(e.contains("no id at /id"), "{e}");
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
        assert_eq!(r.readings[0].consumed, 7);
        assert!(r.problems.is_empty());
    }

    #[test]
    fn values_out_of_range_are_kept_as_problems_not_dropped() {
        let text = "name: t\nquotas: [{name: a, kind: concurrent}, {name: b, kind: concurrent}, {name: c, kind: concurrent}, {name: d, kind: concurrent}, {name: e, kind: concurrent}]\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /qs, name: /id, limit: /max, remaining: /left}\noutcomes: []\n";
        let p = compile_text(Path::new("t.yaml"), text).unwrap();
        let body = br#"{"qs":[{"id":"a","max":-1,"left":3},{"id":"b","max":10,"left":-2},{"id":"c","max":10,"left":11},{"id":"d","max":"10","left":1},{"id":"e","max":10,"left":4}]}"#;
        let r = read_list(&p.ops["l"], body, &[]).expect("the shape is right");
        let names: Vec<&str> = r.readings.iter().map(|x| &*x.name).collect();
        // b is over-counted (remaining below zero): kept, consumed above the limit.
        assert_eq!(names, ["b", "e"]);
        assert_eq!((r.readings[0].limit, r.readings[0].consumed), (10, 12));
        assert_eq!(r.readings[1].consumed, 6);
        assert_eq!(r.problems.len(), 4, "{:?}", r.problems);
        for (q, what) in [
            ("a", "-1"),
            ("b", "-2"),
            ("c", "above the limit"),
            ("d", "\"10\""),
        ] {
            assert!(
                r.problems
                    .iter()
                    .any(|p| p.contains(&format!("({q})")) && p.contains(what)),
                "{q}: {:?}",
                r.problems
            );
        }
        // A shape that is not the declared one stays an error.
        assert!(read_list(&p.ops["l"], br#"{"qs":{}}"#, &[]).is_err());
    }

    const JOINED: &str = "name: t\nquotas:\n  - {name: calls, kind: period, period: fixed 3s from first hit}\n  - {name: uploads, kind: period, period: fixed 3s from first hit}\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /c}\n    read: {items: /counters, name: /key, remaining: /remaining, expires_in: /expires_in_seconds, absent: zero, limits_from: {from: limits, items: /limits, name: /key, limit: /limit, window: /window_seconds}}\n  limits:\n    kind: resources\n    request: {method: GET, path: /l}\noutcomes: []\n";

    fn limits(window: u64) -> Vec<(String, Vec<u8>)> {
        let body = format!(
            r#"{{"limits":[{{"key":"calls","limit":100,"window_seconds":{window}}},{{"key":"uploads","limit":100,"window_seconds":{window}}}]}}"#
        );
        vec![("limits".into(), body.into_bytes())]
    }

    #[test]
    fn limits_from_a_second_endpoint_are_joined_and_absent_counters_read_as_zero() {
        let p = compile_text(Path::new("t.yaml"), JOINED).unwrap();
        let op = &p.ops["l"];
        assert_eq!(count_sources(op), vec!["limits".to_string()]);
        let body = br#"{"counters":[{"key":"calls","remaining":40,"expires_in_seconds":1.25}]}"#;
        let r = read_list(op, body, &limits(3)).unwrap();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let calls = r.readings.iter().find(|x| x.name == "calls").unwrap();
        assert_eq!(
            (calls.limit, calls.consumed, calls.ends_in_us, calls.absent),
            (100, 60, Some(1_250_000), false)
        );
        let uploads = r.readings.iter().find(|x| x.name == "uploads").unwrap();
        assert_eq!(
            (
                uploads.limit,
                uploads.consumed,
                uploads.ends_in_us,
                uploads.absent
            ),
            (100, 0, None, true)
        );
        // Without the limits answer the list says nothing reliable.
        assert!(read_list(op, body, &[]).is_err());
    }

    #[test]
    fn a_wrapped_remaining_is_kept_above_the_limit_and_a_wrong_window_is_named() {
        let p = compile_text(Path::new("t.yaml"), JOINED).unwrap();
        let body = br#"{"counters":[{"key":"calls","remaining":18446744073709551615,"expires_in_seconds":2}]}"#;
        let r = read_list(&p.ops["l"], body, &limits(5)).unwrap();
        let calls = r.readings.iter().find(|x| x.name == "calls").unwrap();
        assert_eq!(
            calls.consumed, 101,
            "the wrap of -1: one past the limit, not clamped"
        );
        let all = r.problems.join("; ");
        assert!(
            all.contains(
                "remaining 18446744073709551615 is above the limit 100: a 64-bit wrap of -1"
            ),
            "{all}"
        );
        assert!(
            all.contains("window 5s is not the declared period's 3s"),
            "{all}"
        );
    }

    #[test]
    fn absent_zero_without_limits_from_is_a_located_error() {
        let text = "name: t\nquotas: [{name: q, kind: concurrent}]\noperations:\n  l:\n    kind: list\n    request: {method: GET, path: /l}\n    read: {items: /qs, name: /id, limit: /max, remaining: /left, absent: zero}\noutcomes: []\n";
        let e = compile_text(Path::new("p.yaml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.yaml:")
                && e.contains("operations.l.read.absent")
                && e.contains("needs `limits_from`"),
            "{e}"
        );
    }
}
