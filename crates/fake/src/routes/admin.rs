//! The admin API under `/__admin` (never subject to faults): the clock, reset, quota
//! limits per organization, ground-truth state, the fault list. Open by default; off,
//! or behind a bearer token, as [`AdminAccess`] says (docs/fake.md).

use serde_json::{json, Value};

use super::{error, json_body, method_not_allowed, segments, FakeRequest, FakeResponse, Style};
use crate::faults::catalogue;
use crate::quota::index_of;
use crate::service::{AdminAccess, Fake};

/// The largest clock move `/__admin/clock` accepts, in seconds (100 years).
const MAX_ADVANCE_SECONDS: f64 = 100.0 * 366.0 * 86_400.0;

const S: Style = Style::Admin;

/// The answer to an admin request its access does not allow, or `None` to serve it.
fn refuse(access: &AdminAccess, req: &FakeRequest) -> Option<FakeResponse> {
    match access {
        AdminAccess::Open => None,
        AdminAccess::Off => Some(error(
            S,
            403,
            "the admin API is off: this fake listens beyond loopback; restart it with --admin-token TOKEN and send Authorization: Bearer TOKEN",
        )),
        AdminAccess::Token(token) => {
            let given = req
                .header_value("authorization")
                .and_then(|v| v.strip_prefix("Bearer "));
            if given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
                return None;
            }
            let mut r = error(
                S,
                401,
                "the admin API needs Authorization: Bearer TOKEN, with the token given to --admin-token",
            );
            r.headers
                .push(("www-authenticate".into(), "Bearer".into()));
            Some(r)
        }
    }
}

/// Equal bytes, compared in time independent of where they differ (the token is a
/// secret; a loopback attacker timing early exits could guess it byte by byte).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Handles a request under `/__admin`.
pub fn handle(fake: &Fake, req: &FakeRequest) -> FakeResponse {
    if let Some(refused) = refuse(fake.admin_access(), req) {
        return refused;
    }
    let Some(seg) = segments(&req.path, "/__admin") else {
        return error(S, 404, "no such admin route");
    };
    let m = req.method.as_str();
    let allowed = match seg.as_slice() {
        ["clock"] => "GET, POST",
        ["reset"] => "POST",
        ["orgs", _, "quotas"] => "GET, PUT",
        ["orgs", _, "state"] => "GET",
        ["faults"] => "GET",
        _ => {
            return error(
                S,
                404,
                &format!(
                    "no admin route {}; see /__admin/clock, /__admin/reset, /__admin/orgs/ORG/quotas, /__admin/orgs/ORG/state, /__admin/faults",
                    req.path
                ),
            )
        }
    };
    if !allowed.split(", ").any(|a| a == m) {
        return method_not_allowed(S, req, allowed);
    }
    match (m, seg.as_slice()) {
        ("GET", ["clock"]) => clock_view(fake),
        ("POST", ["clock"]) => set_clock(fake, req),
        ("POST", ["reset"]) => {
            fake.model().reset();
            FakeResponse::json(
                200,
                &json!({ "reset": true, "now": fake.model().clock().now().to_string() }),
            )
        }
        ("GET", ["orgs", org, "quotas"]) => quotas_view(fake, &percent_decode(org)),
        ("PUT", ["orgs", org, "quotas"]) => set_quotas(fake, req, &percent_decode(org)),
        ("GET", ["orgs", org, "state"]) => {
            FakeResponse::json(200, &fake.model().state(&percent_decode(org)))
        }
        ("GET", ["faults"]) => {
            let active = &fake.model().faults().specs;
            let all: Vec<Value> = catalogue()
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name, "rule_id": f.rule_id, "description": f.description,
                        "active": active.iter().any(|s| s == f.name || s.starts_with(&format!("{}=", f.name))),
                    })
                })
                .collect();
            FakeResponse::json(200, &json!({ "active": active, "catalogue": all }))
        }
        _ => error(S, 404, "no such admin route"),
    }
}

