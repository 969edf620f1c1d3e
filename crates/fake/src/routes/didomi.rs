//! Didomi routes under `/v1`: the documented organization quota list, and the fake's
//! own export-configuration endpoints that consume and release the two quotas.
//! Errors use Feathers' `code` / `name` / `message` / `errors` body.

use serde::Serialize;
use serde_json::{json, Value};

use super::{
    bearer, error, json_body, method_not_allowed, opt_str, query_usize, refusal, segments,
    FakeRequest, FakeResponse, Style,
};
use crate::clock::rfc3339_us;
use crate::config::CredentialsMode;
use crate::model::{parse_id, Window};
use crate::orgs::{Destination, ExportConfig};
use crate::quota::{EXPORTS_CONFIGS, EXPORTS_DESTINATIONS};
use crate::service::Fake;

const S: Style = Style::Didomi;
/// Largest `$limit` honoured (larger values are clamped, as Feathers does).
pub const MAX_PAGE: usize = 100;
/// Largest `$limit` honoured on the configuration list (the fake's own endpoint: large
/// enough to count an organization's configurations in one call).
pub const MAX_CONFIG_PAGE: usize = 1000;
/// Default `$limit`.
pub const DEFAULT_PAGE: usize = 10;

/// Handles a request under `/v1`.
pub async fn handle(fake: &Fake, req: &FakeRequest, window: Window) -> FakeResponse {
    let Some(seg) = segments(&req.path, "/v1") else {
        return error(S, 404, &format!("Page not found: {}", req.path));
    };
    let m = req.method.as_str();
    let allowed = match seg.as_slice() {
        ["quotas"] => "GET",
        ["exports", "configs"] => "GET, POST",
        ["exports", "configs", _] => "GET, DELETE",
        ["exports", "configs", _, "enable" | "disable"] => "POST",
        ["exports", "configs", _, "destinations"] => "POST",
        ["exports", "configs", _, "destinations", _] => "DELETE",
        _ => return error(S, 404, &format!("Page not found: {}", req.path)),
    };
    if !allowed.split(", ").any(|a| a == m) {
        return method_not_allowed(S, req, allowed);
    }
    if let Err(r) = authenticate(fake, req) {
        return r;
    }
    // A body is only read by the two creating endpoints; parse it once here.
    let body = if m == "POST" && !req.body.is_empty() {
        match json_body(S, req) {
            Ok(Value::Object(o)) => Some(o),
            Ok(_) => return error(S, 400, "request body must be a JSON object"),
            Err(r) => return r,
        }
    } else {
        None
    };
    let org = match organization(req, body.as_ref()) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let model = fake.model();
    let shape = &model.config().rejection.didomi;
    let id_of = |text: &str| parse_id("cfg-", text);
    let not_found = |what: &str| error(S, 404, &format!("No record found for id '{what}'"));
    match (m, seg.as_slice()) {
        ("GET", ["quotas"]) => list_quotas(fake, req, &org),
        ("GET", ["exports", "configs"]) => {
            let (skip, limit) = match paging_up_to(req, MAX_CONFIG_PAGE) {
                Ok(p) => p,
                Err(r) => return r,
            };
            // Feathers-style query: a field equality and a sort on creation.
            let enabled = match req.query_param("enabled").as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(v) => {
                    return error(
                        S,
                        400,
                        &format!("`enabled` must be true or false, found `{v}`"),
                    )
                }
            };
            let sort = req
                .query_param("$sort[created_at]")
                .or_else(|| req.query_param("$sort[id]"));
            let newest_first = match sort.as_deref() {
                None | Some("1") => false,
                Some("-1") => true,
                Some(v) => return error(S, 400, &format!("`$sort` must be 1 or -1, found `{v}`")),
            };
            let (data, total) = model.list_configs(&org, enabled, newest_first, skip, limit);
            let data: Vec<ConfigView> = data.iter().map(|c| ConfigView::new(&org, c)).collect();
            FakeResponse::json(
                200,
                &json!({ "data": data, "total": total, "limit": limit, "skip": skip }),
            )
        }
        ("POST", ["exports", "configs"]) => {
            let name = match body.as_ref().map(|b| opt_str(S, b, "name")) {
                None => "",
                Some(Ok(n)) => n.unwrap_or(""),
                Some(Err(r)) => return r,
            };
            match model.create_config(&org, name) {
                Ok(c) => FakeResponse::json(201, &ConfigView::new(&org, &c)),
                Err(r) => refusal(fake, S, shape, &r),
            }
        }
        ("GET", ["exports", "configs", id]) => {
            match id_of(id).and_then(|n| model.get_config(&org, n)) {
                Some(c) => FakeResponse::json(200, &ConfigView::new(&org, &c)),
                None => not_found(id),
            }
        }
        ("DELETE", ["exports", "configs", id]) => match id_of(id) {
            None => not_found(id),
            Some(n) => match model.delete_config(&org, n) {
                Ok(c) => FakeResponse::json(200, &ConfigView::new(&org, &c)),
                Err(r) => refusal(fake, S, shape, &r),
            },
        },
        ("POST", ["exports", "configs", id, action])
            if *action == "enable" || *action == "disable" =>
        {
            let Some(n) = id_of(id) else {
                return not_found(id);
            };
            let r = if *action == "enable" {
                model.enable_config(&org, n, window).await
            } else {
                model.disable_config(&org, n)
            };
            match r {
                Ok(c) => FakeResponse::json(200, &ConfigView::new(&org, &c)),
                Err(r) => refusal(fake, S, shape, &r),
            }
        }
        ("POST", ["exports", "configs", id, "destinations"]) => {
            let Some(n) = id_of(id) else {
                return not_found(id);
            };
            let name = match body
                .as_ref()
                .map(|b| (opt_str(S, b, "name"), opt_str(S, b, "type")))
            {
                None => "",
                Some((Ok(n), Ok(t))) => n.or(t).unwrap_or(""),
                Some((Err(r), _)) | Some((_, Err(r))) => return r,
            };
            match model.attach_destination(&org, n, name, window).await {
                Ok(d) => FakeResponse::json(201, &DestinationView::new(&d)),
                Err(r) => refusal(fake, S, shape, &r),
            }
        }
        ("DELETE", ["exports", "configs", id, "destinations", dest]) => {
            let (Some(n), Some(d)) = (id_of(id), parse_id("dst-", dest)) else {
                return not_found(dest);
            };
            match model.detach_destination(&org, n, d) {
                Ok(()) => FakeResponse::json(200, &json!({ "id": dest, "removed": true })),
                Err(r) => refusal(fake, S, shape, &r),
            }
        }
        _ => error(S, 404, &format!("Page not found: {}", req.path)),
    }
}

