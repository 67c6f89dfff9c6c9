//! TLS problems in the user's words: what is wrong with the certificate or the handshake, and
//! the fix. `host` names the peer ("mail.example.org", "the token endpoint login.example").

use std::fmt;

/// What exactly was wrong with TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsProblem {
    /// Issued by a CA we do not trust; `issuer` is its name when the certificate says it.
    UnknownIssuer {
        issuer: Option<String>,
    },
    /// The server sent one certificate, not self-signed, from an issuer we do not know: most
    /// often a missing intermediate certificate.
    MissingIntermediate {
        issuer: Option<String>,
    },
    /// A certificate that signed itself.
    SelfSigned,
    /// The server's certificate says CA:TRUE (what `openssl req -x509` makes by default), so it
    /// cannot identify a server.
    CaUsedAsEndEntity,
    /// The certificate is not valid for the host name we connected to; the names it holds.
    NameMismatch(Vec<String>),
    Expired,
    NotYetValid,
    Revoked,
    /// Signed with an algorithm we refuse (SHA-1, MD5, small keys).
    WeakSignature,
    /// Not made for TLS servers (extended key usage).
    WrongPurpose,
    /// The certificate cannot be parsed or its signature is wrong.
    BadCertificate(String),
    /// The server offered no STARTTLS, but TLS is required.
    NotOffered,
    /// The server answered the TLS handshake with something that is not TLS (a plain-text SMTP
    /// port, reached with ssl://).
    NotTls,
    /// No protocol version or cipher suite in common.
    NoCommonParameters(String),
    /// The server itself aborted the handshake with this alert (e.g. internal_error).
    ServerAlert(String),
    Other(String),
}

impl TlsProblem {
    /// The problem in words, for the peer `host`.
    pub fn words<'a>(&'a self, host: &'a str) -> Words<'a> {
        Words {
            host,
            problem: self,
        }
    }
}

pub struct Words<'a> {
    host: &'a str,
    problem: &'a TlsProblem,
}

impl fmt::Display for Words<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tls(f, self.host, self.problem)
    }
}

fn tls(f: &mut fmt::Formatter<'_>, host: &str, problem: &TlsProblem) -> fmt::Result {
    let issuer = |i: &Option<String>| match i {
        Some(name) => format!("\"{name}\""),
        None => "a certificate authority".into(),
    };
    match problem {
        TlsProblem::UnknownIssuer { issuer: i } => write!(
            f,
            "the TLS certificate of {host} is not trusted: it was issued by {}, which this machine \
             does not trust. If the server uses a private CA, set smtp.cafile in php.ini to that \
             CA's certificate (PEM); otherwise the server needs a certificate from a public CA",
            issuer(i)
        ),
        TlsProblem::MissingIntermediate { issuer: i } => write!(
            f,
            "the TLS certificate of {host} is not trusted: the server sent only its own \
             certificate, issued by {}, and no intermediate certificate. If that issuer belongs to \
             a public CA, the server sent no intermediate certificate: ask its admin to send the \
             full chain (e.g. fullchain.pem, not cert.pem). If it is a private CA, set smtp.cafile \
             in php.ini to that CA's certificate",
            issuer(i)
        ),
        TlsProblem::SelfSigned => write!(
            f,
            "the TLS certificate of {host} is self-signed, so nothing vouches for it. Save that \
             certificate (PEM) on this machine and set smtp.cafile in php.ini to it, or give the \
             server a certificate from a CA"
        ),
        TlsProblem::CaUsedAsEndEntity => write!(
            f,
            "the TLS certificate of {host} is a CA certificate (basicConstraints CA:TRUE, which \
             `openssl req -x509` sets by default), and a CA certificate cannot identify a server, \
             not even when trusted through smtp.cafile. Give the server a certificate signed by a \
             CA, or a self-signed one made with `-addext basicConstraints=critical,CA:FALSE`, and \
             trust that with smtp.cafile"
        ),
        TlsProblem::NameMismatch(names) => {
            write!(
                f,
                "the TLS certificate of {host} is not valid for the name \"{host}\""
            )?;
            if names.is_empty() {
                write!(
                    f,
                    ". Use the host name the certificate was issued for in smtp.host"
                )
            } else {
                write!(
                    f,
                    "; it is valid for: {}. Set smtp.host to one of these names",
                    names.join(", ")
                )
            }
        }
        TlsProblem::Expired => write!(
            f,
            "the TLS certificate of {host} has expired. The server's administrator must renew it \
             (also check that this machine's clock is right)"
        ),
        TlsProblem::NotYetValid => write!(
            f,
            "the TLS certificate of {host} is not valid yet. Check this machine's clock"
        ),
        TlsProblem::Revoked => write!(
            f,
            "the TLS certificate of {host} has been revoked by its CA. The server's administrator \
             must install a new one"
        ),
        TlsProblem::WeakSignature => write!(
            f,
            "the TLS certificate of {host} (or its chain) is signed with an algorithm this client \
             does not accept (such as SHA-1 or MD5, or too small a key). The server needs a \
             certificate with a current signature algorithm"
        ),
        TlsProblem::WrongPurpose => write!(
            f,
            "the TLS certificate of {host} is not made for TLS servers (its extended key usage \
             lacks serverAuth). The server needs a server certificate"
        ),
        TlsProblem::BadCertificate(detail) => write!(
            f,
            "the TLS certificate of {host} cannot be used ({detail}). The server's administrator \
             must fix or replace it"
        ),
        TlsProblem::NotOffered => write!(
            f,
            "{host} does not offer STARTTLS, so the connection cannot be encrypted; nothing was \
             sent (TLS is required by smtp.starttls=required, and always before a password goes \
             out). Use the port where the server offers TLS (587 with STARTTLS, or 465 with the \
             ssl:// host prefix)"
        ),
        TlsProblem::NotTls => write!(
            f,
            "{host} did not answer the TLS handshake with TLS: this port speaks plain text. \
             Remove the ssl:// (or tls://) host prefix to use STARTTLS, usually on port 587"
        ),
        TlsProblem::NoCommonParameters(detail) => write!(
            f,
            "{host} and this client have no TLS version or cipher in common ({detail}): the \
             server may offer only TLS 1.0/1.1 or old ciphers, and this client needs TLS 1.2 or \
             newer. The server's TLS setup needs updating"
        ),
        TlsProblem::ServerAlert(alert) => write!(
            f,
            "{host} aborted the TLS handshake itself (alert: {alert}): the problem is on the \
             server's side (its certificate or key may be missing or unreadable, or its TLS setup \
             broken). Check the server's log or ask its administrator"
        ),
        TlsProblem::Other(detail) => write!(f, "TLS with {host} failed: {detail}"),
    }
}
