//! A target and its one request path: `render` turns a compiled operation and its
//! variables into one `http::Request<Bytes>`; a [`Transport`] sends it; `perform`
//! (perform.rs) classifies what came back. `curl` prints the same rendered request.
//!
//! The header rule, for every transport: the scenario's headers, then the operation's
//! (the profile's `headers` and the operation's own, already merged when compiled); an
//! operation header replaces a scenario header of the same name, never duplicates it;
//! then `accept: */*` when neither set `accept` (reqwest always adds it and cannot be
//! told not to, and curl sends it too: every transport sends the same lines).

use std::collections::HashMap;

use bytes::Bytes;
use hyper::http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use parking_lot::Mutex;

pub use super::answer::{Answer, SendFailure};
use super::compile::{CompiledOp, CompiledProfile};
use super::profile::IdSource;
use super::template::Vars;
use super::transport::{Plain, Pooled, Transport, TransportOptions};
use crate::error::Error;
use crate::vocab::Readings;

/// A target: where it is, who we are, and how its API is spoken.
pub struct Target {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// The base URL's query, added to every request's (`?api_key=…`).
    base_query: String,
    /// Tenant exercised.
    pub tenant: String,
    /// The compiled profile.
    pub profile: CompiledProfile,
    headers: Vec<(HeaderName, HeaderValue)>,
    link: Link,
    /// Per operation, what its requests share: built once, cloned per request.
    prepared: HashMap<String, Prepared>,
    /// The last list answer read, so identical answers share one readings allocation.
    pub(crate) list_cache: Mutex<Option<ListCache>>,
    /// The proxy requests go through (its URL without credentials, and where it was
    /// set), or `None` for direct.
    pub proxy: Option<String>,
}

/// (operation, body, readings, note) of the last list answer read.
pub(crate) type ListCache = (String, Bytes, Readings, Option<String>);

// One per target, so its size does not matter; boxing would only add an indirection
// to every request on the hot path.
#[allow(clippy::large_enum_variant)]
enum Link {
    /// hyper, direct: `http://` with no proxy (the hot path).
    Plain(Plain),
    /// reqwest: `https://`, and `http://` through a proxy.
    Pooled(Pooled),
    /// The base URL cannot be sent to: every request is not sent, with this reason.
    Unsupported(String),
}

/// The fixed part of an operation's requests.
struct Prepared {
    /// The URL, when the path has no placeholders.
    uri: Option<Uri>,
    /// The scenario's headers, then the operation's leading headers whose values are
    /// fixed for the target (literal or `{{tenant}}` only).
    headers: HeaderMap,
    /// How many of the operation's headers `headers` already holds; the rest are
    /// rendered per request.
    rendered: usize,
}

/// Splits a base URL into what every request starts with (scheme, host, port, path;
/// no trailing slash), its query (added to every request's query: an API key given as
/// `?api_key=…`) and its userinfo as an `Authorization: Basic` value (as curl sends
/// `http://user:password@host`; a URI never carries it on the wire).
fn split_base(base_url: &str) -> (String, String, Option<HeaderValue>) {
    let Ok(mut u) = url::Url::parse(base_url) else {
        return (
            base_url.trim_end_matches('/').to_string(),
            String::new(),
            None,
        );
    };
    let basic = (!u.username().is_empty() || u.password().is_some()).then(|| {
        let decode = |t: &str| {
            percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned()
        };
        let (user, pass) = (decode(u.username()), decode(u.password().unwrap_or("")));
        let token = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{user}:{pass}"),
        );
        let mut v = HeaderValue::from_str(&format!("Basic {token}"))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        v.set_sensitive(true);
        v
    });
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let query = u.query().unwrap_or("").to_string();
    u.set_query(None);
    u.set_fragment(None);
    (u.as_str().trim_end_matches('/').to_string(), query, basic)
}

/// A request URL: the base, the operation's path, then the base's query after the
/// path's own (joined with `&`).
fn join(base: &str, base_query: &str, path: &str) -> String {
    match (base_query.is_empty(), path.contains('?')) {
        (true, _) => format!("{base}{path}"),
        (false, true) => format!("{base}{path}&{base_query}"),
        (false, false) => format!("{base}{path}?{base_query}"),
    }
}

