//! The HTTP/1.1 wire format a load worker's own connection speaks (worker_conn.rs): a
//! request encoded into one buffer (one write per request), an answer's head parsed with
//! `httparse` (the parser hyper itself uses) and its body framed and de-chunked here.
//! Pure functions over bytes, so every framing case is tested without a socket.
//!
//! Why not hyper's `client::conn::http1`: its dispatch machinery (a channel between the
//! sender and the connection future, a oneshot per request, the body as a stream of
//! frames) was most of quotabench's own CPU per request (issue #17); a worker sends one
//! request at a time and reads one answer, which needs none of it. The bytes put on the
//! wire are hyper's: the same request line, header lines in the map's order, `host` then
//! `content-length` appended as hyper and hyper-util append them
//! (tests/suite/worker_conn.rs compares the two line for line).

use bytes::{Buf, Bytes, BytesMut};
use hyper::http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};

/// The most header lines an answer may carry (hyper's own limit).
const MAX_HEADERS: usize = 100;
/// The largest answer head read before giving up on it.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// Whether this connection can put `req` on the wire itself. A request that names its
/// own `transfer-encoding` needs hyper's chunked encoder: the pooled client sends it.
pub(super) fn encodable(req: &Request<Bytes>) -> bool {
    !req.headers().contains_key(TRANSFER_ENCODING)
}

/// Appends `req` to `out` as hyper writes it: the request line with the origin-form
/// target, every header line in the map's order, `host` when the request has none,
/// `content-length` when it has a body and declares no length, then the body.
pub(super) fn encode(req: &Request<Bytes>, host: &HeaderValue, out: &mut Vec<u8>) {
    let body = req.body();
    out.reserve(256 + body.len());
    out.extend_from_slice(req.method().as_str().as_bytes());
    out.push(b' ');
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    out.extend_from_slice(if target.is_empty() {
        b"/"
    } else {
        target.as_bytes()
    });
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        line(out, k.as_str().as_bytes(), v.as_bytes());
    }
    if !req.headers().contains_key(HOST) {
        line(out, b"host", host.as_bytes());
    }
    if !body.is_empty() && !req.headers().contains_key(CONTENT_LENGTH) {
        line(
            out,
            b"content-length",
            itoa::Buffer::new().format(body.len()).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

fn line(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    out.extend_from_slice(k);
    out.extend_from_slice(b": ");
    out.extend_from_slice(v);
    out.extend_from_slice(b"\r\n");
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// No body (an answer to HEAD, 204, 304).
    Empty,
    /// `content-length` bytes.
    Length(u64),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Until the target closes the connection.
    UntilClose,
}

/// An answer's head, parsed.
#[derive(Debug)]
pub(super) struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    pub framing: Framing,
    /// Whether the connection may carry another request after this answer.
    pub keep_alive: bool,
}

/// Parses the answer head at the start of `buf` (to a request with `method`), taking it
/// out of `buf`. `Ok(None)`: not all of it has arrived. Interim (1xx) answers before it
/// are skipped, as hyper skips them.
pub(super) fn parse_head(buf: &mut BytesMut, method: &Method) -> Result<Option<Head>, String> {
    loop {
        // Most answers carry a few headers: room for 32 on the stack (cleared per answer,
        // so kept small); more, up to hyper's 100, on the heap.
        let mut slots = [httparse::EMPTY_HEADER; FEW_HEADERS];
        let mut at = [Span::default(); FEW_HEADERS];
        let mut many: Vec<Span> = Vec::new();
        let found = match locate(buf, &mut slots, &mut at) {
            Err(httparse::Error::TooManyHeaders) => {
                let mut slots = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
                many = vec![Span::default(); MAX_HEADERS];
                locate(buf, &mut slots, &mut many)
            }
            r => r,
        };
        let (len, status, http10, n) = match found {
            Ok(Some(f)) => f,
            Ok(None) if buf.len() > MAX_HEAD => {
                return Err(format!("the answer's head is over {MAX_HEAD} bytes"))
            }
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("the answer is not HTTP/1.x: {e}")),
        };
        let at = if many.is_empty() {
            &at[..n]
        } else {
            &many[..n]
        };
        if (100..200).contains(&status) && status != 101 {
            buf.advance(len);
            continue;
        }
        let shared = buf.split_to(len).freeze();
        let mut headers = HeaderMap::with_capacity(n);
        for sp in at {
            let raw = &shared[sp.name.0..sp.name.1];
            let name = HeaderName::from_bytes(raw).map_err(|_| {
                format!(
                    "the answer's header name {:?} is invalid",
                    String::from_utf8_lossy(raw)
                )
            })?;
            let value = HeaderValue::from_maybe_shared(shared.slice(sp.value.0..sp.value.1))
                .map_err(|_| format!("the answer's header {name} has an invalid value"))?;
            headers.append(name, value);
        }
        let framing = framing(status, method, &headers)?;
        let keep_alive = framing != Framing::UntilClose && reusable(http10, &headers);
        return Ok(Some(Head {
            status,
            headers,
            framing,
            keep_alive,
        }));
    }
}

