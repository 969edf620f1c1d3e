//! Reading an answer's body within its cap, and naming why an exchange failed: shared by
//! the pooled transport (transport.rs) and a worker's own connection (worker_conn.rs),
//! so both read and name alike.

use http_body_util::{BodyExt, Limited};
use hyper::http::Response;

use super::answer::{Answer, SendFailure};

/// Reads a hyper answer, its body capped at `cap` bytes.
pub(super) async fn read_hyper(
    resp: Response<hyper::body::Incoming>,
    cap: usize,
) -> Result<Answer, SendFailure> {
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    if declared_len(&parts.headers).is_some_and(|n| n > cap as u64) {
        return Err(over(status, cap));
    }
    // Limited stops at the cap without buffering more; dropping the body then closes
    // the connection instead of draining it.
    match Limited::new(body, cap).collect().await {
        Ok(b) => Ok(Answer {
            status,
            body: b.to_bytes(),
            headers: parts.headers,
        }),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(over(status, cap)),
        Err(e) => Err(SendFailure::Cut {
            status,
            why: format!("body lost: {}", cause(&*e)),
        }),
    }
}

/// The `content-length` an answer declares, when it is a number.
pub(super) fn declared_len(h: &hyper::http::HeaderMap) -> Option<u64> {
    h.get(hyper::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// An answer whose body is past the cap: cut, as its status says it was answered.
pub(super) fn over(status: u16, cap: usize) -> SendFailure {
    SendFailure::Cut {
        status,
        why: format!("body over {cap} bytes"),
    }
}

/// The cause of a failure in a few words. A refused connection says so plainly (it is
/// the commonest reason a run cannot start); anything else is the error chain.
pub(crate) fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = src {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return "connection refused".into();
            }
        }
        src = err.source();
    }
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        // Layers often repeat their inner error's text; say it once.
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    crate::redact::redact(&s).into_owned()
}
