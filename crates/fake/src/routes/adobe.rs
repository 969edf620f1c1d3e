//! Adobe Data Hygiene routes under `/data/core/hygiene`: quota list, record-delete
//! work orders, dataset expirations. Errors use Adobe's `error_code` / `message` body.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{
    bearer, error, json_body, method_not_allowed, opt_str, query_usize, refusal, segments,
    FakeRequest, FakeResponse, Style,
};
use crate::clock::rfc3339_us;
use crate::config::CredentialsMode;
use crate::model::adobe::workorder_status;
use crate::model::{parse_id, Refusal, TtlInput, Window, WorkOrderInput};
use crate::orgs::{Ttl, TtlStatus, WorkOrder};
use crate::quota::{index_of, Api, DAILY_DELETE, MONTHLY_DELETE, QUOTAS};
use crate::service::Fake;

/// Base path of the Adobe routes.
pub const BASE: &str = "/data/core/hygiene";
/// Most identities one work order may carry.
pub const MAX_IDENTITIES: u64 = 100_000;
/// Longest organization id accepted (longer ones are refused, not stored).
pub const MAX_ORG_LEN: usize = 256;

const S: Style = Style::Adobe;

/// Handles a request under [`BASE`].
pub async fn handle(fake: &Fake, req: &FakeRequest, window: Window) -> FakeResponse {
    let Some(seg) = segments(&req.path, BASE) else {
        return error(S, 404, &format!("no route for {}", req.path));
    };
    let m = req.method.as_str();
    let allowed = match seg.as_slice() {
        ["quota"] => "GET",
        ["workorder"] => "POST",
        ["workorder", _] => "GET",
        ["ttl"] => "GET, POST",
        ["ttl", _] => "GET, DELETE",
        _ => return error(S, 404, &format!("no route for {}", req.path)),
    };
    if !allowed.split(", ").any(|a| a == m) {
        return method_not_allowed(S, req, allowed);
    }
    let org = match authenticate(fake, req) {
        Ok(org) => org,
        Err(r) => return r,
    };
    match (m, seg.as_slice()) {
        ("GET", ["quota"]) => list_quotas(fake, req, &org),
        ("POST", ["workorder"]) => create_workorder(fake, req, &org, window).await,
        ("GET", ["workorder", id]) => get_workorder(fake, &org, id),
        ("GET", ["ttl"]) => list_ttls(fake, req, &org),
        ("POST", ["ttl"]) => create_ttl(fake, req, &org, window).await,
        ("GET", ["ttl", id]) => get_ttl(fake, &org, id),
        ("DELETE", ["ttl", id]) => cancel_ttl(fake, &org, id),
        _ => error(S, 404, &format!("no route for {}", req.path)),
    }
}

/// Checks the bearer token, API key and organization header; returns the org.
fn authenticate(fake: &Fake, req: &FakeRequest) -> Result<String, FakeResponse> {
    let model = fake.model();
    let creds = &model.config().credentials;
    let no_auth = model.faults().no_auth;
    // The organization is the tenant: an ambiguous one must not pick a tenant silently.
    // Two headers (which one?) or bytes that are not UTF-8 (decoded lossily, `\xff` and
    // `\xfe` would land in the same organization) are refused before anything is read.
    let given = req
        .headers
        .iter()
        .filter(|(n, _)| n == "x-gw-ims-org-id")
        .count();
    if given > 1 {
        return Err(error(
            S,
            400,
            &format!("x-gw-ims-org-id given {given} times: send it once"),
        ));
    }
    if req
        .header_value("x-gw-ims-org-id")
        .is_some_and(|o| o.contains('\u{FFFD}'))
    {
        return Err(error(S, 400, "x-gw-ims-org-id is not UTF-8 text"));
    }
    let org = req
        .header_value("x-gw-ims-org-id")
        .map(str::trim)
        .filter(|o| !o.is_empty());
    if no_auth {
        let org = org
            .map(str::to_string)
            .or_else(|| model.config().default_org.clone())
            .unwrap_or_else(|| "default".to_string());
        return check_org_len(org);
    }
    let token_ok = match bearer(req) {
        None => false,
        Some(t) => creds.mode == CredentialsMode::Any || creds.bearer_tokens.iter().any(|x| x == t),
    };
    if !token_ok {
        return Err(error(
            S,
            401,
            "Oauth token is not valid: send Authorization: Bearer <access token>",
        ));
    }
    let key_ok = match req.header_value("x-api-key").map(str::trim) {
        None | Some("") => false,
        Some(k) => creds.mode == CredentialsMode::Any || creds.api_keys.iter().any(|x| x == k),
    };
    if !key_ok {
        return Err(error(
            S,
            403,
            "Api Key is invalid: send a valid x-api-key header",
        ));
    }
    match org {
        None => Err(error(
            S,
            403,
            "x-gw-ims-org-id header is missing: it names the organization",
        )),
        Some(o) => check_org_len(o.to_string()),
    }
}

