//! The target profile: how to consume, release, list, read and move the clock on one API.
//!
//! Built-in profiles for the seed APIs are written in this same YAML format
//! (`profiles/*.yaml`), so a vendor describes a new API without touching Rust.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use serde::{Deserialize, Serialize};

use crate::vocab::Outcome;
pub use crate::vocab::{Capabilities, OpKind, QuotaDecl, QuotaKind};

/// A whole target profile.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile name (`adobe-hygiene`).
    pub name: String,
    /// What API this profile describes.
    #[serde(default)]
    pub description: Option<String>,
    /// Headers added to every request; values are templates (`{{tenant}}`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The quotas the API enforces.
    pub quotas: Vec<QuotaDecl>,
    /// Named operations, in the order written (a kind's first operation is its default).
    pub operations: IndexMap<String, OperationDecl>,
    /// Default response classification, first match wins; an operation may override.
    pub outcomes: Vec<OutcomeRule>,
    /// What the target declares it supports and tolerates.
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// One operation of the API.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OperationDecl {
    /// What this operation does.
    pub kind: OpKind,
    /// The request to send.
    pub request: RequestDecl,
    /// Consume: the quotas it draws on; `amount` is the order size.
    #[serde(default)]
    pub touches: Vec<String>,
    /// Consume: the largest order the API accepts (orders are capped to it).
    #[serde(default)]
    pub max_amount: Option<u64>,
    /// Consume: where the created object's id is, for a later release.
    #[serde(default)]
    pub id: Option<IdSource>,
    /// Release: the consume operation whose objects it ends.
    #[serde(default)]
    pub releases: Option<String>,
    /// Consume: acts on an object of this setup operation and moves it (enabling a
    /// configuration); `{{id}}` is that object. A release returns it.
    #[serde(default)]
    pub takes: Option<String>,
    /// Consume: acts inside an object of this setup operation without moving it
    /// (attaching a destination to a configuration); `{{parent}}` is that object.
    #[serde(default)]
    pub uses: Option<String>,
    /// Delete: the setup or consume operation whose objects it deletes (`{{id}}`, and
    /// `{{parent}}` for objects inside a parent), sent when the run cleans up.
    #[serde(default)]
    pub deletes: Option<String>,
    /// consume_invalid, list_invalid: why the API must reject it (shown in reports).
    #[serde(default)]
    pub reason: Option<String>,
    /// List: how to read quotas from the response.
    #[serde(default)]
    pub read: Option<ListRead>,
    /// List: the one quota this (filtered) list asks for; its answer must show exactly
    /// that quota, with the values the full list shows.
    #[serde(default)]
    pub filter: Option<String>,
    /// Overrides the profile's classification for this operation.
    #[serde(default)]
    pub outcomes: Option<Vec<OutcomeRule>>,
    /// Largest answer body read, in bytes (default 1 MiB for list and resources
    /// operations, 64 KiB for the rest); past it the answer is indeterminate.
    #[serde(default)]
    pub max_body: Option<usize>,
    /// Clock: JSON pointer to the target's current instant in the answer, an RFC 3339
    /// string or Unix seconds (`/now`). The run then reasons in the target's time.
    #[serde(default)]
    pub now: Option<String>,
    /// List (with `read.items`) or resources: how its pages are followed
    /// (docs/vendors.md, "Paged lists"); without it the answer is one page.
    #[serde(default)]
    pub paging: Option<super::paging::PagingDecl>,
}

impl OperationDecl {
    /// Checks the clock fields of one operation declaration: a `clock` operation needs a
    /// `now` pointer, and only a `clock` operation takes one. `(field, message)`.
    pub fn clock_error(&self) -> Option<(&'static str, String)> {
        match (&self.now, self.kind) {
            (None, OpKind::Clock) => Some((
                "now",
                "a clock operation needs `now: /json/pointer` to the instant in its answer (an RFC 3339 string or Unix seconds)".into(),
            )),
            (Some(p), OpKind::Clock) if !(p.is_empty() || p.starts_with('/')) => Some((
                "now",
                format!("expected a JSON pointer like /now (\"\" for the whole answer), found {p:?}"),
            )),
            (Some(_), k) if k != OpKind::Clock => Some((
                "now",
                format!(
                    "only an operation of kind clock takes `now`; this one is {}",
                    k.as_str()
                ),
            )),
            _ => None,
        }
    }
}

/// A request template. Strings may hold `{{tenant}}`, `{{amount}}`, `{{request_id}}`,
/// `{{seq}}`, `{{id}}`, `{{index}}`, `{{seconds}}`, `{{now+25h}}`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestDecl {
    /// HTTP method.
    pub method: String,
    /// Path (and optionally query) template, joined to the base URL.
    pub path: String,
    /// Extra headers for this operation.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body template. `{"$repeat": "{{amount}}", "item": ...}` makes an array.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    /// A body sent as written (a template string), for deliberately malformed input.
    #[serde(default)]
    pub raw_body: Option<String>,
}

/// Where a created object's id is found: `{body: /ttlId}` (a JSON pointer) or
/// `{header: location}` (the id is the header's last path segment).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IdSource {
    /// A JSON pointer into the response body.
    #[serde(default)]
    pub body: Option<String>,
    /// A response header name.
    #[serde(default)]
    pub header: Option<String>,
}

