//! What a transport brings back: an answer, or why there is none.

use bytes::Bytes;

/// What came back, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body (at most the operation's cap).
    pub body: Bytes,
    /// Response headers.
    pub headers: hyper::http::HeaderMap,
}

/// Why no whole answer came back. Each variant says whether the request may have been
/// applied, which is all the checker needs to know (docs/rules.md, "Outcomes").
#[derive(Debug, Clone)]
pub enum SendFailure {
    /// The request never left (connection refused, DNS, TLS handshake, a bad URL, an
    /// unsupported scheme): it certainly took no effect.
    NotSent(String),
    /// Timed out or broke after it was written: it may or may not have taken effect.
    Indeterminate(String),
    /// The status line came but the body did not, whole (lost mid-transfer, or over the
    /// operation's cap): the server decided something, but what it said is unknown.
    Cut {
        /// The status that arrived.
        status: u16,
        /// Why the body is missing.
        why: String,
    },
}
