//! One keep-alive HTTP/1.1 connection per load worker, for `http://` targets: the worker
//! task owns it and drives it itself, so a request costs no pool checkout and return, no
//! dispatch to a connection task on another thread, and no cross-task wake-up (issue #17:
//! those were most of quotabench's own CPU per request). Opened on first use, opened
//! again when the target closes it.
//!
//! The connection lives in a task-local slot a worker opens with [`owning_connection`],
//! so `Target::perform` (and everything that sends through it: counting lists, paged
//! reads, setups) keeps its signature: a request sent from a worker task uses the
//! worker's connection; one sent from anywhere else (the coordinator's snapshots and
//! probes) uses the pooled client as before. Both send the same bytes: the Host header
//! and origin-form target are set here exactly as hyper-util's pooled client sets them.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper::http::uri::{Authority, PathAndQuery, Uri};
use hyper::http::{HeaderValue, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::answer::{Answer, SendFailure};
use super::body::{cause, read_hyper};

tokio::task_local! {
    static OWNED: RefCell<Option<Owned>>;
}

/// Runs `f` as a worker owning one connection (see the module documentation).
pub async fn owning_connection<F: Future>(f: F) -> F::Output {
    OWNED.scope(RefCell::new(None), f).await
}

/// A worker's connection: the sending half and the connection future it drives.
struct Owned {
    authority: Authority,
    /// The `Host` header for `authority`, made once per connection, not per request.
    host: HeaderValue,
    sender: SendRequest<Full<Bytes>>,
    conn: Pin<Box<Connection<TokioIo<TcpStream>, Full<Bytes>>>>,
}

impl Owned {
    /// Whether the connection can take a request: lets it read a close the target sent
    /// while it was idle (nothing polls it between requests).
    fn usable(&mut self) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        matches!(self.conn.as_mut().poll(&mut cx), Poll::Pending) && !self.sender.is_closed()
    }
}

/// The worker's connection taken out of its slot; `None` outside a worker task.
pub(super) fn take() -> Option<Option<OwnedSlot>> {
    OWNED
        .try_with(|c| c.borrow_mut().take().map(OwnedSlot))
        .ok()
}

/// A connection taken from a worker's slot (opaque outside this module).
pub(super) struct OwnedSlot(Owned);

fn put_back(o: Owned) {
    let _ = OWNED.try_with(|c| *c.borrow_mut() = Some(o));
}

/// How one attempt ended.
enum Attempt {
    Done(Result<Answer, SendFailure>, bool),
    /// Never written: the connection was closed first. The request comes back.
    NotWritten(Request<Full<Bytes>>),
}

/// Sends `req` on the worker's connection `held` (opening one if needed), reading at
/// most `cap` bytes of body; the connection goes back to the worker's slot when it can
/// carry the next request.
pub(super) async fn send(
    held: Option<OwnedSlot>,
    req: Request<Bytes>,
    cap: usize,
    connect_timeout: Duration,
) -> Result<Answer, SendFailure> {
    let Some(authority) = req.uri().authority() else {
        return Err(SendFailure::NotSent(format!("{} names no host", req.uri())));
    };
    let reuse = held
        .map(|s| s.0)
        .filter(|c| c.authority == *authority)
        .and_then(|mut c| c.usable().then_some(c));
    let mut conn = match reuse {
        Some(c) => c,
        None => connect(authority, connect_timeout).await?,
    };
    let mut req = origin_form(req, &conn.host).map(Full::new);
    // A request the closed connection never wrote is sent once more on a new one.
    for retry in [false, true] {
        match attempt(&mut conn, req, cap).await {
            Attempt::Done(answer, reusable) => {
                if reusable {
                    put_back(conn);
                }
                return answer;
            }
            Attempt::NotWritten(r) if !retry => {
                req = r;
                conn = connect(&conn.authority, connect_timeout).await?;
            }
            Attempt::NotWritten(_) => break,
        }
    }
    Err(SendFailure::NotSent(
        "the connection closed before the request could be written".into(),
    ))
}

async fn attempt(c: &mut Owned, req: Request<Full<Bytes>>, cap: usize) -> Attempt {
    let Owned { sender, conn, .. } = c;
    let work = async {
        if sender.ready().await.is_err() {
            return Err(req);
        }
        match sender.try_send_request(req).await {
            Ok(resp) => Ok(read_hyper(resp, cap).await),
            Err(mut e) => match e.take_message() {
                Some(r) => Err(r),
                None => Ok(Err(SendFailure::Indeterminate(cause(&e.into_error())))),
            },
        }
    };
    tokio::pin!(work);
    let mut closed = false;
    // The connection is driven beside the exchange, on this task.
    let r = loop {
        tokio::select! {
            biased;
            r = &mut work => break r,
            _ = conn.as_mut(), if !closed => closed = true,
        }
    };
    match r {
        Ok(answer) => {
            let reusable = !closed && answer.is_ok();
            Attempt::Done(answer, reusable)
        }
        Err(r) => Attempt::NotWritten(r),
    }
}

async fn connect(authority: &Authority, timeout: Duration) -> Result<Owned, SendFailure> {
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(SendFailure::NotSent(cause(&e))),
        Err(_) => {
            return Err(SendFailure::NotSent(format!(
                "no connection within {timeout:?}"
            )))
        }
    };
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SendFailure::NotSent(cause(&e)))?;
    Ok(Owned {
        host: host_header(authority)?,
        authority: authority.clone(),
        sender,
        conn: Box::pin(conn),
    })
}

/// The `Host` header hyper-util's pooled client sends for `authority`: the host, and
/// the port only when not 80.
fn host_header(authority: &Authority) -> Result<HeaderValue, SendFailure> {
    let host = match authority.port_u16() {
        Some(p) if p != 80 => format!("{}:{p}", authority.host()),
        _ => authority.host().to_string(),
    };
    HeaderValue::from_str(&host)
        .map_err(|_| SendFailure::NotSent(format!("host {host:?} is not a header value")))
}

/// The request as hyper-util's pooled client puts it on the wire: the connection's
/// `Host` header when the request has none, then the origin-form target (`/path?query`).
fn origin_form(mut req: Request<Bytes>, host: &HeaderValue) -> Request<Bytes> {
    if !req.headers().contains_key(hyper::http::header::HOST) {
        req.headers_mut()
            .insert(hyper::http::header::HOST, host.clone());
    }
    let pq = req
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    *req.uri_mut() = Uri::from(pq);
    req
}
