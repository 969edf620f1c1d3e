//! One keep-alive HTTP/1.1 connection per load worker, for `http://` targets: the worker
//! task owns it and drives it itself, so a request costs no pool checkout and return, no
//! dispatch to a connection task, and no cross-task wake-up (issue #17: those were most
//! of quotabench's own CPU per request). Opened on first use, opened again when the
//! target closes it. The wire format is h1.rs: a request goes out in one write from a
//! buffer the connection reuses, its answer is read into another.
//!
//! The connection lives in a task-local slot a worker opens with [`owning_connection`],
//! so `Target::perform` (and everything that sends through it: counting lists, paged
//! reads, setups) keeps its signature: a request sent from a worker task uses the
//! worker's connection; one sent from anywhere else (the coordinator's snapshots and
//! probes) uses the pooled client as before. Both send the same bytes: the Host header
//! and origin-form target are set exactly as hyper-util's pooled client sets them.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hyper::http::uri::Authority;
use hyper::http::{HeaderValue, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::answer::{Answer, SendFailure};
use super::body::{cause, over};
use super::h1::{self, Chunked, Framing};

tokio::task_local! {
    // Boxed: tokio swaps a task-local's value in and out of its thread on every poll
    // of the worker's task, so the slot is kept pointer-sized.
    static OWNED: RefCell<Option<Box<Owned>>>;
}

/// Runs `f` as a worker owning one connection (see the module documentation).
pub async fn owning_connection<F: Future>(f: F) -> F::Output {
    OWNED.scope(RefCell::new(None), f).await
}

/// The room a read asks for: a whole small answer in one read, and a short read (which
/// tells tokio the socket is drained, so the next request's readiness is fresh).
const READ_ROOM: usize = 16 * 1024;

/// A worker's connection: the socket, the two buffers every request reuses, and the
/// timer that bounds each exchange.
struct Owned {
    authority: Authority,
    /// The `Host` header for `authority`, made once per connection, not per request.
    host: HeaderValue,
    io: Io,
    /// The exchange's deadline: one timer per connection, moved only when a request
    /// needs it later (see [`Owned::arm`]), not one registered and removed per request.
    timer: Pin<Box<Sleep>>,
}

/// The socket and its buffers.
struct Io {
    stream: TcpStream,
    /// The request being written.
    out: Vec<u8>,
    /// Bytes read and not yet taken by an answer.
    input: BytesMut,
}

impl Owned {
    /// Whether the connection can take a request: the target may have closed it (or
    /// sent something unasked) while it was idle. Costs no system call unless the
    /// socket became readable since the last answer was read.
    fn usable(&mut self) -> bool {
        if !self.io.input.is_empty() {
            return false;
        }
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match self.io.stream.poll_read_ready(&mut cx) {
            Poll::Pending => true,
            Poll::Ready(Ok(())) => {
                let mut b = [0u8; 1];
                matches!(self.io.stream.try_read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            }
            Poll::Ready(Err(_)) => false,
        }
    }

    /// Makes the timer fire no earlier than `due`. Moving a registered timer costs a
    /// lock of the runtime's timer wheel; it is moved `slack` past `due`, so the next
    /// requests (until `slack` has passed) find it late enough as it is. The exchange's
    /// bound is thus `timeout` to `timeout + slack` (docs/performance.md).
    fn arm(&mut self, due: Instant, slack: Duration) {
        if self.timer.deadline() < due {
            self.timer.as_mut().reset(due + slack);
        }
    }
}

/// How late past its `timeout` an exchange may be cut: 1/64 of it, between 1 ms and
/// 100 ms (10 s: 100 ms).
fn slack(timeout: Duration) -> Duration {
    (timeout / 64).clamp(Duration::from_millis(1), Duration::from_millis(100))
}

/// The worker's connection taken out of its slot; `None` outside a worker task.
pub(super) fn take() -> Option<Option<OwnedSlot>> {
    OWNED
        .try_with(|c| c.borrow_mut().take().map(OwnedSlot))
        .ok()
}

/// A connection taken from a worker's slot (opaque outside this module).
pub(super) struct OwnedSlot(Box<Owned>);

fn put_back(o: Box<Owned>) {
    let _ = OWNED.try_with(|c| *c.borrow_mut() = Some(o));
}

/// Whether a request this module would send itself (h1.rs encodes everything but a
/// request that names its own transfer-encoding, which the pool sends).
pub(super) fn can_send(req: &Request<Bytes>) -> bool {
    h1::encodable(req)
}

/// Sends `req` on the worker's connection `held` (opening one if needed), reading at
/// most `cap` bytes of body, the whole exchange (connecting included) bounded by
/// `timeout`; the connection goes back to the worker's slot when it can carry the next
/// request.
pub(super) async fn send(
    held: Option<OwnedSlot>,
    req: Request<Bytes>,
    cap: usize,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Answer, SendFailure> {
    let due = Instant::now() + timeout;
    let Some(authority) = req.uri().authority() else {
        return Err(SendFailure::NotSent(format!("{} names no host", req.uri())));
    };
    let reuse = held
        .map(|s| s.0)
        .filter(|c| c.authority == *authority)
        .and_then(|mut c| c.usable().then_some(c));
    let reused = reuse.is_some();
    let mut conn = match reuse {
        Some(c) => c,
        None => connect(authority, connect_timeout.min(timeout), due).await?,
    };
    conn.arm(due, slack(timeout));
    conn.io.out.clear();
    h1::encode(&req, &conn.host, &mut conn.io.out);
    let Owned { io, timer, .. } = &mut *conn;
    let exchange = async {
        // A reused connection the target closed as the request went out took none of
        // it: the request is written once more, on a new connection.
        if let Err(e) = io.stream.write_all(&io.out).await {
            if !reused {
                return (Err(SendFailure::NotSent(cause(&e))), false);
            }
            match connect_io(authority, connect_timeout.min(timeout)).await {
                Ok(fresh) => {
                    let out = std::mem::replace(io, fresh).out;
                    io.out = out;
                }
                Err(e) => return (Err(e), false),
            }
            if let Err(e) = io.stream.write_all(&io.out).await {
                return (Err(SendFailure::NotSent(cause(&e))), false);
            }
        }
        read_answer(io, req.method(), cap).await
    };
    let (answer, keep) = tokio::select! {
        biased;
        r = exchange => r,
        _ = timer.as_mut() => {
            let why = format!("no answer within {timeout:?}");
            (Err(SendFailure::Indeterminate(why)), false)
        }
    };
    if keep {
        put_back(conn);
    }
    answer
}

/// Reads one whole answer; says whether the connection may carry the next request.
async fn read_answer(
    c: &mut Io,
    method: &hyper::http::Method,
    cap: usize,
) -> (Result<Answer, SendFailure>, bool) {
    let head = loop {
        match h1::parse_head(&mut c.input, method) {
            Ok(Some(h)) => break h,
            Ok(None) => {}
            Err(e) => return (Err(SendFailure::Indeterminate(e)), false),
        }
        match fill(c).await {
            Ok(0) => {
                let why = "the connection closed before the answer came".to_string();
                return (Err(SendFailure::Indeterminate(why)), false);
            }
            Ok(_) => {}
            Err(e) => return (Err(SendFailure::Indeterminate(cause(&e))), false),
        }
    };
    let status = head.status;
    let lost = |why: String| SendFailure::Cut {
        status,
        why: format!("body lost: {why}"),
    };
    let body = match head.framing {
        Framing::Empty => Bytes::new(),
        Framing::Length(n) if n > cap as u64 => return (Err(over(status, cap)), false),
        Framing::Length(n) => loop {
            if let Some(b) = h1::take_length(&mut c.input, n) {
                break b;
            }
            match fill(c).await {
                Ok(0) => {
                    let why = "the connection closed before the body was complete";
                    return (Err(lost(why.into())), false);
                }
                Ok(_) => {}
                Err(e) => return (Err(lost(cause(&e))), false),
            }
        },
        Framing::Chunked => {
            let mut dec = Chunked::new();
            let mut body = BytesMut::new();
            loop {
                match dec.decode(&mut c.input, &mut body) {
                    Ok(true) => break body.freeze(),
                    Ok(false) => {}
                    Err(e) => return (Err(lost(e)), false),
                }
                if body.len() > cap {
                    return (Err(over(status, cap)), false);
                }
                match fill(c).await {
                    Ok(0) => {
                        let why = "the connection closed before the last chunk";
                        return (Err(lost(why.into())), false);
                    }
                    Ok(_) => {}
                    Err(e) => return (Err(lost(cause(&e))), false),
                }
            }
        }
        Framing::UntilClose => loop {
            if c.input.len() > cap {
                return (Err(over(status, cap)), false);
            }
            match fill(c).await {
                Ok(0) => break c.input.split().freeze(),
                Ok(_) => {}
                Err(e) => return (Err(lost(cause(&e))), false),
            }
        },
    };
    if body.len() > cap {
        return (Err(over(status, cap)), false);
    }
    let keep = head.keep_alive && c.input.is_empty();
    let answer = Answer {
        status,
        body,
        headers: head.headers,
    };
    (Ok(answer), keep)
}

/// Reads what has arrived into the connection's input buffer (0: the target closed it).
async fn fill(c: &mut Io) -> std::io::Result<usize> {
    c.input.reserve(READ_ROOM);
    c.stream.read_buf(&mut c.input).await
}

/// A new connection to `authority`, its timer set for `due`.
async fn connect(
    authority: &Authority,
    timeout: Duration,
    due: Instant,
) -> Result<Box<Owned>, SendFailure> {
    Ok(Box::new(Owned {
        host: host_header(authority)?,
        authority: authority.clone(),
        io: connect_io(authority, timeout).await?,
        timer: Box::pin(tokio::time::sleep_until(due)),
    }))
}

async fn connect_io(authority: &Authority, timeout: Duration) -> Result<Io, SendFailure> {
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
    Ok(Io {
        stream,
        out: Vec::with_capacity(1024),
        input: BytesMut::with_capacity(READ_ROOM),
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