fn check_org_len(org: String) -> Result<String, FakeResponse> {
    if org.len() > MAX_ORG_LEN {
        return Err(error(
            S,
            400,
            &format!("x-gw-ims-org-id is longer than {MAX_ORG_LEN} bytes"),
        ));
    }
    Ok(org)
}

/// One line of `GET /quota` (typed rather than `json!`: this is a hot path).
#[derive(Serialize)]
struct Line {
    name: &'static str,
    description: &'static str,
    consumed: u64,
    quota: u64,
}

/// The `GET /quota` body.
#[derive(Serialize)]
struct Lines {
    quotas: Vec<Line>,
}

fn list_quotas(fake: &Fake, req: &FakeRequest, org: &str) -> FakeResponse {
    let faults = fake.model().faults();
    let wanted = match req.query_param("quotaType") {
        None => None,
        Some(t) => match index_of(&t).filter(|&i| QUOTAS[i].api == Api::Adobe) {
            Some(_) if faults.filter_ignored => None,
            Some(i) => Some(i),
            None if faults.unknown_filter_lists_all => None,
            None => {
                let known: Vec<_> = QUOTAS
                    .iter()
                    .filter(|q| q.api == Api::Adobe)
                    .map(|q| q.name)
                    .collect();
                return error(
                    S,
                    400,
                    &format!(
                        "unknown quotaType `{t}`; expected one of {}",
                        known.join(", ")
                    ),
                );
            }
        },
    };
    let quotas: Vec<Line> = fake
        .model()
        .quota_lines(org, Api::Adobe)
        .into_iter()
        .filter(|l| wanted.is_none_or(|w| w == l.index))
        .map(|l| Line {
            name: QUOTAS[l.index].name,
            description: QUOTAS[l.index].description,
            consumed: l.consumed,
            quota: l.limit,
        })
        .collect();
    FakeResponse::json(200, &Lines { quotas })
}

/// Counts identities in whichever forms are present (for `count-invalid`), ignoring
/// the shape of each item.
fn rough_count(obj: &Map<String, Value>) -> u64 {
    let mut n = 0u64;
    if let Some(Value::Array(a)) = obj.get("identities") {
        n += a.len() as u64;
    }
    if let Some(Value::Array(a)) = obj.get("namespacesIdentities") {
        for g in a {
            if let Some(Value::Array(ids)) = g.get("ids") {
                n += ids.len() as u64;
            }
        }
    }
    n
}

fn namespace_ok(item: &Value) -> bool {
    matches!(
        item.get("namespace").and_then(|n| n.get("code")),
        Some(Value::String(c)) if !c.is_empty()
    )
}