/// Header lines held on the stack while parsing.
const FEW_HEADERS: usize = 32;

/// Where one header's name and value lie in the head (start, end).
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    name: (usize, usize),
    value: (usize, usize),
}

/// Parses the head at the start of `buf` with `slots` for its headers, noting where
/// each lies in `at`: (head length, status, HTTP/1.0, headers), or `None` while partial.
fn locate<'b>(
    buf: &'b [u8],
    slots: &mut [httparse::Header<'b>],
    at: &mut [Span],
) -> Result<Option<(usize, u16, bool, usize)>, httparse::Error> {
    let mut r = httparse::Response::new(slots);
    let len = match r.parse(buf)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let base = buf.as_ptr() as usize;
    for (slot, h) in at.iter_mut().zip(r.headers.iter()) {
        let name = h.name.as_ptr() as usize - base;
        let value = h.value.as_ptr() as usize - base;
        *slot = Span {
            name: (name, name + h.name.len()),
            value: (value, value + h.value.len()),
        };
    }
    let status = r.code.unwrap_or(0);
    Ok(Some((len, status, r.version == Some(0), r.headers.len())))
}

/// RFC 9112 §6.3, as hyper applies it to answers.
fn framing(status: u16, method: &Method, h: &HeaderMap) -> Result<Framing, String> {
    if method == Method::HEAD || status == 204 || status == 304 || status == 101 {
        return Ok(Framing::Empty);
    }
    if let Some(te) = h.get_all(TRANSFER_ENCODING).iter().next_back() {
        let last = te.as_bytes().rsplit(|b| *b == b',').next().unwrap_or(b"");
        return Ok(if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut len = None;
    for v in h.get_all(CONTENT_LENGTH) {
        for part in v.as_bytes().split(|b| *b == b',') {
            let n = std::str::from_utf8(part.trim_ascii())
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| "the answer's content-length is not a number".to_string())?;
            if len.is_some_and(|l| l != n) {
                return Err("the answer declares two different content-lengths".into());
            }
            len = Some(n);
        }
    }
    Ok(len.map_or(Framing::UntilClose, Framing::Length))
}

/// Keep-alive unless the answer says `close` (HTTP/1.1) or does not say `keep-alive`
/// (HTTP/1.0).
fn reusable(http10: bool, h: &HeaderMap) -> bool {
    let has = |token: &[u8]| {
        h.get_all(CONNECTION).iter().any(|v| {
            v.as_bytes()
                .split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
        })
    };
    if http10 {
        has(b"keep-alive")
    } else {
        !has(b"close")
    }
}

/// Where a chunked body's decoding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk: bytes of data left.
    Data(u64),
    /// After a chunk's data: its CRLF.
    DataEnd,
    /// After the last chunk: trailer lines up to the empty one.
    Trailers,
    Done,
}

/// A chunked body decoded incrementally, as its bytes arrive.
#[derive(Debug)]
pub(super) struct Chunked {
    state: ChunkState,
}

impl Chunked {
    pub fn new() -> Chunked {
        Chunked {
            state: ChunkState::Size,
        }
    }

