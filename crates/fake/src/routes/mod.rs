//! Transport-agnostic routing: a [`FakeRequest`] in, a [`FakeResponse`] out.
//!
//! Both transports (the hyper server and the wiremock adapter) convert to and from
//! these two types and call [`crate::Fake::handle`]; the routes never see HTTP
//! types, so every path can be tested by calling `handle` directly.

pub mod admin;
pub mod adobe;
pub mod didomi;

use serde::Serialize;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::config::RejectionStyle;
use crate::model::{QuotaRejection, Refusal, Window};
use crate::service::Fake;

impl Fake {
    /// Answers one request, waiting out the `non-atomic` race window asynchronously:
    /// what the transports serving concurrent clients call. Never panics on input;
    /// admin requests bypass every fault.
    pub async fn respond(&self, req: &FakeRequest) -> FakeResponse {
        dispatch(self, req, Window::Await).await
    }

    /// Answers one request synchronously (tests, benches, the wiremock adapter). The
    /// same as [`Fake::respond`] except that under `non-atomic` the lock is still
    /// released between check and apply but nothing is waited between them.
    pub fn handle(&self, req: &FakeRequest) -> FakeResponse {
        let mut answer = pin!(dispatch(self, req, Window::Skip));
        match answer
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(r) => r,
            // The race window is the only await point, and `Skip` never enters it.
            Poll::Pending => unreachable!("a request without the race window awaited"),
        }
    }
}

/// The request-level faults (error rate, latency, stall) around [`route`].
async fn dispatch(fake: &Fake, req: &FakeRequest, window: Window) -> FakeResponse {
    let style = match style_of(&req.path) {
        Some(Style::Admin) | None => return route(fake, req, window).await,
        Some(s) => s,
    };
    let delay = fake.perf_delay();
    if fake.error_rate_hit() {
        let mut r = error(style, 503, "service unavailable (seeded error-rate fault)");
        r.delay = delay;
        return r;
    }
    let mut r = route(fake, req, window).await;
    r.delay = delay;
    r
}

/// Header pairs of a request as the routes read them (names lower-case, values lossy
/// UTF-8), from whichever transport received it.
pub fn header_pairs(map: &hyper::http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// A request as the routes see it.
#[derive(Debug, Clone, Default)]
pub struct FakeRequest {
    /// HTTP method, upper case (`GET`, `POST`, ...).
    pub method: String,
    /// Path without the query (`/data/core/hygiene/quota`).
    pub path: String,
    /// Raw query string without `?`.
    pub query: Option<String>,
    /// Headers; names lower-case.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: bytes::Bytes,
}

impl FakeRequest {
    /// A request with no headers and no body (handy in tests).
    pub fn new(method: &str, path_and_query: &str) -> FakeRequest {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path_and_query.to_string(), None),
        };
        FakeRequest {
            method: method.to_string(),
            path,
            query,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
        }
    }

    /// Adds a header (the name is lower-cased).
    pub fn header(mut self, name: &str, value: &str) -> FakeRequest {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<bytes::Bytes>) -> FakeRequest {
        self.body = body.into();
        self
    }

    /// The first value of header `name` (lower-case).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A response as the routes produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers (`content-type` included).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Performance faults: the transport sleeps this long before answering.
    pub delay: Option<std::time::Duration>,
}

impl FakeResponse {
    /// A JSON response.
    pub fn json(status: u16, value: &impl Serialize) -> FakeResponse {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        FakeResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            delay: None,
        }
    }

    /// The body parsed as JSON (`Null` when it is not JSON), for tests and tools.
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Which API's error body style to answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `{"error_code": "400 BAD REQUEST", "message": "..."}`.
    Adobe,
    /// Feathers: `{"code": 400, "name": "BadRequest", "message": "...", "errors": {}}`.
    Didomi,
    /// `{"error": "..."}`.
    Admin,
}

fn adobe_reason(status: u16) -> &'static str {
    match status {
        400 => "BAD REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT FOUND",
        405 => "METHOD NOT ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD TOO LARGE",
        422 => "UNPROCESSABLE ENTITY",
        429 => "TOO MANY REQUESTS",
        500 => "INTERNAL SERVER ERROR",
        503 => "SERVICE UNAVAILABLE",
        _ if status < 500 => "CLIENT ERROR",
        _ => "SERVER ERROR",
    }
}

fn feathers_name(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("BadRequest", "bad-request"),
        401 => ("NotAuthenticated", "not-authenticated"),
        403 => ("Forbidden", "forbidden"),
        404 => ("NotFound", "not-found"),
        405 => ("MethodNotAllowed", "method-not-allowed"),
        409 => ("Conflict", "conflict"),
        413 => ("PayloadTooLarge", "payload-too-large"),
        422 => ("Unprocessable", "unprocessable"),
        429 => ("TooManyRequests", "too-many-requests"),
        503 => ("Unavailable", "unavailable"),
        _ if status < 500 => ("BadRequest", "bad-request"),
        _ => ("GeneralError", "general-error"),
    }
}