/// Validates a work-order body; returns the identity count.
fn validate_workorder(obj: &Map<String, Value>) -> Result<u64, String> {
    match obj.get("action") {
        None => return Err("`action` is required (delete_identity)".into()),
        Some(Value::String(a)) if a == "delete_identity" => {}
        Some(Value::String(a)) => {
            return Err(format!(
                "unsupported action `{a}`; expected delete_identity"
            ))
        }
        Some(_) => return Err("`action` must be a string".into()),
    }
    match obj.get("datasetId") {
        None | Some(Value::Null) => {
            return Err("`datasetId` is required (a dataset id or ALL)".into())
        }
        Some(Value::String(d)) if !d.trim().is_empty() => {}
        Some(Value::String(_)) => return Err("`datasetId` must not be empty".into()),
        Some(_) => return Err("`datasetId` must be a string".into()),
    }
    for f in ["displayName", "description"] {
        if !matches!(
            obj.get(f),
            None | Some(Value::Null) | Some(Value::String(_))
        ) {
            return Err(format!("`{f}` must be a string"));
        }
    }
    let count = match (obj.get("identities"), obj.get("namespacesIdentities")) {
        (Some(_), Some(_)) => {
            return Err("give either `identities` or `namespacesIdentities`, not both".into())
        }
        (None, None) => {
            return Err("one of `identities` or `namespacesIdentities` is required".into())
        }
        (Some(Value::Array(items)), None) => {
            for (i, item) in items.iter().enumerate() {
                if !namespace_ok(item) {
                    return Err(format!(
                        "identities[{i}].namespace.code must be a non-empty string"
                    ));
                }
                match item.get("id") {
                    Some(Value::String(s)) if !s.is_empty() => {}
                    _ => return Err(format!("identities[{i}].id must be a non-empty string")),
                }
            }
            items.len() as u64
        }
        (None, Some(Value::Array(groups))) => {
            let mut n = 0u64;
            for (i, g) in groups.iter().enumerate() {
                if !namespace_ok(g) {
                    return Err(format!(
                        "namespacesIdentities[{i}].namespace.code must be a non-empty string"
                    ));
                }
                match g.get("ids") {
                    Some(Value::Array(ids)) => {
                        if let Some(j) = ids
                            .iter()
                            .position(|x| !matches!(x, Value::String(s) if !s.is_empty()))
                        {
                            return Err(format!(
                                "namespacesIdentities[{i}].ids[{j}] must be a non-empty string"
                            ));
                        }
                        n += ids.len() as u64;
                    }
                    _ => return Err(format!("namespacesIdentities[{i}].ids must be an array")),
                }
            }
            n
        }
        (Some(_), None) => return Err("`identities` must be an array".into()),
        (None, Some(_)) => return Err("`namespacesIdentities` must be an array".into()),
    };
    if count == 0 {
        return Err("the list of identities is empty".into());
    }
    if count > MAX_IDENTITIES {
        return Err(format!(
            "{count} identities in one work order; at most {MAX_IDENTITIES} are allowed"
        ));
    }
    Ok(count)
}

/// The common, valid work order in the `identities` form, parsed without building a
/// `serde_json::Value` (the hot path of every consume benchmark). Anything it does not
/// fully accept goes through the general path, which owns every error message.
#[derive(Deserialize)]
struct FastOrder<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow, rename = "datasetId")]
    dataset_id: Cow<'a, str>,
    #[serde(borrow, rename = "displayName", default)]
    display_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow)]
    identities: Vec<FastIdentity<'a>>,
    #[serde(rename = "namespacesIdentities", default)]
    namespaces_identities: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct FastIdentity<'a> {
    #[serde(borrow)]
    namespace: FastNamespace<'a>,
    #[serde(borrow)]
    id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct FastNamespace<'a> {
    #[serde(borrow)]
    code: Cow<'a, str>,
}

impl FastOrder<'_> {
    /// Whether the general validation would accept it too (same rules).
    fn is_valid(&self) -> bool {
        self.action == "delete_identity"
            && !self.dataset_id.trim().is_empty()
            && self.namespaces_identities.is_none()
            && !self.identities.is_empty()
            && self.identities.len() as u64 <= MAX_IDENTITIES
            && self
                .identities
                .iter()
                .all(|i| !i.namespace.code.is_empty() && !i.id.is_empty())
    }
}

