//! A loopback server for transport tests: it records every request exactly as it
//! arrived (headers in order, duplicates kept) and answers with a canned response.
//! Served over plain HTTP or TLS with a certificate made here.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    /// Every header line, in arrival order; duplicates kept.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// What the server answers.
#[derive(Clone)]
pub enum Reply {
    /// This status, headers and body.
    Fixed(u16, Vec<(&'static str, String)>, Bytes),
    /// 200 with a body that never ends.
    Endless,
    /// The first route whose text the path and query contain answers.
    Routes(Vec<(&'static str, Reply)>),
}

pub struct Echo {
    pub addr: std::net::SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// A self-signed certificate for 127.0.0.1 and localhost: (PEM for clients, TLS config).
pub fn self_signed() -> (Vec<u8>, Arc<tokio_rustls::rustls::ServerConfig>) {
    use tokio_rustls::rustls;
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("a certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .expect("a server config");
    // HTTP/1.1 only, as on the plain side: the requests are compared line for line.
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ck.cert.pem().into_bytes(), Arc::new(cfg))
}

/// Starts a server on 127.0.0.1 (TLS when `tls` is given).
pub async fn start(reply: Reply, tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>) -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (log, reply, acceptor) = (log.clone(), reply.clone(), acceptor.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let (log, reply) = (log.clone(), reply.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let path = parts
                            .uri
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        log.lock().unwrap().push(Seen {
                            method: parts.method.to_string(),
                            path_and_query: parts
                                .uri
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                                .collect(),
                            body: body.to_vec(),
                        });
                        Ok::<_, Infallible>(answer(&reply, &path))
                    }
                });
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(tcp).await {
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(s), svc)
                                .await;
                        }
                    }
                    None => {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(tcp), svc)
                            .await;
                    }
                }
            });
        }
    });
    Echo { addr, seen }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn answer(reply: &Reply, path: &str) -> Response<Body> {
    match reply {
        Reply::Routes(routes) => match routes.iter().find(|(p, _)| path.contains(p)) {
            Some((_, r)) => answer(r, path),
            None => answer(&Reply::Fixed(404, vec![], Bytes::new()), path),
        },
        Reply::Fixed(status, headers, body) => {
            let mut r = Response::new(Full::new(body.clone()).boxed());
            *r.status_mut() = hyper::StatusCode::from_u16(*status).expect("a status");
            for (k, v) in headers {
                r.headers_mut()
                    .append(*k, v.parse().expect("a header value"));
            }
            r
        }
        Reply::Endless => Response::new(Forever(Bytes::from(vec![b'x'; 16 * 1024])).boxed()),
    }
}

/// A body that never ends: one chunk, forever.
struct Forever(Bytes);

impl hyper::body::Body for Forever {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        std::task::Poll::Ready(Some(Ok(Frame::data(self.0.clone()))))
    }
}
