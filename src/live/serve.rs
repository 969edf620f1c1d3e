//! The HTTP endpoint: `GET /metrics` on hyper (already in the tree for the transports).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

use super::metrics::Metrics;

/// Scrapers served at once; more are closed at once (a scraper is one Prometheus, and
/// the endpoint must never take the load generator's resources).
const MAX_CONNECTIONS: usize = 16;

/// OpenMetrics text: what prometheus-client writes (`# EOF` ends it); Prometheus reads it.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A running endpoint: it stops, and its connections close, when this is dropped.
pub struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Server {
    /// The address it listens on (the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds `addr` and serves `metrics` until the returned [`Server`] is dropped.
pub(crate) async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<Server, String> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        format!("--metrics-listen {addr}: cannot listen there: {e} (choose another port, or 127.0.0.1:0 for any free one)")
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
    let stop = CancellationToken::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let token = stop.clone();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                _ = token.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok((s, _)) => s,
                    // A failed accept (out of descriptors) is the scraper's problem, not
                    // the run's: try the next one.
                    Err(_) => continue,
                },
            };
            let Ok(permit) = slots.clone().try_acquire_owned() else {
                continue; // dropped: closed
            };
            let (metrics, token) = (metrics.clone(), token.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let metrics = metrics.clone();
                    async move { Ok::<_, Infallible>(answer(&req, &metrics)) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = token.cancelled() => {}
                }
                drop(permit);
            });
        }
    });
    Ok(Server { addr, stop })
}

fn answer<B>(req: &Request<B>, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, kind, body) = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            (StatusCode::OK, CONTENT_TYPE, metrics.encode())
        }
        (&Method::GET | &Method::HEAD, "/") => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "quotabench: the metrics of the run in progress are at /metrics\n".to_string(),
        ),
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET /metrics\n".to_string(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: the metrics are at /metrics\n".to_string(),
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(kind) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}
