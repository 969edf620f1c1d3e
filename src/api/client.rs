//! The HTTP side of a target: send a compiled operation, classify the answer.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};

pub use super::answer::{Answer, SendFailure};
use super::compile::{CompiledOp, CompiledProfile};
use super::profile::IdSource;
use super::template::Vars;
use crate::error::Error;
use crate::vocab::Outcome;

/// A target: where it is, who we are, and how its API is spoken.
pub struct Target {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// Tenant exercised.
    pub tenant: String,
    /// The compiled profile.
    pub profile: CompiledProfile,
    headers: Vec<(HeaderName, HeaderValue)>,
    client: reqwest::Client,
    static_urls: std::collections::HashMap<String, reqwest::Url>,
    /// `http://` targets go through hyper directly (see plain.rs); `None` for https.
    plain: Option<super::plain::Plain>,
    /// Per operation, what `http://` requests share: built once, cloned per request.
    prepared: std::collections::HashMap<String, Prepared>,
}

/// The fixed part of an operation's requests.
struct Prepared {
    /// The URL, when the path has no placeholders.
    uri: Option<hyper::http::Uri>,
    /// The scenario's headers, then the operation's leading headers whose values are
    /// fixed for the target (literal or `{{tenant}}` only).
    headers: hyper::http::HeaderMap,
    /// How many of the operation's headers `headers` already holds; the rest are
    /// rendered per request, after them, as before.
    rendered: usize,
}

impl Target {
    /// Builds a target. `headers` are the scenario's (credentials included).
    pub fn new(
        base_url: &str,
        tenant: &str,
        profile: CompiledProfile,
        headers: &[(String, String)],
        timeout: Duration,
        connections: usize,
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
        let client = reqwest::Client::builder()
            .timeout(timeout)
            // A quota API's own answer is the evidence: a redirect is reported, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(connections.max(1))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::Target(format!("cannot build the HTTP client: {e}")))?;
        let base = base_url.trim_end_matches('/').to_string();
        let static_urls: std::collections::HashMap<String, reqwest::Url> = profile
            .ops
            .values()
            .filter(|o| o.path.is_static())
            .filter_map(|o| {
                let url = format!("{base}{}", o.path.render(&Vars::default()));
                reqwest::Url::parse(&url).ok().map(|u| (o.name.clone(), u))
            })
            .collect();
        let plain = base
            .starts_with("http://")
            .then(|| super::plain::Plain::new(timeout, connections));
        let tenant_vars = Vars {
            tenant,
            ..Vars::default()
        };
        let prepared = profile
            .ops
            .values()
            .map(|o| {
                let uri = static_urls
                    .get(&o.name)
                    .and_then(|u| u.as_str().parse().ok());
                let mut headers = hyper::http::HeaderMap::with_capacity(hs.len() + o.headers.len());
                for (k, v) in &hs {
                    headers.insert(k.clone(), v.clone());
                }
                let mut rendered = 0;
                for (k, t) in o.headers.iter().take_while(|(_, t)| t.tenant_only()) {
                    super::plain::put(&mut headers, k, &t.render(&tenant_vars));
                    rendered += 1;
                }
                let p = Prepared {
                    uri,
                    headers,
                    rendered,
                };
                (o.name.clone(), p)
            })
            .collect();
        Ok(Target {
            plain,
            prepared,
            static_urls,
            base_url: base,
            tenant: tenant.to_string(),
            profile,
            headers: hs,
            client,
        })
    }

    fn request(&self, op: &CompiledOp, vars: &Vars, body: &mut Vec<u8>) -> reqwest::RequestBuilder {
        // Paths without placeholders are parsed once, not per request.
        let mut rb = match self.static_urls.get(&op.name) {
            Some(u) => self.client.request(op.method.clone(), u.clone()),
            None => self.client.request(
                op.method.clone(),
                format!("{}{}", self.base_url, op.path.render(vars)),
            ),
        };
        for (k, v) in &self.headers {
            rb = rb.header(k, v.clone());
        }
        for (k, t) in &op.headers {
            rb = rb.header(k, t.render(vars));
        }
        if let Some(t) = &op.body {
            t.render(vars, body);
            rb = rb.body(body.clone());
        } else if let Some(t) = &op.raw_body {
            rb = rb.body(t.render(vars));
        }
        rb
    }

