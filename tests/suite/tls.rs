//! TLS trust against a local TLS server whose certificate is made here: refused without
//! trust (exit 2, nothing sent, the fix named), accepted with `--ca-cert`, with
//! `SSL_CERT_FILE` (the platform's roots as OpenSSL tools read them), with a scenario's
//! `ca_cert` relative to its file, and with `--insecure` — which every report then says.
//! A server that asks for a client certificate refuses a run without one and takes a
//! run with `--client-cert`/`--client-key`. Bad files are located errors before any load.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use assert_cmd::Command;
use tokio::net::TcpListener;
use tokio_rustls::rustls;

use crate::common::{run_dir, summary};

/// The proxy and TLS variables a child must not inherit from the machine running the tests.
pub const NET_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// A list-only load scenario against `url`; `extra` goes at the end of `target:`.
pub fn scenario(url: &str, extra: &str) -> String {
    format!(
        "name: tls\ntarget:\n  base_url: {url}\n  profile: adobe-hygiene\n  headers:\n    Authorization: Bearer t0ken-for-tls\n    x-api-key: key-for-tls\n{extra}checks: none\nphases:\n  - name: p\n    workload:\n      operations: 3\n      mix: {{list: 1}}\n"
    )
}

/// A TLS front on 127.0.0.1 for the plain server at `upstream`: the handshake with
/// `config`, then the bytes both ways. Counts the handshakes that succeeded.
pub struct Front {
    pub addr: std::net::SocketAddr,
    pub accepted: Arc<AtomicUsize>,
}

pub async fn front(upstream: std::net::SocketAddr, config: Arc<rustls::ServerConfig>) -> Front {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    Front { addr, accepted }
}

/// The bundled fake served on loopback, as a target reached by URL.
pub async fn fake() -> quotabench_fake::RunningFake {
    use quotabench_fake::{serve, Fake, FakeConfig, FaultSet};
    serve(
        Arc::new(Fake::new(FakeConfig::default(), FaultSet::default())),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap()
}

/// A certificate for 127.0.0.1 signed by nobody: (its PEM, a server config presenting
/// it). Made as `openssl req -x509` makes one — marked as a CA, presented as the
/// server's own — which WebPKI alone refuses even when trusted.
pub fn server_cert() -> (String, Arc<rustls::ServerConfig>) {
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], der)
    .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    (cert.pem(), Arc::new(cfg))
}

/// `quotabench ARGS` in `dir`, with no proxy or TLS variable from outside; `env` added.
pub fn qb(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::cargo_bin("quotabench").unwrap();
    c.current_dir(dir).args(args);
    for v in NET_VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

/// `qb` off the test's runtime threads (the servers run on them).
pub async fn qb_async(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        qb(&dir, &args, &env)
    })
    .await
    .unwrap()
}