async fn create_workorder(
    fake: &Fake,
    req: &FakeRequest,
    org: &str,
    window: Window,
) -> FakeResponse {
    let model = fake.model();
    if let Ok(fast) = serde_json::from_slice::<FastOrder<'_>>(&req.body) {
        if fast.is_valid() {
            let input = WorkOrderInput {
                dataset_id: &fast.dataset_id,
                display_name: fast.display_name.as_deref().unwrap_or(""),
                description: fast.description.as_deref().unwrap_or(""),
                identities: fast.identities.len() as u64,
            };
            return workorder_answer(fake, org, model.create_workorder(org, &input, window).await);
        }
    }
    let value = match json_body(S, req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Value::Object(obj) = &value else {
        return error(S, 400, "request body must be a JSON object");
    };
    let count = match validate_workorder(obj) {
        Ok(n) => n,
        Err(msg) => {
            model.count_invalid(org, &[DAILY_DELETE, MONTHLY_DELETE], rough_count(obj));
            return error(S, 400, &msg);
        }
    };
    let s = |f: &str| obj.get(f).and_then(Value::as_str).unwrap_or("");
    let input = WorkOrderInput {
        dataset_id: s("datasetId"),
        display_name: s("displayName"),
        description: s("description"),
        identities: count,
    };
    workorder_answer(fake, org, model.create_workorder(org, &input, window).await)
}

fn workorder_answer(fake: &Fake, org: &str, result: Result<WorkOrder, Refusal>) -> FakeResponse {
    match result {
        Ok(w) => FakeResponse::json(201, &WorkOrderView::new(fake, &w, Some(org))),
        Err(r) => refusal(fake, S, &fake.model().config().rejection.adobe, &r),
    }
}

fn get_workorder(fake: &Fake, org: &str, id: &str) -> FakeResponse {
    match parse_id("DI-", id).and_then(|n| fake.model().get_workorder(org, n)) {
        Some(w) => FakeResponse::json(200, &WorkOrderView::new(fake, &w, None)),
        None => error(S, 404, &format!("work order {id} not found")),
    }
}

/// Parses an ISO 8601 expiry: an instant with offset, or a UTC date-time / date.
fn parse_expiry(text: &str) -> Option<jiff::Timestamp> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    let d = text.parse::<jiff::civil::Date>().ok()?;
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

