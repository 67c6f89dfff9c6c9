//! TLS client configuration: the system trust store plus `smtp.cafile`, TLS 1.2 or newer, and a
//! verifier that says why a certificate was refused in terms the user can act on.

mod cert;
mod problem;
mod words;

pub use problem::{problem, rustls_error};
pub use words::{TlsProblem, Words};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore};

/// Loading the system trust store reads and parses a few hundred certificates: do it once per
/// process (per cafile), not per connection. A `ClientConfig` holds no sockets or threads, so
/// sharing it across a fork is fine.
type ConfigKey = (Option<PathBuf>, bool);

static CONFIGS: Lazy<Mutex<HashMap<ConfigKey, Arc<ClientConfig>>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

/// The client configuration for `cafile` (plus the system store); `Err` says what is wrong
/// with the file or the setup (a configuration problem for the caller to report).
pub fn client_config(
    cafile: Option<&Path>,
    verify_peer: bool,
) -> Result<Arc<ClientConfig>, String> {
    let key = (cafile.map(Path::to_path_buf), verify_peer);
    if let Some(c) = CONFIGS.lock().get(&key) {
        return Ok(c.clone());
    }
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = cafile {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<std::result::Result<_, _>>())
            .map_err(|e| {
                format!(
                    "cafile \"{}\" cannot be read as PEM certificates: {e}",
                    path.display()
                )
            })?;
        if certs.is_empty() {
            return Err(format!(
                "cafile \"{}\" holds no PEM certificate",
                path.display()
            ));
        }
        let (_, bad) = roots.add_parsable_certificates(certs);
        if bad > 0 {
            return Err(format!(
                "cafile \"{}\": {bad} certificate(s) could not be used as trust anchors",
                path.display()
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // TLS 1.2 is the floor; rustls supports nothing older.
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let config = if verify_peer {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("TLS setup failed: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Explaining(inner)))
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    };
    let config = Arc::new(config);
    CONFIGS.lock().insert(key, config.clone());
    Ok(config)
}

/// `smtp.verify_peer=0`: any certificate is accepted (the handshake signatures are still
/// checked, so the connection is encrypted, but not authenticated).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
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
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// webpki's verifier, with the reason for an unknown issuer worked out while the certificates
/// are at hand: self-signed, an intermediate missing, or just an unknown CA.
#[derive(Debug)]
struct Explaining(Arc<WebPkiServerVerifier>);

/// A refusal already put in the user's terms, carried inside rustls' error.
#[derive(Debug)]
pub(crate) struct Explained(pub TlsProblem);

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Explained {}

impl ServerCertVerifier for Explaining {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                // A signature that does not check out against a trusted key with the issuer's
                // name is an unknown issuer too: a different CA of the same name (Debian's
                // ssl-cert-snakeoil is a trusted "CN=localhost" in /etc/ssl/certs).
                rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                    | CertificateError::BadSignature
                    | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
                ) => {
                    let problem = match intermediates.last() {
                        Some(top) => TlsProblem::UnknownIssuer {
                            issuer: cert::issuer_name(top),
                        },
                        None if cert::is_self_signed(end_entity) => TlsProblem::SelfSigned,
                        None => TlsProblem::MissingIntermediate {
                            issuer: cert::issuer_name(end_entity),
                        },
                    };
                    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(
                        Arc::new(Explained(problem)),
                    )))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
