//! The standalone transport: a hyper 1 server (HTTP/1.1 and h2c via hyper-util's auto
//! builder) on tokio. This is what serves long runs and `quotabench fake`: it keeps
//! nothing per request, unlike wiremock (see docs/fake.md).
//!
//! A connection that does not finish a request's headers within the header-read
//! timeout ([`HEADER_READ_TIMEOUT`] unless [`ServeOptions`] says otherwise) is closed:
//! without it, half-open connections each hold a task and a descriptor for ever (3,000
//! of them were held in #14's measurement).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::routes::{error, style_of, FakeRequest, FakeResponse, Style};
use super::service::Fake;

/// A fake being served; stops when dropped or on [`RunningFake::shutdown`].
#[derive(Debug)]
pub struct RunningFake {
    /// Base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    fake: Arc<Fake>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningFake {
    /// The fake being served (ground truth without HTTP: `running.fake().state(org)`).
    pub fn fake(&self) -> &Arc<Fake> {
        &self.fake
    }

    /// Stops accepting, closes open connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// How long a client has to send a request's complete headers, counted from the
/// connection's accept (first request) or from the end of the previous response (each
/// later one, so an idle keep-alive connection is closed after it too). Longer than
/// the clients' own idle-connection timeout (hyper's and reqwest's pools: 90 s), so a
/// pooled client always drops an idle connection before the fake closes it and never
/// sends on one being closed (which would make an answer indeterminate).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// How [`serve_with`] serves.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// The header-read timeout (see [`HEADER_READ_TIMEOUT`]); never zero.
    pub header_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
        }
    }
}

/// Serves `fake` on `listen` (port 0 picks a free port) until the returned handle is
/// dropped or shut down, with the default [`ServeOptions`].
pub async fn serve(fake: Arc<Fake>, listen: SocketAddr) -> std::io::Result<RunningFake> {
    serve_with(fake, listen, ServeOptions::default()).await
}

/// [`serve`] with explicit options.
pub async fn serve_with(
    fake: Arc<Fake>,
    listen: SocketAddr,
    options: ServeOptions,
) -> std::io::Result<RunningFake> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, fake.clone(), stopped, options));
    Ok(RunningFake {
        url: format!("http://{addr}"),
        addr,
        fake,
        stop,
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    fake: Arc<Fake>,
    mut stopped: watch::Receiver<bool>,
    options: ServeOptions,
) {
    let limit = options.header_read_timeout.max(Duration::from_millis(1));
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own timer covers HTTP/1 headers, first request and every later one.
    // half_close: a client may shut its write side once its request is sent (HTTP/1.0
    // habit, `curl` with `--no-keepalive` scripts, raw tools); hyper's default then drops
    // the connection before the answer (`Connection: close` requests: ~5% were lost).
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limit)
        .half_close(true);
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let fake = fake.clone();
        // hyper's timer starts only once the auto builder has told HTTP/1 from h2c by
        // the first bytes: a connection that sends nothing (or an h2c preface and no
        // request) is closed here when no request arrived within the limit.
        let answered = Arc::new(AtomicBool::new(false));
        let seen = answered.clone();
        let svc = service_fn(move |req| {
            seen.store(true, Ordering::Relaxed);
            answer(fake.clone(), req)
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), svc)
            .into_owned();
        let mut stop = stopped.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
                _ = no_request_within(limit, &answered) => {}
            }
        });
    }
}

/// Ends after `limit` if no request has arrived by then; otherwise never.
async fn no_request_within(limit: Duration, answered: &AtomicBool) {
    tokio::time::sleep(limit).await;
    if answered.load(Ordering::Relaxed) {
        std::future::pending::<()>().await;
    }
}

async fn answer(
    fake: Arc<Fake>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let max = fake.model().config().caps.max_body_bytes;
    let body = match Limited::new(body, max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            let style = style_of(&path).unwrap_or(Style::Admin);
            let r = if e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                error(
                    style,
                    413,
                    &format!("request body is over the limit of {max} bytes"),
                )
            } else {
                error(style, 400, "could not read the request body")
            };
            return Ok(to_hyper(r));
        }
    };
    let fr = FakeRequest {
        method: parts.method.as_str().to_string(),
        path,
        query: parts.uri.query().map(str::to_string),
        headers: super::routes::header_pairs(&parts.headers),
        body,
    };
    let r = fake.respond(&fr).await;
    if let Some(d) = r.delay {
        tokio::time::sleep(d).await;
    }
    Ok(to_hyper(r))
}

fn to_hyper(r: FakeResponse) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (n, v) in r.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(n.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}
