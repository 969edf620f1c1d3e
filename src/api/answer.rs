//! What a transport brings back: an answer, or why there is none.

use bytes::Bytes;

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Bytes,
    /// Response headers.
    pub headers: hyper::http::HeaderMap,
}

/// Why no answer came back.
#[derive(Debug, Clone)]
pub enum SendFailure {
    /// The request never left (connection refused): it certainly took no effect.
    NotSent(String),
    /// Timed out or broke mid-way: it may or may not have taken effect.
    Indeterminate(String),
}