    /// Consumes what it can of `input`, appending data to `body`. `Ok(true)`: the body
    /// is complete (what follows in `input` is not the body's).
    pub fn decode(&mut self, input: &mut BytesMut, body: &mut BytesMut) -> Result<bool, String> {
        loop {
            match self.state {
                ChunkState::Done => return Ok(true),
                ChunkState::Size => {
                    let Some(end) = find_crlf(input) else {
                        return too_long(input, "chunk-size line");
                    };
                    let text = &input[..end];
                    let size = text
                        .split(|b| *b == b';')
                        .next()
                        .unwrap_or(b"")
                        .trim_ascii();
                    let n = std::str::from_utf8(size)
                        .ok()
                        .filter(|s| !s.is_empty() && s.len() <= 16)
                        .and_then(|s| u64::from_str_radix(s, 16).ok())
                        .ok_or_else(|| "a chunk size is not a hexadecimal number".to_string())?;
                    input.advance(end + 2);
                    self.state = if n == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(n)
                    };
                }
                ChunkState::Data(left) => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    let take = (left.min(input.len() as u64)) as usize;
                    body.extend_from_slice(&input[..take]);
                    input.advance(take);
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                    if left > 0 {
                        return Ok(false);
                    }
                }
                ChunkState::DataEnd => {
                    if input.len() < 2 {
                        return Ok(false);
                    }
                    if &input[..2] != b"\r\n" {
                        return Err("a chunk's data does not end with CRLF".into());
                    }
                    input.advance(2);
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(end) = find_crlf(input) else {
                        return too_long(input, "trailer line");
                    };
                    input.advance(end + 2);
                    if end == 0 {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

/// A line not ended yet: wait for more, unless it is already absurdly long.
fn too_long(input: &[u8], what: &str) -> Result<bool, String> {
    if input.len() > MAX_HEAD {
        Err(format!("a {what} is over {MAX_HEAD} bytes"))
    } else {
        Ok(false)
    }
}

/// The body bytes of a fixed-length body in `input`, once all `len` of them are there.
pub(super) fn take_length(input: &mut BytesMut, len: u64) -> Option<Bytes> {
    (input.len() as u64 >= len).then(|| input.split_to(len as usize).freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str, method: Method) -> (Result<Option<Head>, String>, BytesMut) {
        let mut b = BytesMut::from(raw);
        let h = parse_head(&mut b, &method);
        (h, b)
    }

    #[test]
    fn a_request_is_the_line_the_headers_host_and_length_then_the_body() {
        let mut req = Request::new(Bytes::from_static(b"{\"a\":1}"));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = "http://127.0.0.1:8080/x/y?q=1".parse().unwrap();
        req.headers_mut()
            .insert("accept", HeaderValue::from_static("*/*"));
        req.headers_mut()
            .append("x-two", HeaderValue::from_static("a"));
        req.headers_mut()
            .append("x-two", HeaderValue::from_static("b"));
        let mut out = Vec::new();
        encode(&req, &HeaderValue::from_static("127.0.0.1:8080"), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /x/y?q=1 HTTP/1.1\r\naccept: */*\r\nx-two: a\r\nx-two: b\r\n\
             host: 127.0.0.1:8080\r\ncontent-length: 7\r\n\r\n{\"a\":1}"
        );
        // No body: no content-length; a request's own host is kept.
        let mut req = Request::new(Bytes::new());
        *req.uri_mut() = "http://h/".parse().unwrap();
        req.headers_mut()
            .insert("host", HeaderValue::from_static("other"));
        let mut out = Vec::new();
        encode(&req, &HeaderValue::from_static("h"), &mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nhost: other\r\n\r\n");
        req.headers_mut()
            .insert("transfer-encoding", HeaderValue::from_static("chunked"));
        assert!(!encodable(&req), "chunked requests go to hyper's encoder");
    }

    #[test]
    fn a_head_is_parsed_whole_or_waited_for() {
        let (h, rest) = head(
            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\n{}",
            Method::GET,
        );
        let h = h.unwrap().unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.framing, Framing::Length(2));
        assert!(h.keep_alive);
        assert_eq!(h.headers["x-a"], "1");
        assert_eq!(&rest[..], b"{}", "the body stays in the buffer");
        let (h, rest) = head("HTTP/1.1 200 OK\r\ncontent-len", Method::GET);
        assert!(h.unwrap().is_none());
        assert_eq!(
            &rest[..],
            b"HTTP/1.1 200 OK\r\ncontent-len",
            "nothing taken from a partial head"
        );
        // Past the 32 header lines kept on the stack, up to hyper's 100.
        let many: String = (0..40).map(|i| format!("x-{i}: {i}\r\n")).collect();
        let (h, _) = head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n"), Method::GET);
        let h = h.unwrap().unwrap();
        assert_eq!(
            (h.headers.len(), h.headers["x-39"].as_bytes()),
            (40, &b"39"[..])
        );
        let many: String = (0..101).map(|i| format!("x-{i}: {i}\r\n")).collect();
        let (h, _) = head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n"), Method::GET);
        assert!(h.unwrap_err().contains("too many headers"));
        let (h, _) = head("SSH-2.0-OpenSSH\r\n\r\n", Method::GET);
        assert!(h.unwrap_err().contains("not HTTP/1.x"));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let f = |raw: &str, m: Method| head(raw, m).0.map(|h| h.map(|h| (h.framing, h.keep_alive)));
        let get = || Method::GET;
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 9\r\n\r\n",
                get()
            ),
            Ok(Some((Framing::Chunked, true)))
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\n\r\n", get()),
            Ok(Some((Framing::UntilClose, false)))
        );
        assert_eq!(
            f("HTTP/1.1 204 No Content\r\n\r\n", get()),
            Ok(Some((Framing::Empty, true)))
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", Method::HEAD),
            Ok(Some((Framing::Empty, true)))
        );
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: Close\r\n\r\n",
                get()
            ),
            Ok(Some((Framing::Length(0), false)))
        );
        assert_eq!(
            f("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", get()),
            Ok(Some((Framing::Length(0), false)))
        );
        assert_eq!(
            f(
                "HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n",
                get()
            ),
            Ok(Some((Framing::Length(0), true)))
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ncontent-length: 3, 3\r\n\r\n", get()),
            Ok(Some((Framing::Length(3), true)))
        );
        assert!(f(
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
            get()
        )
        .is_err());
        assert!(f("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", get()).is_err());
        // An interim answer is skipped.
        assert_eq!(
            f(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n",
                get()
            ),
            Ok(Some((Framing::Length(0), true)))
        );
    }

    #[test]
    fn a_chunked_body_decodes_in_any_split() {
        let wire =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nx-t: 1\r\n\r\nNEXT";
        for cut in 0..wire.len() {
            let mut dec = Chunked::new();
            let mut body = BytesMut::new();
            let mut input = BytesMut::from(&wire[..cut]);
            let done = dec.decode(&mut input, &mut body).unwrap();
            assert!(!done || cut >= wire.len() - 4, "done early at {cut}");
            input.extend_from_slice(&wire[cut..]);
            assert!(dec.decode(&mut input, &mut body).unwrap(), "cut at {cut}");
            assert_eq!(&body[..], b"Wikipedia in\r\n\r\nchunks.", "cut at {cut}");
            assert_eq!(&input[..], b"NEXT", "cut at {cut}");
        }
        let mut input = BytesMut::from(&b"zz\r\n"[..]);
        assert!(Chunked::new()
            .decode(&mut input, &mut BytesMut::new())
            .is_err());
        let mut input = BytesMut::from(&b"2\r\nabXY"[..]);
        assert!(Chunked::new()
            .decode(&mut input, &mut BytesMut::new())
            .is_err());
    }

    #[test]
    fn a_fixed_body_is_taken_once_whole() {
        let mut b = BytesMut::from(&b"abc"[..]);
        assert_eq!(take_length(&mut b, 4), None);
        b.extend_from_slice(b"dNEXT");
        assert_eq!(take_length(&mut b, 4).as_deref(), Some(&b"abcd"[..]));
        assert_eq!(&b[..], b"NEXT");
    }
}
