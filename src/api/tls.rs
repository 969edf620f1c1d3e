//! What an `https://` target is trusted with: the platform's roots (honouring
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` as OpenSSL-based tools do), a CA bundle, a client
//! certificate and key (mTLS), or no verification at all (`--insecure`). Every file is
//! read and checked here, once, before anything is sent: a missing file, a file with no
//! PEM in it or a key that does not match its certificate is an error naming the file
//! and the fix, never a run of failed handshakes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// A PEM file larger than this is not a certificate bundle (the Mozilla bundle is ~220 KiB).
const MAX_PEM: u64 = 16 << 20;

/// The TLS settings of a run (the command line's over the scenario's `target:` block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// A PEM bundle of CA certificates trusted besides the platform's roots.
    pub ca_cert: Option<PathBuf>,
    /// The client certificate (PEM, leaf first) presented when the server asks (mTLS).
    pub client_cert: Option<PathBuf>,
    /// The private key of `client_cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    pub client_key: Option<PathBuf>,
    /// No certificate verification at all (loud in every report).
    pub insecure: bool,
}

/// Which setting a problem is in, so the caller can say where it was given
/// (`target.ca_cert` in the scenario, or `--ca-cert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `ca_cert` / `--ca-cert`.
    CaCert,
    /// `client_cert` / `--client-cert`.
    ClientCert,
    /// `client_key` / `--client-key`.
    ClientKey,
}

/// A problem with one TLS setting: which, and what is wrong (naming the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn err(setting: Setting, message: String) -> TlsError {
    TlsError { setting, message }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_pem(path: &Path, setting: Setting) -> Result<Vec<u8>, TlsError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| err(setting, format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(err(
            setting,
            format!("{} is not a regular file", path.display()),
        ));
    }
    if meta.len() > MAX_PEM {
        return Err(err(
            setting,
            format!("{} is over 16 MiB: not a PEM file", path.display()),
        ));
    }
    std::fs::read(path).map_err(|e| err(setting, format!("cannot read {}: {e}", path.display())))
}

/// The certificates of a PEM file (a CA bundle, or a client certificate chain).
pub fn read_certs(path: &Path, setting: Setting) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path, setting)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            err(
                setting,
                format!("{}: not a valid PEM certificate file ({e})", path.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(err(
            setting,
            format!(
                "{} holds no PEM certificate (expected `-----BEGIN CERTIFICATE-----` blocks; convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`)",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem(path, Setting::ClientKey)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        err(
            Setting::ClientKey,
            format!(
                "{} holds no PEM private key (expected a `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block; {e})",
                path.display()
            ),
        )
    })
}

/// The rustls client configuration these settings describe: every file read and
/// checked, the client key matched against its certificate.
pub fn client_config(s: &TlsSettings) -> Result<ClientConfig, TlsError> {
    client_config_with(s, Vec::new())
}

/// [`client_config`], trusting `extra` roots too (a test's self-signed certificate).
pub fn client_config_with(
    s: &TlsSettings,
    mut extra: Vec<CertificateDer<'static>>,
) -> Result<ClientConfig, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(Setting::CaCert, format!("TLS protocol versions: {e}")))?;
    // The CA bundle is read (and refused if bad) even with --insecure: bad input is an
    // error whatever else is set.
    if let Some(p) = &s.ca_cert {
        extra.extend(read_certs(p, Setting::CaCert)?);
    }
    let builder = if s.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
    } else {
        let (mut roots, platform) = platform_roots();
        for c in &extra {
            roots.add(c.clone()).map_err(|e| {
                err(
                    Setting::CaCert,
                    format!(
                        "{}: a certificate cannot be used as a trust anchor ({e})",
                        s.ca_cert.as_deref().unwrap_or(Path::new("")).display()
                    ),
                )
            })?;
        }
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .map_err(|e| err(Setting::CaCert, format!("the trusted roots: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(TrustedOrPinned {
                webpki,
                pinned: extra.into_iter().chain(platform).collect(),
            }))
    };
    let mut config = match (&s.client_cert, &s.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(err(
            Setting::ClientCert,
            "a client certificate needs its private key: give client_key (--client-key FILE) too"
                .into(),
        )),
        (None, Some(_)) => {
            return Err(err(
                Setting::ClientKey,
                "a client key needs its certificate: give client_cert (--client-cert FILE) too"
                    .into(),
            ))
        }
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, Setting::ClientCert)?;
            let k = read_key(key)?;
            builder.with_client_auth_cert(chain, k).map_err(|e| {
                err(
                    Setting::ClientKey,
                    format!(
                        "{} does not fit {} ({e}): give the key the certificate was issued for",
                        key.display(),
                        cert.display()
                    ),
                )
            })?
        }
    };
    // As reqwest offers by default (its `http2` feature is on): HTTP/2, else HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's trusted roots: `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, else the