pub fn text(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_is_refused_without_a_ca_and_given_by_ca_cert_ssl_cert_file_or_insecure() {
    let fake = fake().await;
    let (pem, cfg) = server_cert();
    let tls = front(fake.addr, cfg).await;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "ca.pem", &pem);
    let url = format!("https://127.0.0.1:{}", tls.addr.port());
    write(d.path(), "s.yaml", &scenario(&url, ""));

    // No trust: refused in the handshake, before any load, with the fix named.
    let o = qb_async(d.path(), &["run", "s.yaml", "--out", "no-trust"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--ca-cert") && err.contains("--insecure"),
        "{}",
        text(&o)
    );
    assert_eq!(
        tls.accepted.load(Ordering::SeqCst),
        0,
        "no handshake completed"
    );

    // --ca-cert: verified, and the reports say nothing of insecurity.
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "ca", "--ca-cert", "ca.pem"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = summary(&run_dir(&d.path().join("ca")));
    assert_eq!(s["target"]["insecure"], false, "{s}");
    assert_eq!(s["phases"][0]["operations"], 3, "{s}");

    // SSL_CERT_FILE replaces the platform's store, as for OpenSSL-based tools.
    let ca = d.path().join("ca.pem");
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "env"],
        &[("SSL_CERT_FILE", ca.to_str().unwrap())],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The scenario's ca_cert, relative to the scenario file, run from elsewhere.
    let sub = d.path().join("suite");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "ca.pem", &pem);
    write(&sub, "s.yaml", &scenario(&url, "  ca_cert: ca.pem\n"));
    let o = qb_async(d.path(), &["run", "suite/s.yaml", "--out", "field"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // --insecure: accepted unverified, and loud in every report.
    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "insecure", "--insecure"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("INSECURE"),
        "{}",
        text(&o)
    );
    let dir = run_dir(&d.path().join("insecure"));
    assert_eq!(summary(&dir)["target"]["insecure"], true);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        md.contains("> ⚠️ Insecure: TLS certificate verification was OFF"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Insecure: TLS certificate verification was OFF"));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains(r#"name="insecure" value="true""#), "{junit}");
}

/// A server config that demands a certificate signed by `client_ca`.
fn demanding(client_ca: &rcgen::Certificate) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(client_ca.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let server = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server.key_pair.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.cert.der().clone()], key)
        .unwrap();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_asking_for_a_client_certificate_takes_only_a_run_that_has_one() {
    let fake = fake().await;
    let client = rcgen::generate_simple_self_signed(vec!["quotabench-client".into()]).unwrap();
    let tls = front(fake.addr, demanding(&client.cert)).await;
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "client.pem", &client.cert.pem());
    write(d.path(), "client.key", &client.key_pair.serialize_pem());
    let url = format!("https://127.0.0.1:{}", tls.addr.port());
    write(d.path(), "s.yaml", &scenario(&url, ""));

    let o = qb_async(
        d.path(),
        &["run", "s.yaml", "--out", "without", "--insecure"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(tls.accepted.load(Ordering::SeqCst), 0, "{}", text(&o));

    let o = qb_async(
        d.path(),
        &[
            "run",
            "s.yaml",
            "--out",
            "with",
            "--insecure",
            "--client-cert",
            "client.pem",
            "--client-key",
            "client.key",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(tls.accepted.load(Ordering::SeqCst) >= 1);
}

#[test]
fn bad_tls_files_are_located_errors_before_any_load() {
    let d = tempfile::tempdir().unwrap();
    let a = rcgen::generate_simple_self_signed(vec!["a".into()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["b".into()]).unwrap();
    write(d.path(), "a.pem", &a.cert.pem());
    write(d.path(), "b.key", &b.key_pair.serialize_pem());
    write(d.path(), "junk.pem", "not a certificate\n");
    let base = scenario("https://127.0.0.1:9", "");
    for (extra, line, field, words) in [
        (
            "  ca_cert: missing.pem\n",
            8,
            "target.ca_cert",
            "missing.pem",
        ),
        (
            "  ca_cert: junk.pem\n",
            8,
            "target.ca_cert",
            "holds no PEM certificate",
        ),
        (
            "  client_cert: a.pem\n  client_key: b.key\n",
            9,
            "target.client_key",
            "does not fit",
        ),
        (
            "  proxy: socks5://127.0.0.1:1080\n",
            8,
            "target.proxy",
            "socks5",
        ),
    ] {
        let at = base.replace("checks: none\n", &format!("{extra}checks: none\n"));
        let path = write(d.path(), "bad.yaml", &at);
        let e = quotabench::run::prepare(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains(&format!("bad.yaml:{line}:")) && e.contains(field) && e.contains(words),
            "{extra:?}: {e}"
        );
    }
    // A flag is named as a flag, and nothing is run: no run folder.
    write(d.path(), "s.yaml", &base);
    let o = qb(
        d.path(),
        &["run", "s.yaml", "--out", "out", "--ca-cert", "junk.pem"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--ca-cert: ") && err.contains("junk.pem"),
        "{err}"
    );
    assert!(!d.path().join("out").exists());
}