fn authenticate(fake: &Fake, req: &FakeRequest) -> Result<(), FakeResponse> {
    let model = fake.model();
    if model.faults().no_auth {
        return Ok(());
    }
    let creds = &model.config().credentials;
    let ok = match bearer(req) {
        None => false,
        Some(t) => creds.mode == CredentialsMode::Any || creds.bearer_tokens.iter().any(|x| x == t),
    };
    if ok {
        Ok(())
    } else {
        Err(error(
            S,
            401,
            "Not authenticated: send Authorization: Bearer <token>",
        ))
    }
}

/// The organization: `organization_id` in the query, else in a JSON body.
fn organization(
    req: &FakeRequest,
    body: Option<&serde_json::Map<String, Value>>,
) -> Result<String, FakeResponse> {
    let from_body = body
        .and_then(|b| b.get("organization_id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match req.query_param("organization_id").or(from_body) {
        Some(o) if !o.trim().is_empty() => {
            if o.len() > super::adobe::MAX_ORG_LEN {
                Err(error(S, 400, "organization_id is too long"))
            } else {
                Ok(o)
            }
        }
        _ => Err(error(
            S,
            400,
            "organization_id is required (query parameter ?organization_id=...)",
        )),
    }
}

fn paging(req: &FakeRequest) -> Result<(usize, usize), FakeResponse> {
    paging_up_to(req, MAX_PAGE)
}

fn paging_up_to(req: &FakeRequest, max: usize) -> Result<(usize, usize), FakeResponse> {
    let skip = query_usize(S, req, "$skip", 0)?;
    let limit = query_usize(S, req, "$limit", DEFAULT_PAGE)?.min(max);
    Ok((skip, limit))
}

fn list_quotas(fake: &Fake, req: &FakeRequest, org: &str) -> FakeResponse {
    let (skip, limit) = match paging(req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let limits = fake.model().limits(org);
    let stamp = fake.started_at();
    let row = json!({
        "exports_configs": limits[EXPORTS_CONFIGS],
        "exports_destinations": limits[EXPORTS_DESTINATIONS],
        "id": format!("quotas-{org}"),
        "organization_id": org,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 0,
    });
    let data: Vec<Value> = std::iter::once(row).skip(skip).take(limit).collect();
    FakeResponse::json(
        200,
        &json!({ "data": data, "total": 1, "limit": limit, "skip": skip }),
    )
}

/// An export configuration as the fake's Didomi endpoints show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigView {
    /// `cfg-<n>`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// Name.
    pub name: String,
    /// Whether enabled.
    pub enabled: bool,
    /// Attached destinations.
    pub destinations: Vec<DestinationView>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last update.
    pub updated_at: String,
}

impl ConfigView {
    /// The view of `c`, a configuration of `org`.
    pub fn new(org: &str, c: &ExportConfig) -> ConfigView {
        ConfigView {
            id: format!("cfg-{}", c.id),
            organization_id: org.to_string(),
            name: c.name.to_string(),
            enabled: c.enabled,
            destinations: c.destinations.iter().map(DestinationView::new).collect(),
            created_at: rfc3339_us(c.created_us),
            updated_at: rfc3339_us(c.updated_us),
        }
    }
}

/// A destination as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DestinationView {
    /// `dst-<n>`.
    pub id: String,
    /// Name or type.
    pub name: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

impl DestinationView {
    /// The view of `d`.
    pub fn new(d: &Destination) -> DestinationView {
        DestinationView {
            id: format!("dst-{}", d.id),
            name: d.name.to_string(),
            created_at: rfc3339_us(d.created_us),
        }
    }
}