fn clock_view(fake: &Fake) -> FakeResponse {
    let clock = fake.model().clock();
    FakeResponse::json(
        200,
        &json!({
            "now": clock.now().to_string(),
            "virtual": clock.is_virtual(),
            "periods": match fake.model().periods() {
                crate::clock::Periods::Calendar => json!({ "kind": "calendar" }),
                crate::clock::Periods::Scaled { day_us, days_per_month } =>
                    json!({ "kind": "scaled", "day_ms": day_us / 1000, "days_per_month": days_per_month }),
            },
        }),
    )
}

fn set_clock(fake: &Fake, req: &FakeRequest) -> FakeResponse {
    let clock = fake.model().clock();
    if !clock.is_virtual() {
        return error(
            S,
            409,
            "the clock is real; start the fake with `clock: {mode: virtual}` in its mocks file",
        );
    }
    let body = match json_body(S, req) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return error(
                S,
                400,
                "expected {\"now\": RFC3339} or {\"advance_seconds\": N}",
            )
        }
        Err(r) => return r,
    };
    match (body.get("now"), body.get("advance_seconds"), body.len()) {
        (Some(Value::String(s)), None, 1) => match s.parse::<jiff::Timestamp>() {
            Ok(ts) => {
                clock.set(ts);
            }
            Err(e) => return error(S, 400, &format!("`now` is not an RFC 3339 instant: {e}")),
        },
        (None, Some(Value::Number(n)), 1) => match n.as_f64() {
            // At most 100 years either way: a move the clock cannot represent is
            // refused, never silently clamped (the caller would reason about a time the
            // fake is not at).
            Some(secs) if secs.is_finite() && secs.abs() <= MAX_ADVANCE_SECONDS => {
                clock.advance_us((secs * 1e6).round() as i64);
            }
            _ => {
                return error(
                    S,
                    400,
                    &format!("`advance_seconds` must be a finite number of seconds within ±{MAX_ADVANCE_SECONDS:e} (100 years)"),
                )
            }
        },
        _ => {
            return error(
                S,
                400,
                "expected exactly one of {\"now\": \"RFC3339\"} or {\"advance_seconds\": N}",
            )
        }
    }
    clock_view(fake)
}

fn quotas_view(fake: &Fake, org: &str) -> FakeResponse {
    let limits = fake.model().limits(org);
    let map: serde_json::Map<String, Value> = crate::quota::QUOTAS
        .iter()
        .zip(limits)
        .map(|(q, l)| (q.name.to_string(), json!(l)))
        .collect();
    FakeResponse::json(200, &Value::Object(map))
}

fn set_quotas(fake: &Fake, req: &FakeRequest, org: &str) -> FakeResponse {
    let body = match json_body(S, req) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return error(S, 400, "expected a JSON object {\"quotaName\": limit, ...}"),
        Err(r) => return r,
    };
    let mut updates = Vec::with_capacity(body.len());
    for (name, v) in &body {
        let Some(i) = index_of(name) else {
            return error(S, 400, &format!("unknown quota `{name}`"));
        };
        let Some(l) = v.as_u64() else {
            return error(
                S,
                400,
                &format!("limit of `{name}` must be a non-negative integer"),
            );
        };
        updates.push((i, l));
    }
    if let Err(r) = fake.model().set_limits(org, &updates) {
        return super::refusal(fake, S, &fake.model().config().rejection.adobe, &r);
    }
    quotas_view(fake, org)
}

/// Decodes `%XX` escapes in a path segment (org ids may hold any character; invalid
/// escapes and invalid UTF-8 are kept as they are rather than refused).
pub fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_string();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_escapes_and_keeps_garbage() {
        assert_eq!(percent_decode("acme%20x%40AdobeOrg"), "acme x@AdobeOrg");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz%"), "bad%zz%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%ff"), "%ff");
    }
}