/// How to read the list response: either an array of quota objects (`items`, `name`,
/// `limit`, `consumed` | `remaining`), or an object of limits keyed by quota name
/// (`limits`) with consumption counted from resources (`count`). `items: ""` is the
/// answer itself when it is a top-level array. With `limits_from`, the limits come from a
/// second endpoint joined by name, and `absent: zero` reads a declared quota missing from
/// the list as nothing consumed.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListRead {
    /// JSON pointer to the array of quota objects (`/quotas`).
    #[serde(default)]
    pub items: Option<String>,
    /// Pointer, inside an item, to the quota's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Pointer, inside an item, to the limit.
    #[serde(default)]
    pub limit: Option<String>,
    /// Pointer, inside an item, to what was consumed.
    #[serde(default)]
    pub consumed: Option<String>,
    /// Pointer, inside an item, to what remains (consumed = limit − remaining).
    #[serde(default)]
    pub remaining: Option<String>,
    /// Pointer to an object whose keys are quota names and values their limits.
    #[serde(default)]
    pub limits: Option<String>,
    /// Consumption counted from resources, for APIs that list limits only.
    #[serde(default)]
    pub count: Vec<CountDecl>,
    // Reads of services that split limits and usage (tests/targets/window_service.py).
    /// The limits listed by a second (`resources`) operation, joined to the items by name.
    #[serde(default)]
    pub limits_from: Option<LimitsFrom>,
    /// What a declared quota missing from the items means: `zero` (nothing consumed, no
    /// window open: a counter that exists only once hit). Without it a missing quota is
    /// a listing that does not show it.
    #[serde(default)]
    pub absent: Option<Absent>,
    /// Pointer, inside an item, to the seconds until the quota's current window ends
    /// (`/expires_in_seconds`): it places windows that start at the first hit.
    #[serde(default)]
    pub expires_in: Option<String>,
}

/// Limits read from another operation's answer: an array of `{name, limit}` objects.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsFrom {
    /// A `resources` operation to send (after the list).
    pub from: String,
    /// Pointer to the array of limit objects in its answer (`""`: the answer itself).
    pub items: String,
    /// Pointer, inside an item, to the quota's name.
    pub name: String,
    /// Pointer, inside an item, to the limit.
    pub limit: String,
    /// Pointer, inside an item, to the window length in seconds, where the service says
    /// it: a length other than the declared period's is reported as a value out of range.
    #[serde(default)]
    pub window: Option<String>,
}

/// What an absent quota means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    /// Nothing consumed (its counter springs into being at the first hit).
    Zero,
}

/// Counts a quota's consumption from a resources listing.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CountDecl {
    /// The quota counted.
    pub quota: String,
    /// A `resources` operation to send.
    pub from: String,
    /// Pointer to the array of resources in its answer.
    pub items: String,
    /// Count only resources where this pointer equals this value.
    #[serde(default, rename = "where")]
    pub filter: Option<FieldEquals>,
    /// For scoped quotas: count the array at this pointer inside each resource (each
    /// resource is a parent). Each parent's count is recorded under its id
    /// (`parent_id`); the quota's consumption is the largest count, an upper bound for
    /// every parent.
    #[serde(default)]
    pub per_item: Option<String>,
    /// With `per_item`: pointer to the parent's id inside each resource, the id the
    /// scoped consume's `{{parent}}` is (default `/id`).
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// `pointer == value`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FieldEquals {
    /// JSON pointer inside the resource.
    pub pointer: String,
    /// The value it must equal.
    pub equals: serde_json::Value,
}

/// One classification rule: when the response matches, it is of this class.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OutcomeRule {
    /// Status codes: `201`, `[200, 201]`, or a class like `"4xx"`.
    #[serde(default)]
    pub status: Option<StatusMatch>,
    /// The body contains this text.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// The body contains this text, ignoring ASCII case (`"too many requests"`).
    #[serde(default)]
    pub body_contains_ci: Option<String>,
    /// The answer carries this header (`retry-after`), or all of these; with
    /// `{name: value}` entries the value must also match (ignoring ASCII case).
    #[serde(default)]
    pub header: Option<HeaderMatch>,
    /// The class.
    pub class: Outcome,
}

/// Response headers an outcome rule requires: a name, a list of names, or names with
/// the value each must have.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum HeaderMatch {
    /// The header is present.
    One(String),
    /// Every header of the list is present.
    All(Vec<String>),
    /// Every header is present with this value (ASCII case ignored).
    Values(BTreeMap<String, String>),
}

impl HeaderMatch {
    /// Whether `headers` satisfy the match.
    pub fn matches(&self, headers: &hyper::http::HeaderMap) -> bool {
        match self {
            HeaderMatch::One(n) => headers.contains_key(n.as_str()),
            HeaderMatch::All(ns) => ns.iter().all(|n| headers.contains_key(n.as_str())),
            HeaderMatch::Values(m) => m.iter().all(|(n, v)| {
                headers
                    .get_all(n.as_str())
                    .iter()
                    .any(|x| x.as_bytes().eq_ignore_ascii_case(v.as_bytes()))
            }),
        }
    }
}

/// A status code matcher.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum StatusMatch {
    /// One code.
    One(u16),
    /// Any of these codes.
    Any(Vec<u16>),
    /// A class like `4xx` or `5xx`.
    Class(String),
}

impl StatusMatch {
    /// Whether `status` matches.
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusMatch::One(c) => *c == status,
            StatusMatch::Any(cs) => cs.contains(&status),
            StatusMatch::Class(c) => c
                .strip_suffix("xx")
                .and_then(|d| d.parse::<u16>().ok())
                .is_some_and(|d| status / 100 == d),
        }
    }
}
