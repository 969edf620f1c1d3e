//! Classification: which outcome an answer is (docs/rules.md, "Outcomes").
//!
//! The profile's rules come first (first match wins), with one exception: a gateway
//! status (502, 503, 504) says nothing of whether the backend applied the request, so
//! only a rule naming that code exactly (`status: 503`, `status: [502, 503]`) may
//! classify it; a class like `5xx` does not. With no rule: a 5xx is indeterminate (the
//! server failed somewhere, maybe after applying), a 4xx is an error (a definite refusal
//! that applied nothing), an unmatched 2xx is indeterminate (a success may have applied
//! something), and anything else (1xx, a redirect that is not followed) is an error.

use hyper::http::HeaderMap;

use super::compile::CompiledOp;
use super::profile::{OutcomeRule, StatusMatch};
use crate::vocab::Outcome;

/// An answer's class, and whether a profile rule gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// The outcome.
    pub outcome: Outcome,
    /// Whether a profile rule decided it (false: the defaults above).
    pub by_rule: bool,
}

/// Classifies an answer by the operation's rules, then the defaults.
pub fn classify(op: &CompiledOp, status: u16, headers: &HeaderMap, body: &[u8]) -> Classified {
    let rule = op
        .outcomes
        .iter()
        .find(|r| rule_matches(r, status, headers, body));
    match rule {
        Some(r) if !gateway(status) || explicit(r, status) => Classified {
            outcome: r.class,
            by_rule: true,
        },
        _ => Classified {
            outcome: default_class(status),
            by_rule: false,
        },
    }
}

/// The class of an answer no rule decides.
pub fn default_class(status: u16) -> Outcome {
    match status {
        500..=599 | 200..=299 => Outcome::Indeterminate,
        _ => Outcome::Error,
    }
}

fn gateway(status: u16) -> bool {
    matches!(status, 502..=504)
}

fn explicit(r: &OutcomeRule, status: u16) -> bool {
    match &r.status {
        Some(StatusMatch::One(c)) => *c == status,
        Some(StatusMatch::Any(cs)) => cs.contains(&status),
        _ => false,
    }
}

fn rule_matches(r: &OutcomeRule, status: u16, headers: &HeaderMap, body: &[u8]) -> bool {
    r.status.as_ref().is_none_or(|m| m.matches(status))
        && r.header.as_ref().is_none_or(|h| h.matches(headers))
        && r.body_contains
            .as_ref()
            .is_none_or(|n| contains(body, n.as_bytes(), false))
        && r.body_contains_ci
            .as_ref()
            .is_none_or(|n| contains(body, n.as_bytes(), true))
}

fn contains(hay: &[u8], needle: &[u8], ci: bool) -> bool {
    if needle.is_empty() {
        return true;
    }
    hay.windows(needle.len()).any(|w| {
        if ci {
            w.eq_ignore_ascii_case(needle)
        } else {
            w == needle
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::compile::compile_text;
    use std::path::Path;

    fn op(rules: &str) -> CompiledOp {
        let text = format!("name: t\nquotas: [{{name: q, kind: concurrent}}]\noperations:\n  l:\n    kind: list\n    request: {{method: GET, path: /l}}\n    read: {{items: /q, name: /n, limit: /l, consumed: /c}}\noutcomes:\n{rules}");
        compile_text(Path::new("t.yaml"), &text).unwrap().ops["l"].clone()
    }

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_outcome_table() {
        let o = op("  - {status: [200, 201], class: accepted}\n  - {status: 429, header: retry-after, class: rejected_rate}\n  - {status: 429, body_contains_ci: QUOTA, class: rejected_quota}\n  - {status: 400, class: rejected_invalid}\n  - {status: 401, class: rejected_auth}\n  - {status: 5xx, class: error}\n  - {status: 503, body_contains: maintenance, class: error}\n");
        let none = HeaderMap::new();
        let c = |s: u16, h: &HeaderMap, b: &str| classify(&o, s, h, b.as_bytes());
        let rule = |outcome| Classified {
            outcome,
            by_rule: true,
        };
        let default = |outcome| Classified {
            outcome,
            by_rule: false,
        };
        assert_eq!(c(201, &none, ""), rule(Outcome::Accepted));
        assert_eq!(c(400, &none, ""), rule(Outcome::RejectedInvalid));
        assert_eq!(c(401, &none, ""), rule(Outcome::RejectedAuth));
        // A 429 with Retry-After is rate limiting, whatever the body says.
        let ra = with(&[("Retry-After", "2")]);
        assert_eq!(c(429, &ra, "quota"), rule(Outcome::RejectedRate));
        // Without it, the body decides, ignoring case.
        assert_eq!(
            c(429, &none, "Quota exceeded"),
            rule(Outcome::RejectedQuota)
        );
        // 429 matching nothing: a definite refusal, nothing applied.
        assert_eq!(c(429, &none, "slow down"), default(Outcome::Error));
        // Unclassified 4xx: error; unclassified 2xx: may have applied.
        assert_eq!(c(418, &none, ""), default(Outcome::Error));
        assert_eq!(c(204, &none, ""), default(Outcome::Indeterminate));
        assert_eq!(c(302, &none, ""), default(Outcome::Error));
        // `5xx` classifies a 500, but not a gateway status...
        assert_eq!(c(500, &none, ""), rule(Outcome::Error));
        assert_eq!(c(502, &none, ""), default(Outcome::Indeterminate));
        assert_eq!(c(504, &none, ""), default(Outcome::Indeterminate));
        // ...which only a rule naming its code classifies (the `5xx` rule comes first
        // and is passed over; the gateway answer stays indeterminate).
        assert_eq!(
            c(503, &none, "maintenance"),
            default(Outcome::Indeterminate)
        );
        let explicit = op("  - {status: 503, body_contains: maintenance, class: error}\n");
        assert_eq!(
            classify(&explicit, 503, &none, b"maintenance"),
            rule(Outcome::Error)
        );
        // With no rule at all, every 5xx is indeterminate.
        let bare = op("  - {status: 200, class: accepted}\n");
        assert_eq!(
            classify(&bare, 500, &none, b""),
            default(Outcome::Indeterminate)
        );
    }

    #[test]
    fn header_rules_need_every_header_and_values_ignore_case() {
        let o = op("  - {status: 429, header: [retry-after, ratelimit], class: rejected_rate}\n  - {status: 429, header: {x-reason: RATE}, class: rejected_rate}\n  - {status: 429, class: rejected_quota}\n");
        let c = |h: &HeaderMap| classify(&o, 429, h, b"").outcome;
        assert_eq!(c(&with(&[("retry-after", "1")])), Outcome::RejectedQuota);
        assert_eq!(
            c(&with(&[("retry-after", "1"), ("RateLimit", "r=0")])),
            Outcome::RejectedRate
        );
        assert_eq!(c(&with(&[("x-reason", "rate")])), Outcome::RejectedRate);
        assert_eq!(c(&with(&[("x-reason", "quota")])), Outcome::RejectedQuota);
    }
}
