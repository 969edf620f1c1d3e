//! The plain-HTTP transport: hyper's pooled client, without reqwest's per-request layers
//! (redirect policy, URL re-parsing, boxed timeouts). Measured on the list hot path it
//! costs less CPU per request; `https://` targets keep reqwest for TLS.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::answer::{Answer, SendFailure};

/// A pooled HTTP/1.1 client for `http://` targets.
pub struct Plain {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl Plain {
    /// A client keeping up to `connections` idle connections per host.
    pub fn new(timeout: Duration, connections: usize) -> Plain {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout.min(Duration::from_secs(5))));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections.max(1))
            .build(connector);
        Plain { client, timeout }
    }

    /// Sends one request; the timeout covers the answer's body too.
    pub async fn send(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Answer, SendFailure> {
        let mut req = Request::new(Full::new(body.unwrap_or_default()));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| {
                if e.is_connect() {
                    SendFailure::NotSent(chain(&e))
                } else {
                    SendFailure::Indeterminate(chain(&e))
                }
            })?;
            let status = resp.status().as_u16();
            let (parts, body) = resp.into_parts();
            // The status line arrived, so the server decided; only the body may be lost.
            let body = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => Bytes::from(format!("<body lost: {}>", chain(&e))),
            };
            Ok(Answer {
                status,
                body,
                headers: parts.headers,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(SendFailure::Indeterminate(format!(
                "no answer within {:?}",
                self.timeout
            ))),
        }
    }
}

/// Adds a header, ignoring values that cannot be header values (templates render text).
pub fn put(headers: &mut HeaderMap, name: &HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name.clone(), v);
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    crate::redact::redact(&s).into_owned()
}