    /// Sends one operation.
    pub async fn send(
        &self,
        op: &CompiledOp,
        vars: &Vars<'_>,
        body: &mut Vec<u8>,
    ) -> Result<Answer, SendFailure> {
        if let Some(plain) = &self.plain {
            return self.send_plain(plain, op, vars, body).await;
        }
        let resp = match self.request(op, vars, body).send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Err(SendFailure::NotSent(short(&e))),
            Err(e) => return Err(SendFailure::Indeterminate(short(&e))),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(body) => Ok(Answer {
                status,
                body,
                headers,
            }),
            // The status line arrived, so the server decided; the body is lost only.
            Err(e) => Ok(Answer {
                status,
                body: Bytes::from(format!("<body lost: {}>", short(&e))),
                headers,
            }),
        }
    }

    async fn send_plain(
        &self,
        plain: &super::plain::Plain,
        op: &CompiledOp,
        vars: &Vars<'_>,
        body: &mut Vec<u8>,
    ) -> Result<Answer, SendFailure> {
        let prepared = self
            .prepared
            .get(&op.name)
            .filter(|_| vars.tenant == self.tenant);
        let uri = match prepared.and_then(|p| p.uri.as_ref()) {
            Some(u) => u.clone(),
            None => {
                let text = format!("{}{}", self.base_url, op.path.render(vars));
                text.parse().map_err(|e| {
                    SendFailure::NotSent(format!("{text:?} is not a valid URL: {e}"))
                })?
            }
        };
        let (mut headers, rendered) = match prepared {
            Some(p) => (p.headers.clone(), p.rendered),
            None => {
                let mut h =
                    hyper::http::HeaderMap::with_capacity(self.headers.len() + op.headers.len());
                for (k, v) in &self.headers {
                    h.insert(k.clone(), v.clone());
                }
                (h, 0)
            }
        };
        for (k, t) in &op.headers[rendered..] {
            super::plain::put(&mut headers, k, &t.render(vars));
        }
        let payload = if let Some(t) = &op.body {
            t.render(vars, body);
            Some(Bytes::copy_from_slice(body))
        } else {
            op.raw_body.as_ref().map(|t| Bytes::from(t.render(vars)))
        };
        plain.send(op.method.clone(), uri, headers, payload).await
    }

    /// A curl command reproducing the request, with secrets masked.
    pub fn curl(&self, op: &CompiledOp, vars: &Vars<'_>) -> String {
        let mut body = Vec::new();
        let mut s = format!(
            "curl -X {} '{}{}'",
            op.method,
            self.base_url,
            op.path.render(vars)
        );
        for (k, v) in &self.headers {
            let v = v.to_str().unwrap_or("");
            s.push_str(&format!(
                " -H '{}: {}'",
                k,
                crate::redact::header_value(k.as_str(), v)
            ));
        }
        for (k, t) in &op.headers {
            s.push_str(&format!(" -H '{}: {}'", k, t.render(vars)));
        }
        if let Some(t) = &op.body {
            t.render(vars, &mut body);
            let text = String::from_utf8_lossy(&body);
            let text = if text.len() > 600 {
                format!("{}…", &text[..text.floor_char_boundary(600)])
            } else {
                text.into_owned()
            };
            s.push_str(&format!(" --data '{}'", text.replace('\'', "'\\''")));
        } else if let Some(t) = &op.raw_body {
            s.push_str(&format!(
                " --data '{}'",
                t.render(vars).replace('\'', "'\\''")
            ));
        }
        crate::redact::redact(&s).into_owned()
    }
}

fn short(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    crate::redact::redact(&s).into_owned()
}

/// Classifies an answer by the operation's rules (first match wins).
pub fn classify(op: &CompiledOp, status: u16, body: &[u8]) -> Option<Outcome> {
    op.outcomes.iter().find_map(|r| {
        let status_ok = r.status.as_ref().is_none_or(|m| m.matches(status));
        let body_ok = r.body_contains.as_ref().is_none_or(|needle| {
            body.windows(needle.len().max(1))
                .any(|w| w == needle.as_bytes())
        });
        (status_ok && body_ok).then_some(r.class)
    })
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