/// An error response in `style`.
pub fn error(style: Style, status: u16, message: &str) -> FakeResponse {
    match style {
        Style::Adobe => FakeResponse::json(
            status,
            &serde_json::json!({
                "error_code": format!("{status} {}", adobe_reason(status)),
                "message": message,
            }),
        ),
        Style::Didomi => {
            let (name, class) = feathers_name(status);
            FakeResponse::json(
                status,
                &serde_json::json!({
                    "code": status, "name": name, "message": message,
                    "className": class, "errors": {},
                }),
            )
        }
        Style::Admin => FakeResponse::json(status, &serde_json::json!({ "error": message })),
    }
}

/// The response for a model refusal, in `style`; quota rejections follow the
/// configured rejection `shape` (or 500 under `quota-reject-500`).
pub fn refusal(fake: &Fake, style: Style, shape: &RejectionStyle, r: &Refusal) -> FakeResponse {
    match r {
        Refusal::Invalid(m) => error(style, 400, m),
        Refusal::NotFound(m) => error(style, 404, m),
        Refusal::Cap(m) => error(style, 400, m),
        Refusal::Quota(q) => quota_rejection(fake, style, shape, q),
    }
}

fn quota_rejection(
    fake: &Fake,
    style: Style,
    shape: &RejectionStyle,
    q: &QuotaRejection,
) -> FakeResponse {
    if fake.model().faults().quota_reject_500 {
        return error(style, 500, "internal server error");
    }
    let message = format!(
        "quota exceeded: {} (consumed {} of {}, order of {})",
        q.quota, q.consumed, q.limit, q.amount
    );
    match &shape.body {
        None => error(style, shape.status, &message),
        Some(template) => {
            let body = substitute(template, q, &message);
            FakeResponse::json(shape.status, &body)
        }
    }
}

/// Replaces `{quota}`, `{limit}`, `{consumed}`, `{amount}`, `{message}` in every
/// string of a configured body.
fn substitute(v: &serde_json::Value, q: &QuotaRejection, message: &str) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(
            s.replace("{quota}", q.quota)
                .replace("{limit}", &q.limit.to_string())
                .replace("{consumed}", &q.consumed.to_string())
                .replace("{amount}", &q.amount.to_string())
                .replace("{message}", message),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, q, message)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, q, message)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Which API a path belongs to.
pub fn style_of(path: &str) -> Option<Style> {
    if path == "/__admin" || path.starts_with("/__admin/") {
        Some(Style::Admin)
    } else if path == adobe::BASE || path.starts_with("/data/core/hygiene/") {
        Some(Style::Adobe)
    } else if path == "/v1" || path.starts_with("/v1/") {
        Some(Style::Didomi)
    } else {
        None
    }
}

/// Routes one request (performance faults are applied by the caller, [`Fake::respond`]).
pub async fn route(fake: &Fake, req: &FakeRequest, window: Window) -> FakeResponse {
    let style = style_of(&req.path);
    if req.body.len() > fake.model().config().caps.max_body_bytes {
        return error(
            style.unwrap_or(Style::Admin),
            413,
            &format!(
                "request body of {} bytes is over the limit of {} bytes",
                req.body.len(),
                fake.model().config().caps.max_body_bytes
            ),
        );
    }
    match style {
        Some(Style::Admin) => admin::handle(fake, req),
        Some(Style::Adobe) => adobe::handle(fake, req, window).await,
        Some(Style::Didomi) => didomi::handle(fake, req, window).await,
        None => error(
            Style::Admin,
            404,
            &format!(
                "no route for {}; the fake serves /data/core/hygiene/..., /v1/... and /__admin/...",
                req.path
            ),
        ),
    }
}

/// The path segments after `base` (`None` if `path` is not under it).
pub fn segments<'a>(path: &'a str, base: &str) -> Option<Vec<&'a str>> {
    let rest = path.strip_prefix(base)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(rest.split('/').filter(|s| !s.is_empty()).collect())
}

/// A 405 naming the allowed methods.
pub fn method_not_allowed(style: Style, req: &FakeRequest, allowed: &str) -> FakeResponse {
    let mut r = error(
        style,
        405,
        &format!(
            "{} is not allowed on {}; use {allowed}",
            req.method, req.path
        ),
    );
    r.headers.push(("allow".into(), allowed.into()));
    r
}

/// Parses a JSON request body into a value (400 in `style` when it is not JSON).
pub fn json_body(style: Style, req: &FakeRequest) -> Result<serde_json::Value, FakeResponse> {
    if req.body.is_empty() {
        return Err(error(style, 400, "request body is empty; expected JSON"));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| error(style, 400, &format!("request body is not valid JSON: {e}")))
}

/// Reads an optional string field (400 when present with another type).
pub fn opt_str<'a>(
    style: Style,
    obj: &'a serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Result<Option<&'a str>, FakeResponse> {
    match obj.get(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(error(style, 400, &format!("`{field}` must be a string"))),
    }
}

/// Parses a paging number from the query (400 when not a non-negative integer).
pub fn query_usize(
    style: Style,
    req: &FakeRequest,
    name: &str,
    default: usize,
) -> Result<usize, FakeResponse> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            error(
                style,
                400,
                &format!("query parameter `{name}` must be a non-negative integer, found `{v}`"),
            )
        }),
    }
}

/// The bearer token of `Authorization: Bearer <token>` (non-empty), if any.
pub fn bearer(req: &FakeRequest) -> Option<&str> {
    let v = req.header_value("authorization")?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