/// system store (rustls-native-certs reads both). A machine with none at all (a
/// scratch container without ca-certificates) falls back to the Mozilla roots compiled
/// into the binary, as before this setting existed, rather than trusting nothing.
/// Also returns the store's certificates as found, for [`TrustedOrPinned`].
fn platform_roots() -> (RootCertStore, Vec<CertificateDer<'static>>) {
    let mut roots = RootCertStore::empty();
    // Certificates the store holds but rustls cannot parse are skipped, as browsers do.
    let found = rustls_native_certs::load_native_certs().certs;
    let _ = roots.add_parsable_certificates(found.iter().cloned());
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    (roots, found)
}

/// The platform's roots and the CA bundle, verified as browsers do; and, as OpenSSL
/// does, a certificate of the bundle presented as the server's own certificate — the
/// self-signed certificate `openssl req -x509` makes is marked as a CA, which WebPKI
/// refuses as a server's certificate even when it is trusted. Such a pinned
/// certificate must still name the host.
#[derive(Debug)]
struct TrustedOrPinned {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for TrustedOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Ok(v) => Ok(v),
            Err(e)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)
                    .map_err(|_| e.clone())?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `--insecure`: any certificate for any name is accepted. The handshake signatures are
/// still checked, so the connection is encrypted to whoever answered — just not proven
/// to be the target.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn pair() -> (String, String) {
        let ck = rcgen::generate_simple_self_signed(vec!["client".into()]).unwrap();
        (ck.cert.pem(), ck.key_pair.serialize_pem())
    }

    #[test]
    fn good_files_build_a_config_and_bad_ones_name_the_file_and_setting() {
        let d = tempfile::tempdir().unwrap();
        let (cert, key) = pair();
        let (_, other_key) = pair();
        let ca = write(d.path(), "ca.pem", &cert);
        let c = write(d.path(), "c.pem", &cert);
        let k = write(d.path(), "k.pem", &key);
        let wrong = write(d.path(), "wrong.pem", &other_key);
        let junk = write(d.path(), "junk.pem", "hello, not PEM\n");
        // Which files a case gives: CA bundle, client certificate, client key.
        let given =
            |ca: Option<&PathBuf>, cert: Option<&PathBuf>, key: Option<&PathBuf>| TlsSettings {
                ca_cert: ca.cloned(),
                client_cert: cert.cloned(),
                client_key: key.cloned(),
                insecure: false,
            };
        assert!(client_config(&given(Some(&ca), Some(&c), Some(&k))).is_ok());

        let missing = d.path().join("missing.pem");
        let cases = [
            (
                given(Some(&missing), None, None),
                Setting::CaCert,
                "missing.pem",
            ),
            (
                given(Some(&junk), None, None),
                Setting::CaCert,
                "holds no PEM certificate",
            ),
            (
                given(None, Some(&c), Some(&junk)),
                Setting::ClientKey,
                "holds no PEM private key",
            ),
            (
                given(None, Some(&c), Some(&wrong)),
                Setting::ClientKey,
                "does not fit",
            ),
            (
                given(None, Some(&c), None),
                Setting::ClientCert,
                "needs its private key",
            ),
            (
                given(None, None, Some(&k)),
                Setting::ClientKey,
                "needs its certificate",
            ),
            // --insecure does not excuse a bad bundle.
            (
                TlsSettings {
                    insecure: true,
                    ..given(Some(&junk), None, None)
                },
                Setting::CaCert,
                "junk.pem",
            ),
        ];
        for (s, setting, words) in cases {
            let e = client_config(&s).expect_err(&format!("{s:?}"));
            assert_eq!(e.setting, setting, "{s:?}: {e:?}");
            assert!(e.message.contains(words), "{s:?}: {}", e.message);
        }
    }

    #[test]
    fn the_platform_roots_are_never_empty() {
        assert!(!platform_roots().0.is_empty());
    }
}
