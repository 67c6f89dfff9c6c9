//! rustls and webpki errors in the user's terms: every error maps to a `TlsProblem` whose message
//! says what is wrong and what to do. No Debug text reaches the user.

use rustls::{AlertDescription, CertificateError, PeerIncompatible};

use super::Explained;
use super::TlsProblem;

/// Turns a rustls error into what the user can act on.
pub fn problem(e: &rustls::Error) -> TlsProblem {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => certificate(c),
        E::AlertReceived(alert) => match alert {
            AlertDescription::ProtocolVersion
            | AlertDescription::HandshakeFailure
            | AlertDescription::InsufficientSecurity => {
                TlsProblem::NoCommonParameters(format!("the server sent the alert {}", name(alert)))
            }
            other => TlsProblem::ServerAlert(name(other)),
        },
        E::PeerIncompatible(p) => TlsProblem::NoCommonParameters(incompatible(p).into()),
        // Bytes that are not TLS records: a plain-text server answering a ClientHello.
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => TlsProblem::NotTls,
        E::NoCertificatesPresented => {
            TlsProblem::BadCertificate("the server sent no certificate".into())
        }
        E::DecryptError | E::PeerMisbehaved(_) | E::InappropriateHandshakeMessage { .. } => {
            TlsProblem::Other(
                "the server broke the TLS protocol; its TLS software may be faulty".into(),
            )
        }
        other => TlsProblem::Other(other.to_string()),
    }
}

fn certificate(c: &CertificateError) -> TlsProblem {
    use CertificateError as C;
    match c {
        // A signature that does not check out against a trusted key with the issuer's name (a
        // different CA of the same name) means the same to the user as an unknown issuer.
        C::UnknownIssuer
        | C::BadSignature
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            TlsProblem::UnknownIssuer { issuer: None }
        }
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm => TlsProblem::WeakSignature,
        C::UnsupportedSignatureAlgorithmContext { .. } => TlsProblem::WeakSignature,
        C::NotValidForName => TlsProblem::NameMismatch(Vec::new()),
        C::NotValidForNameContext { presented, .. } => {
            TlsProblem::NameMismatch(presented.iter().map(|n| bare_name(n)).collect())
        }
        C::Expired | C::ExpiredContext { .. } => TlsProblem::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::NotYetValid,
        C::Revoked => TlsProblem::Revoked,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => TlsProblem::WrongPurpose,
        C::BadEncoding => TlsProblem::BadCertificate("it is not a well-formed certificate".into()),
        C::UnhandledCriticalExtension => TlsProblem::BadCertificate(
            "it has a critical extension this client does not understand".into(),
        ),
        C::Other(other) => {
            if let Some(Explained(p)) = other.0.downcast_ref::<Explained>() {
                return p.clone();
            }
            match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => TlsProblem::CaUsedAsEndEntity,
                Some(webpki::Error::EndEntityUsedAsCa) => TlsProblem::BadCertificate(
                    "a server certificate was used to sign another certificate".into(),
                ),
                Some(webpki::Error::UnsupportedCertVersion) => TlsProblem::BadCertificate(
                    "it is an old version 1 or 2 certificate; TLS needs version 3".into(),
                ),
                Some(webpki::Error::CertDistrusted) => {
                    TlsProblem::BadCertificate("its CA is no longer trusted".into())
                }
                _ => TlsProblem::BadCertificate(
                    "it does not meet the rules for TLS server certificates".into(),
                ),
            }
        }
        _ => TlsProblem::BadCertificate(
            "it does not meet the rules for TLS server certificates".into(),
        ),
    }
}

fn incompatible(p: &PeerIncompatible) -> &'static str {
    match p {
        PeerIncompatible::ServerDoesNotSupportTls12Or13
        | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
        | PeerIncompatible::Tls12NotOffered
        | PeerIncompatible::Tls12NotOfferedOrEnabled => "the server offers no TLS 1.2 or 1.3",
        PeerIncompatible::NoCipherSuitesInCommon => "no cipher suite in common",
        PeerIncompatible::NoKxGroupsInCommon => "no key exchange group in common",
        PeerIncompatible::NoSignatureSchemesInCommon => "no signature scheme in common",
        _ => "the server's TLS setup is not compatible",
    }
}

/// `InternalError` -> `internal_error`, the alert's name in RFC 8446.
fn name(alert: &AlertDescription) -> String {
    let debug = format!("{alert:?}");
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    out
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
    use std::sync::Arc;

    #[test]
    fn certificate_names_without_their_wrapper() {
        assert_eq!(
            bare_name("DnsName(\"wrong.example.test\")"),
            "wrong.example.test"
        );
        assert_eq!(bare_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(bare_name("plain.example"), "plain.example");
    }

    #[test]
    fn alerts_by_their_rfc_names() {
        assert_eq!(name(&AlertDescription::InternalError), "internal_error");
        assert_eq!(
            problem(&rustls::Error::AlertReceived(
                AlertDescription::InternalError
            )),
            TlsProblem::ServerAlert("internal_error".into())
        );
        assert!(matches!(
            problem(&rustls::Error::AlertReceived(
                AlertDescription::ProtocolVersion
            )),
            TlsProblem::NoCommonParameters(_)
        ));
    }

    #[test]
    fn a_ca_certificate_as_server_certificate() {
        let e = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(webpki::Error::CaUsedAsEndEntity),
        )));
        assert_eq!(problem(&e), TlsProblem::CaUsedAsEndEntity);
    }

    #[test]
    fn no_debug_text_for_unusual_webpki_errors() {
        let e = rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(webpki::Error::MaximumPathDepthExceeded),
        )));
        let TlsProblem::BadCertificate(text) = problem(&e) else {
            panic!("{:?}", problem(&e));
        };
        assert!(!text.contains("Maximum"), "{text}");
    }
}
