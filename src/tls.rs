//! TLS client configuration (system trust store plus `smtp.cafile`) and the mapping of TLS
//! failures to plain-words problems.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::error::{Error, Result, TlsProblem};

/// Loading the system trust store reads and parses a few hundred certificates: do it once per
/// process (per cafile), not per connection. A `ClientConfig` holds no sockets or threads, so
/// sharing it across a fork is fine.
type ConfigKey = (Option<PathBuf>, bool);

static CONFIGS: Lazy<Mutex<HashMap<ConfigKey, Arc<ClientConfig>>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

pub fn client_config(cafile: Option<&Path>, verify_peer: bool) -> Result<Arc<ClientConfig>> {
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
                Error::Config(format!(
                    "cafile \"{}\" cannot be read as PEM certificates: {e}",
                    path.display()
                ))
            })?;
        if certs.is_empty() {
            return Err(Error::Config(format!(
                "cafile \"{}\" holds no PEM certificate",
                path.display()
            )));
        }
        let (_, bad) = roots.add_parsable_certificates(certs);
        if bad > 0 {
            return Err(Error::Config(format!(
                "cafile \"{}\": {bad} certificate(s) could not be used as trust anchors",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // TLS 1.2 is the floor; rustls supports nothing older.
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))?;
    let config = if verify_peer {
        builder.with_root_certificates(roots).with_no_client_auth()
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

/// Turns a rustls error into what the user can act on.
pub fn problem(e: &rustls::Error) -> TlsProblem {
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            // A signature that does not check out against any trusted key (including a key of
            // another type with the same issuer name) means the same to the user: not trusted.
            CertificateError::UnknownIssuer
            | CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                TlsProblem::UnknownIssuer
            }
            #[allow(deprecated)]
            CertificateError::UnsupportedSignatureAlgorithm => TlsProblem::UnknownIssuer,
            CertificateError::NotValidForName => TlsProblem::NameMismatch(Vec::new()),
            CertificateError::NotValidForNameContext { presented, .. } => {
                TlsProblem::NameMismatch(presented.iter().map(|n| bare_name(n)).collect())
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsProblem::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsProblem::NotYetValid
            }
            other => TlsProblem::Other(format!("invalid certificate: {other:?}")),
        },
        other => TlsProblem::Other(other.to_string()),
    }
}

/// rustls reports the certificate's names as `DnsName("mail.example.org")` or
/// `IpAddress(127.0.0.1)`; users want just the name.
fn bare_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_string()
}

/// The rustls error inside an I/O error, if the I/O error came from TLS.
pub fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_without_their_wrapper() {
        assert_eq!(
            bare_name("DnsName(\"wrong.example.test\")"),
            "wrong.example.test"
        );
        assert_eq!(bare_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(bare_name("plain.example"), "plain.example");
    }
}