async fn create_ttl(fake: &Fake, req: &FakeRequest, org: &str, window: Window) -> FakeResponse {
    let value = match json_body(S, req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Value::Object(obj) = &value else {
        return error(S, 400, "request body must be a JSON object");
    };
    let model = fake.model();
    let invalid = |msg: &str| {
        model.count_invalid(org, &[crate::quota::DATASET_EXPIRATION], 1);
        error(S, 400, msg)
    };
    let dataset = match opt_str(S, obj, "datasetId") {
        Ok(Some(d)) if !d.trim().is_empty() => d,
        Ok(_) => return invalid("`datasetId` is required"),
        Err(_) => return invalid("`datasetId` must be a string"),
    };
    let expiry = match opt_str(S, obj, "expiry") {
        Ok(Some(e)) => match parse_expiry(e) {
            Some(ts) => ts,
            None => {
                return invalid(&format!(
                    "`expiry` `{e}` is not an ISO 8601 date-time (e.g. 2030-01-01T00:00:00Z)"
                ))
            }
        },
        Ok(None) => return invalid("`expiry` is required"),
        Err(_) => return invalid("`expiry` must be a string"),
    };
    let (display_name, description) = match (
        opt_str(S, obj, "displayName"),
        opt_str(S, obj, "description"),
    ) {
        (Ok(a), Ok(b)) => (a.unwrap_or(""), b.unwrap_or("")),
        _ => return invalid("`displayName` and `description` must be strings"),
    };
    let input = TtlInput {
        dataset_id: dataset,
        expiry,
        display_name,
        description,
    };
    match model.create_ttl(org, &input, window).await {
        Ok(t) => FakeResponse::json(201, &TtlView::new(org, &t)),
        Err(r) => refusal(fake, S, &model.config().rejection.adobe, &r),
    }
}

fn list_ttls(fake: &Fake, req: &FakeRequest, org: &str) -> FakeResponse {
    let page = match query_usize(S, req, "page", 0) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let limit = match query_usize(S, req, "limit", 25) {
        Ok(l) if (1..=100).contains(&l) => l,
        Ok(_) => return error(S, 400, "query parameter `limit` must be between 1 and 100"),
        Err(r) => return r,
    };
    // A comma-separated list, as in Adobe's API; `executing` is accepted but never
    // matches (the fake executes an expiration the moment its expiry passes).
    let statuses: Option<Vec<TtlStatus>> = match req.query_param("status") {
        None => None,
        Some(list) => {
            let mut out = Vec::new();
            for s in list.split(',').map(str::trim) {
                match s {
                    "pending" => out.push(TtlStatus::Pending),
                    "completed" => out.push(TtlStatus::Completed),
                    "cancelled" => out.push(TtlStatus::Cancelled),
                    "executing" => {}
                    _ => {
                        return error(
                            S,
                            400,
                            &format!(
                                "unknown status `{s}`; expected pending, executing, cancelled or completed"
                            ),
                        )
                    }
                }
            }
            Some(out)
        }
    };
    let dataset = req.query_param("datasetId");
    let (results, total) = fake.model().list_ttls(
        org,
        dataset.as_deref(),
        statuses.as_deref(),
        page.saturating_mul(limit),
        limit,
    );
    let results: Vec<TtlView> = results.iter().map(|t| TtlView::new(org, t)).collect();
    FakeResponse::json(
        200,
        &json!({
            "results": results,
            "current_page": page,
            "total_pages": total.div_ceil(limit),
            "total_count": total,
        }),
    )
}

fn get_ttl(fake: &Fake, org: &str, id: &str) -> FakeResponse {
    match parse_id("SD-", id).and_then(|n| fake.model().get_ttl(org, n)) {
        Some(t) => FakeResponse::json(200, &TtlView::new(org, &t)),
        None => error(S, 404, &format!("dataset expiration {id} not found")),
    }
}

fn cancel_ttl(fake: &Fake, org: &str, id: &str) -> FakeResponse {
    let Some(n) = parse_id("SD-", id) else {
        return error(S, 404, &format!("no pending dataset expiration {id}"));
    };
    match fake.model().cancel_ttl(org, n) {
        Ok(t) => FakeResponse::json(
            200,
            &json!({
                "message": format!("dataset expiration {id} cancelled"),
                "ttl": TtlView::new(org, &t),
            }),
        ),
        Err(r) => refusal(fake, S, &fake.model().config().rejection.adobe, &r),
    }
}

/// A work order as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WorkOrderView {
    /// `DI-<n>`.
    pub workorder_id: String,
    /// Always `delete_identity`.
    pub action: &'static str,
    /// `received`, then `completed` a minute (fake clock) later.
    pub status: &'static str,
    /// Identities in the order.
    pub operation_count: u64,
    /// Target dataset.
    pub dataset_id: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
    /// The organization (set by the creating route, absent on reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

impl WorkOrderView {
    /// The view of `w` now (its status moves with the fake clock); `org_id` is set by
    /// the creating route only.
    pub fn new(fake: &Fake, w: &WorkOrder, org_id: Option<&str>) -> WorkOrderView {
        let (status, updated_us) = workorder_status(w, fake.model().clock().now_us());
        WorkOrderView {
            workorder_id: format!("DI-{}", w.id),
            action: "delete_identity",
            status,
            operation_count: w.identities,
            dataset_id: w.dataset_id.to_string(),
            display_name: w.display_name.to_string(),
            description: w.description.to_string(),
            created_at: rfc3339_us(w.created_us),
            updated_at: rfc3339_us(updated_us),
            org_id: org_id.map(str::to_string),
        }
    }
}

/// A dataset expiration as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TtlView {
    /// `SD-<n>`.
    pub ttl_id: String,
    /// Dataset id.
    pub dataset_id: String,
    /// The organization.
    pub ims_org: String,
    /// Status.
    pub status: TtlStatus,
    /// RFC 3339 expiry.
    pub expiry: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
}

impl TtlView {
    /// The view of `t`, an expiration of `org`.
    pub fn new(org: &str, t: &Ttl) -> TtlView {
        TtlView {
            ttl_id: format!("SD-{}", t.id),
            dataset_id: t.dataset_id.to_string(),
            ims_org: org.to_string(),
            status: t.status,
            expiry: rfc3339_us(t.expiry_us),
            created_at: rfc3339_us(t.created_us),
            updated_at: rfc3339_us(t.updated_us),
            display_name: t.display_name.to_string(),
            description: t.description.to_string(),
        }
    }
}
