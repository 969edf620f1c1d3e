//! Transports: send one rendered `http::Request<Bytes>` and bring back the answer, its
//! body capped. `http://` goes through hyper directly (no per-request URL re-parse, no
//! redirect layer; measured cheaper on the hot path, docs/performance.md), on a load
//! worker's own connection when the request comes from one (worker_conn.rs); `https://`
//! through reqwest with rustls (trust: tls.rs), and `http://` too when a proxy applies
//! (proxy.rs: reqwest sends the absolute-form request a forward proxy expects, and
//! tunnels https:// with CONNECT), so the direct http:// hot path stays on hyper. Both
//! send exactly the request they are given: the header rule lives in rendering
//! (client.rs), not here.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::Full;
use hyper::http::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::answer::{Answer, SendFailure};
use super::body::{cause, declared_len, over, read_hyper};
use super::proxy::{Proxy, ProxySetting};
use super::tls::TlsSettings;
use super::worker_conn;

/// Sends one request; reads at most `cap` bytes of the answer's body.
pub trait Transport: Send + Sync {
    /// Sends `req`. Over `cap` bytes of body the reading stops and the connection is
    /// dropped (not returned to the pool): an endless body cannot eat memory.
    fn send(
        &self,
        req: Request<Bytes>,
        cap: usize,
    ) -> impl Future<Output = Result<Answer, SendFailure>> + Send;
}

/// Connection settings shared by both transports.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Whole-exchange timeout (connect, send, answer and body).
    pub timeout: Duration,
    /// Idle connections kept per host.
    pub connections: usize,
    /// Extra root certificates (PEM) trusted by the https transport besides the
    /// platform's roots: a private CA bundle, or a test's self-signed certificate.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// CA bundle, client certificate and key, `--insecure` (tls.rs).
    pub tls: TlsSettings,
    /// Which proxy, if any (proxy.rs); the bundled fake is given `Off`.
    pub proxy: ProxySetting,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            timeout: Duration::from_secs(10),
            connections: 1,
            extra_roots_pem: Vec::new(),
            tls: TlsSettings::default(),
            proxy: ProxySetting::FromEnv,
        }
    }
}

/// An HTTP/1.1 client for `http://` targets: a load worker's own keep-alive
/// connection (worker_conn.rs), or the pool for everyone else.
pub struct Plain {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    connect_timeout: Duration,
}

impl Plain {
    /// A client keeping up to `connections` idle connections per host.
    pub fn new(o: &TransportOptions) -> Plain {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let connect_timeout = o.timeout.min(Duration::from_secs(5));
        connector.set_connect_timeout(Some(connect_timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(o.connections.max(1))
            .build(connector);
        Plain {
            client,
            timeout: o.timeout,
            connect_timeout,
        }
    }
}

impl Transport for Plain {
    async fn send(&self, req: Request<Bytes>, cap: usize) -> Result<Answer, SendFailure> {
        if worker_conn::can_send(&req) {
            if let Some(held) = worker_conn::take() {
                // The worker's connection bounds the exchange with its own timer.
                return worker_conn::send(held, req, cap, self.connect_timeout, self.timeout).await;
            }
        }
        let exchange = async {
            let resp = self.client.request(req.map(Full::new)).await.map_err(|e| {
                if e.is_connect() {
                    SendFailure::NotSent(cause(&e))
                } else {
                    SendFailure::Indeterminate(cause(&e))
                }
            })?;
            read_hyper(resp, cap).await
        };
        within(self.timeout, exchange).await
    }
}

/// reqwest with rustls, for `https://` targets and for any target through a proxy.
pub struct Pooled {
    client: reqwest::Client,
    /// The proxy (credentials left out), named in failures to connect.
    via: Option<String>,
}

impl Pooled {
    /// A client with the trust of `o.tls` plus `o.extra_roots_pem`, through `proxy`
    /// when given and never through one reqwest would pick itself (the environment is
    /// read once, by proxy.rs, the same way for both schemes).
    pub fn new(o: &TransportOptions, proxy: Option<&Proxy>) -> Result<Pooled, String> {
        let config = with_extra_roots(&o.tls, &o.extra_roots_pem)?;
        let b = reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .timeout(o.timeout)
            // A quota API's own answer is the evidence: a redirect is reported, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(o.timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(o.connections.max(1))
            .tcp_nodelay(true)
            // No default `accept: */*`: both transports send the rendered headers only.
            .default_headers(reqwest::header::HeaderMap::new());
        let b = match proxy {
            Some(p) => b.proxy(
                reqwest::Proxy::all(p.url.as_str())
                    .map_err(|e| format!("{}: proxy {}: {e}", p.from, p.shown()))?,
            ),
            None => b.no_proxy(),
        };
        let client = b
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {}", cause(&e)))?;
        Ok(Pooled {
            client,
            via: proxy.map(|p| format!("{}, set by {}", p.shown(), p.from)),
        })
    }

    /// Adds where a failed connection was going, and what would fix an untrusted
    /// certificate.
    fn explain(&self, why: String) -> String {
        let mut why = why;
        // Not for a name mismatch or an expired certificate: trusting more would not help.
        if why.contains("UnknownIssuer") || why.contains("CaUsedAsEndEntity") {
            why.push_str("; trust its CA with --ca-cert FILE (target.ca_cert), or turn verification off with --insecure");
        }
        match &self.via {
            Some(p) => format!("{why} (through proxy {p})"),
            None => why,
        }
    }
}

/// The configuration of `s` with `pem` trusted too (tests' self-signed certificates).
fn with_extra_roots(s: &TlsSettings, pem: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    let mut extra = Vec::new();
    for p in pem {
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(p)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("extra root certificates: {e}"))?;
        if certs.is_empty() {
            return Err("extra root certificates: no certificate in the PEM".into());
        }
        extra.extend(certs);
    }
    super::tls::client_config_with(s, extra).map_err(|e| e.message)
}

impl Transport for Pooled {
    async fn send(&self, req: Request<Bytes>, cap: usize) -> Result<Answer, SendFailure> {
        let req = reqwest::Request::try_from(req)
            .map_err(|e| SendFailure::NotSent(format!("bad request: {}", cause(&e))))?;
        let mut resp = match self.client.execute(req).await {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_builder() => {
                return Err(SendFailure::NotSent(self.explain(cause(&e))))
            }
            Err(e) => return Err(SendFailure::Indeterminate(cause(&e))),
        };
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        if declared_len(&headers).is_some_and(|n| n > cap as u64) {
            return Err(over(status, cap));
        }
        let mut buf = BytesMut::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) if buf.len() + c.len() > cap => return Err(over(status, cap)),
                Ok(Some(c)) => buf.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => {
                    return Err(SendFailure::Cut {
                        status,
                        why: format!("body lost: {}", cause(&e)),
                    })
                }
            }
        }
        Ok(Answer {
            status,
            body: buf.freeze(),
            headers,
        })
    }
}

async fn within(
    timeout: Duration,
    f: impl Future<Output = Result<Answer, SendFailure>>,
) -> Result<Answer, SendFailure> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r,
        Err(_) => Err(SendFailure::Indeterminate(format!(
            "no answer within {timeout:?}"
        ))),
    }
}