/// Why a base URL cannot be used, if it cannot: only `http://` and `https://` are sent.
pub fn unsupported(base_url: &str) -> Option<String> {
    match url::Url::parse(base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => None,
        Ok(u) if matches!(u.scheme(), "http" | "https") => {
            Some(format!("{base_url:?} names no host"))
        }
        Ok(u) => Some(format!(
            "unsupported scheme {}:// (expected http:// or https://)",
            u.scheme()
        )),
        Err(e) => Some(format!(
            "{base_url:?} is not a URL with a scheme (expected http://HOST or https://HOST): {e}"
        )),
    }
}

impl Target {
    /// Builds a target. `headers` are the scenario's (credentials included).
    pub fn new(
        base_url: &str,
        tenant: &str,
        profile: CompiledProfile,
        headers: &[(String, String)],
        timeout: std::time::Duration,
        connections: usize,
    ) -> Result<Target, Error> {
        let o = TransportOptions {
            timeout,
            connections,
            ..TransportOptions::default()
        };
        Target::with_options(base_url, tenant, profile, headers, &o)
    }

    /// Builds a target with full transport options (extra root certificates).
    pub fn with_options(
        base_url: &str,
        tenant: &str,
        profile: CompiledProfile,
        headers: &[(String, String)],
        o: &TransportOptions,
    ) -> Result<Target, Error> {
        let mut hs = Vec::new();
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::Usage(format!("header name {k:?} is not valid")))?;
            let mut value = HeaderValue::from_str(v).map_err(|_| {
                Error::Usage(format!(
                    "the value of header {k} is not a valid header value"
                ))
            })?;
            if crate::redact::is_sensitive_header(k) {
                value.set_sensitive(true);
            }
            hs.push((name, value));
        }
        let (base, base_query, basic) = split_base(base_url);
        if let Some(v) = basic.filter(|_| !hs.iter().any(|(k, _)| k == "authorization")) {
            hs.push((hyper::header::AUTHORIZATION, v));
        }
        let proxy = super::proxy::for_target(&o.proxy, &base, |k| std::env::var(k).ok())
            .map_err(Error::Usage)?;
        let link = match unsupported(&base) {
            Some(why) => Link::Unsupported(why),
            None if base.starts_with("https://") || proxy.is_some() => {
                Link::Pooled(Pooled::new(o, proxy.as_ref()).map_err(Error::Usage)?)
            }
            None => Link::Plain(Plain::new(o)),
        };
        let tenant_vars = Vars {
            tenant,
            ..Vars::default()
        };
        let prepared = profile
            .ops
            .values()
            .map(|op| {
                let uri = op
                    .path
                    .is_static()
                    .then(|| join(&base, &base_query, &op.path.render(&Vars::default())))
                    .and_then(|u| u.parse().ok());
                let mut headers = base_headers(&hs, op);
                let mut rendered = 0;
                for (k, t) in &op.headers {
                    let Some(v) = t
                        .tenant_only()
                        .then(|| HeaderValue::from_str(&t.render(&tenant_vars)).ok())
                        .flatten()
                    else {
                        break;
                    };
                    headers.insert(k.clone(), v);
                    rendered += 1;
                }
                let p = Prepared {
                    uri,
                    headers,
                    rendered,
                };
                (op.name.clone(), p)
            })
            .collect();
        Ok(Target {
            link,
            prepared,
            base_url: base,
            base_query,
            tenant: tenant.to_string(),
            profile,
            headers: hs,
            list_cache: Mutex::new(None),
            proxy: proxy.map(|p| format!("{} ({})", p.shown(), p.from)),
        })
    }

    /// The one request `op` sends with `vars`.
    pub fn render(&self, op: &CompiledOp, vars: &Vars<'_>) -> Result<Request<Bytes>, String> {
        self.render_into(op, vars, &mut Vec::new())
    }

    /// [`Target::render`] with a caller's scratch buffer for the JSON body (the hot
    /// path renders into one buffer per worker, then copies it once into the request).
    pub fn render_into(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<Request<Bytes>, String> {
        // What was prepared holds the target's tenant: another tenant renders afresh.
        let prepared = self
            .prepared
            .get(&op.name)
            .filter(|_| vars.tenant == self.tenant);
        let uri = match prepared.and_then(|p| p.uri.as_ref()) {
            Some(u) => u.clone(),
            None => {
                let text = join(&self.base_url, &self.base_query, &op.path.render(vars));
                text.parse()
                    .map_err(|e| format!("{text:?} is not a valid URL: {e}"))?
            }
        };
        let (mut headers, rendered) = match prepared {
            Some(p) => (p.headers.clone(), p.rendered),
            None => (base_headers(&self.headers, op), 0),
        };
        for (k, t) in &op.headers[rendered..] {
            let v = t.render(vars);
            let v = HeaderValue::from_str(&v)
                .map_err(|_| format!("header {k}: {v:?} is not a valid header value"))?;
            headers.insert(k.clone(), v);
        }
        let body = if let Some(t) = &op.body {
            t.render(vars, scratch);
            Bytes::copy_from_slice(scratch)
        } else if let Some(t) = &op.raw_body {
            Bytes::from(t.render(vars))
        } else {
            Bytes::new()
        };
        let mut req = Request::new(body);
        *req.method_mut() = op.method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        Ok(req)
    }

    /// Sends a rendered request through the target's transport, reading at most `cap`
    /// bytes of body.
    pub async fn send(&self, req: Request<Bytes>, cap: usize) -> Result<Answer, SendFailure> {
        match &self.link {
            Link::Plain(t) => t.send(req, cap).await,
            Link::Pooled(t) => t.send(req, cap).await,
            Link::Unsupported(why) => Err(SendFailure::NotSent(why.clone())),
        }
    }

    /// A curl command reproducing the request, with secrets masked: the request
    /// `render` makes, header for header.
    pub fn curl(&self, op: &CompiledOp, vars: &Vars<'_>) -> String {
        let req = match self.render(op, vars) {
            Ok(r) => r,
            Err(e) => return format!("# cannot render {}: {e}", op.name),
        };
        let mut s = format!("curl -X {} '{}'", req.method(), req.uri());
        for (k, v) in req.headers() {
            let v = String::from_utf8_lossy(v.as_bytes());
            s.push_str(&format!(
                " -H '{}: {}'",
                k,
                crate::redact::header_value(k.as_str(), &v)
            ));
        }
        if !req.body().is_empty() {
            let text = String::from_utf8_lossy(req.body());
            let text = if text.len() > 600 {
                format!("{}…", &text[..text.floor_char_boundary(600)])
            } else {
                text.into_owned()
            };
            s.push_str(&format!(" --data '{}'", text.replace('\'', "'\\''")));
        }
        crate::redact::redact(&s).into_owned()
    }
}

