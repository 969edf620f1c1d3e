//! The wiremock transport: mounts the same routes on a `wiremock::MockServer` through a
//! `Respond` adapter. For short tests only: wiremock 0.6 keeps a clone of every matched
//! request in each mounted mock (even with recording disabled) and serves behind one
//! write lock, so long or fast runs belong on [`crate::serve`] (docs/fake.md).

use std::sync::Arc;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::routes::FakeRequest;
use super::service::Fake;

/// A `wiremock::Respond` answering every request through the fake.
#[derive(Debug, Clone)]
pub struct FakeResponder(pub Arc<Fake>);

impl Respond for FakeResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let req = FakeRequest {
            method: request.method.as_str().to_string(),
            path: request.url.path().to_string(),
            query: request.url.query().map(str::to_string),
            headers: super::routes::header_pairs(&request.headers),
            body: bytes::Bytes::copy_from_slice(&request.body),
        };
        // Synchronous (wiremock's `Respond` is): no `non-atomic` race window here. It
        // could not race anyway: wiremock serves on one current-thread runtime.
        let r = self.0.handle(&req);
        let mime = r
            .headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "application/octet-stream".into());
        let mut t = ResponseTemplate::new(r.status).set_body_raw(r.body, &mime);
        for (n, v) in r.headers.iter().filter(|(n, _)| n != "content-type") {
            t = t.append_header(n.as_str(), v.as_str());
        }
        if let Some(d) = r.delay {
            t = t.set_delay(d);
        }
        t
    }
}

/// Starts a `MockServer` (request recording off) answering everything through `fake`.
pub async fn mount_on_wiremock(fake: Arc<Fake>) -> MockServer {
    let server = MockServer::builder()
        .disable_request_recording()
        .start()
        .await;
    Mock::given(any())
        .respond_with(FakeResponder(fake))
        .mount(&server)
        .await;
    server
}