/// The scenario's headers and the default `accept`, before the operation's headers.
/// An operation header named `accept` replaces the default when rendered.
fn base_headers(scenario: &[(HeaderName, HeaderValue)], op: &CompiledOp) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(scenario.len() + op.headers.len() + 1);
    h.insert(hyper::http::header::ACCEPT, HeaderValue::from_static("*/*"));
    for (k, v) in scenario {
        h.insert(k.clone(), v.clone());
    }
    h
}

/// Reads the id of a created object from an answer.
pub fn extract_id(op: &CompiledOp, answer: &Answer) -> Option<String> {
    let src: &IdSource = op.id.as_ref()?;
    if let Some(ptr) = &src.body {
        let v: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
        return match v.pointer(ptr)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
    }
    let h = src.header.as_deref()?;
    let v = answer.headers.get(h)?.to_str().ok()?;
    v.trim_end_matches('/')
        .rsplit('/')
        .next()
        .map(str::to_string)
}

#[cfg(test)]
mod base_url_tests {
    use super::{join, split_base};

    #[test]
    fn a_base_query_joins_every_request_and_userinfo_becomes_basic_auth() {
        let (base, query, basic) =
            split_base("http://al%20ice:p%40ss@127.0.0.1:9/api/?api_key=K&x=1");
        assert_eq!(base, "http://127.0.0.1:9/api");
        assert_eq!(query, "api_key=K&x=1");
        // "al ice:p@ss" in base64.
        assert_eq!(basic.unwrap().to_str().unwrap(), "Basic YWwgaWNlOnBAc3M=");
        assert_eq!(
            join(&base, &query, "/quota"),
            "http://127.0.0.1:9/api/quota?api_key=K&x=1"
        );
        assert_eq!(
            join(&base, &query, "/quota?org=a"),
            "http://127.0.0.1:9/api/quota?org=a&api_key=K&x=1"
        );
        let (base, query, basic) = split_base("https://h.example/");
        assert_eq!(
            (base.as_str(), query.as_str(), basic),
            ("https://h.example", "", None)
        );
        assert_eq!(join(&base, &query, "/q"), "https://h.example/q");
    }
}
