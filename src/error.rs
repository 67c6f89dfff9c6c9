//! The one error type of the extension: what failed, the server's own reply when there was one,
//! and what the user can do about it. The PHP glue turns it into a warning (`mail()`) or an
//! `SmtpException` (`smtp_send()`); nothing else formats errors for users.

use std::fmt;
use std::time::Duration;

/// A reply from the server: its code, the enhanced status code (RFC 3463) when it gave one, and
/// its text with the lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub enhanced: Option<String>,
    pub text: String,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.text.is_empty() {
            write!(f, " {}", self.text)?;
        }
        Ok(())
    }
}

/// Where in the conversation something went wrong. Used for messages and to decide whether a
/// failed send may be retried without risking a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Greeting,
    Ehlo,
    StartTls,
    TlsHandshake,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    /// Sending the message and waiting for the reply to the final ".".
    Message,
    Reset,
}

impl Stage {
    fn waiting_for(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Greeting => "waiting for the server's greeting",
            Stage::Ehlo => "waiting for the reply to EHLO",
            Stage::StartTls => "waiting for the reply to STARTTLS",
            Stage::TlsHandshake => "during the TLS handshake",
            Stage::Auth => "during authentication",
            Stage::MailFrom => "waiting for the reply to MAIL FROM",
            Stage::RcptTo => "waiting for the reply to RCPT TO",
            Stage::Data => "waiting for the reply to DATA",
            Stage::Message => "sending the message or waiting for the server to accept it",
            Stage::Reset => "resetting the connection (RSET)",
        }
    }
}

/// What exactly was wrong with the server's TLS certificate or handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsProblem {
    UnknownIssuer,
    /// The certificate is not valid for the host name we connected to; the names it holds.
    NameMismatch(Vec<String>),
    Expired,
    NotYetValid,
    /// The server offered no STARTTLS, but TLS is required (authentication would otherwise go
    /// out in clear text).
    NotOffered,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A setting or a per-call option is invalid.
    Config(String),
    /// The message cannot be built: a bad address, header, or no sender.
    Message(String),
    Resolve {
        host: String,
        detail: String,
    },
    Refused {
        host: String,
        port: u16,
    },
    Connect {
        host: String,
        port: u16,
        detail: String,
    },
    Timeout {
        host: String,
        port: u16,
        stage: Stage,
        after: Duration,
    },
    Closed {
        host: String,
        stage: Stage,
    },
    Io {
        host: String,
        stage: Stage,
        detail: String,
    },
    Tls {
        host: String,
        problem: TlsProblem,
    },
    /// We would have to send credentials over an unencrypted connection to a remote server.
    InsecureAuth {
        host: String,
    },
    /// Authentication was asked for but the server offers no mechanism we can use.
    AuthUnavailable {
        host: String,
        offered: String,
    },
    /// The server answered with a failure (4xx/5xx) or an unexpected code.
    Rejected {
        stage: Stage,
        /// The address concerned (sender for MAIL FROM, recipient for RCPT TO).
        subject: Option<String>,
        reply: Reply,
    },
    /// The server's reply could not be understood.
    Protocol {
        stage: Stage,
        detail: String,
    },
}

impl Error {
    /// The SMTP reply code behind this error, 0 when the server said nothing (the code of
    /// `SmtpException`).
    pub fn smtp_code(&self) -> u16 {
        match self {
            Error::Rejected { reply, .. } => reply.code,
            _ => 0,
        }
    }

    /// The server's reply, when the failure was the server's answer.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Error::Rejected { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The stage of the conversation the error happened at, when it happened on a connection.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Error::Timeout { stage, .. }
            | Error::Closed { stage, .. }
            | Error::Io { stage, .. }
            | Error::Rejected { stage, .. }
            | Error::Protocol { stage, .. } => Some(*stage),
            Error::Tls { .. } => Some(Stage::TlsHandshake),
            Error::Refused { .. } | Error::Connect { .. } | Error::Resolve { .. } => {
                Some(Stage::Connect)
            }
            _ => None,
        }
    }

    /// True when the failure says the connection itself is no longer usable (as opposed to a
    /// refusal of this one transaction on a healthy connection).
    pub fn connection_broken(&self) -> bool {
        match self {
            Error::Rejected { reply, .. } => reply.code == 421,
            Error::Config(_) | Error::Message(_) => false,
            _ => true,
        }
    }
}

fn server_said(reply: &Reply) -> String {
    format!("the server said: \"{reply}\"")
}

const PORT_HINT: &str = "Check smtp.host and smtp.port: submission is usually port 587 \
(STARTTLS) or 465 (implicit TLS, host prefix ssl://); port 25 is often blocked by hosting providers";

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(msg) => write!(f, "invalid setting: {msg}"),
            Error::Message(msg) => write!(f, "{msg}"),
            Error::Resolve { host, detail } => write!(
                f,
                "cannot resolve the SMTP host name \"{host}\" ({detail}). Check smtp.host for typos \
                 and that this machine's DNS works"
            ),
            Error::Refused { host, port } => write!(
                f,
                "connection to {host}:{port} refused: no SMTP server is listening there. {PORT_HINT}"
            ),
            Error::Connect { host, port, detail } => write!(
                f,
                "cannot connect to {host}:{port} ({detail}). {PORT_HINT}, and that a firewall \
                 allows outgoing connections to it"
            ),
            Error::Timeout {
                host,
                port,
                stage,
                after,
            } => {
                let secs = after.as_secs_f64();
                match stage {
                    Stage::Connect | Stage::Greeting | Stage::TlsHandshake => write!(
                        f,
                        "no answer from {host}:{port} within {secs} s ({}). Wrong port? Try 587 \
                         (STARTTLS) or 465 (with the ssl:// host prefix); a port that expects TLS \
                         stays silent to a plain client, and a firewall may drop the connection. \
                         smtp.timeout sets how long to wait",
                        stage.waiting_for()
                    ),
                    _ => write!(
                        f,
                        "the SMTP server {host}:{port} stopped answering ({}, no reply within \
                         {secs} s); the message was not sent. Try again later, or raise \
                         smtp.timeout if the server is just slow",
                        stage.waiting_for()
                    ),
                }
            }
            Error::Closed { host, stage } => write!(
                f,
                "the SMTP server {host} closed the connection ({}); the message was not sent. The \
                 server may be overloaded or limit connections; try again later, and check its log",
                stage.waiting_for()
            ),
            Error::Io {
                host,
                stage,
                detail,
            } => write!(
                f,
                "network error talking to {host} ({}): {detail}; the message was not sent",
                stage.waiting_for()
            ),
            Error::Tls { host, problem } => match problem {
                TlsProblem::UnknownIssuer => write!(
                    f,
                    "the TLS certificate of {host} is not trusted: it is self-signed or issued by \
                     an unknown certificate authority. If the server uses a private CA, set \
                     smtp.cafile to that CA's certificate (PEM); otherwise install a certificate \
                     from a public CA on the server"
                ),
                TlsProblem::NameMismatch(names) => {
                    write!(f, "the TLS certificate of {host} is not valid for the name \"{host}\"")?;
                    if names.is_empty() {
                        write!(f, ". Use the host name the certificate was issued for in smtp.host")
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
                    "the TLS certificate of {host} has expired. The server's administrator must \
                     renew it (also check that this machine's clock is right)"
                ),
                TlsProblem::NotYetValid => write!(
                    f,
                    "the TLS certificate of {host} is not valid yet. Check this machine's clock"
                ),
                TlsProblem::NotOffered => write!(
                    f,
                    "{host} does not offer STARTTLS, so the connection cannot be encrypted; \
                     nothing was sent (TLS is required by smtp.starttls=required, and always \
                     before a password goes out). Use the port where the server offers TLS (587 \
                     with STARTTLS, or 465 with the ssl:// host prefix)"
                ),
                TlsProblem::Other(detail) => write!(
                    f,
                    "TLS handshake with {host} failed: {detail}. If the port expects implicit TLS \
                     use the ssl:// host prefix (usually port 465); for STARTTLS use a plain host \
                     name (usually port 587)"
                ),
            },
            Error::InsecureAuth { host } => write!(
                f,
                "refusing to send the SMTP password to {host} over an unencrypted connection. Use \
                 a port with TLS (587 with STARTTLS, or 465 with the ssl:// host prefix)"
            ),
            Error::AuthUnavailable { host, offered } => {
                if offered.is_empty() {
                    write!(
                        f,
                        "smtp.auth is on, but {host} offers no authentication on this connection. \
                         Check smtp.port (submission is usually 587 or 465), or turn smtp.auth off \
                         if the server does not need a login"
                    )
                } else if offered.to_ascii_uppercase().contains("XOAUTH2") {
                    write!(
                        f,
                        "{host} offers no password login that smtp.auth=1 may use (it offers: \
                         {offered}). XOAUTH2 takes an OAuth access token instead of a password: \
                         set smtp.auth=XOAUTH2 and the token as smtp.password"
                    )
                } else {
                    write!(
                        f,
                        "{host} offers no authentication method this extension supports (it \
                         offers: {offered}; supported: PLAIN, LOGIN, XOAUTH2)"
                    )
                }
            }
            Error::Rejected {
                stage,
                subject,
                reply,
            } => {
                let said = server_said(reply);
                let temporary = if reply.is_transient() {
                    " This is a temporary failure: try again later."
                } else {
                    ""
                };
                match stage {
                    Stage::Greeting => write!(
                        f,
                        "the SMTP server refused the connection; {said}.{temporary}"
                    ),
                    Stage::Ehlo => write!(
                        f,
                        "the SMTP server refused our greeting (EHLO/HELO); {said}. Check \
                         smtp.localhost: some servers want a fully qualified host name"
                    ),
                    Stage::StartTls => write!(
                        f,
                        "the SMTP server refused to start TLS (STARTTLS); {said}. Try the port for \
                         implicit TLS (465 with the ssl:// host prefix)"
                    ),
                    Stage::Auth => write!(
                        f,
                        "authentication failed; {said}. Check smtp.username and smtp.password \
                         (many providers require an app password or an API key instead of the \
                         account password)"
                    ),
                    Stage::MailFrom => write!(
                        f,
                        "the server refused the sender <{}>; {said}. Use the address of the SMTP \
                         account as the From address (in MediaWiki: $wgPasswordSender), or ask \
                         the provider to allow this sender.{temporary}",
                        subject.as_deref().unwrap_or("")
                    ),
                    Stage::RcptTo => write!(
                        f,
                        "the server refused the recipient <{}>; {said}. Check the address; no \
                         message was sent to any recipient.{temporary}",
                        subject.as_deref().unwrap_or("")
                    ),
                    Stage::Data | Stage::Message => write!(
                        f,
                        "the server did not accept the message; {said}.{temporary}"
                    ),
                    Stage::Reset | Stage::Connect | Stage::TlsHandshake => {
                        write!(f, "the SMTP server failed ({}); {said}", stage.waiting_for())
                    }
                }
            }
            Error::Protocol { stage, detail } => write!(
                f,
                "the SMTP server sent a reply that is not valid SMTP ({}): {detail}. Is this \
                 really an SMTP port? If it expects implicit TLS, use the ssl:// host prefix",
                stage.waiting_for()
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(stage: Stage, code: u16, text: &str) -> Error {
        Error::Rejected {
            stage,
            subject: Some("wiki@example.org".into()),
            reply: Reply {
                code,
                enhanced: None,
                text: text.into(),
            },
        }
    }

    #[test]
    fn refused_sender_names_the_cause_the_reply_and_the_fix() {
        let e = rejected(
            Stage::MailFrom,
            550,
            "5.7.1 you are not authorized to use this sender",
        );
        let msg = e.to_string();
        assert!(
            msg.contains("refused the sender <wiki@example.org>"),
            "{msg}"
        );
        assert!(
            msg.contains("\"550 5.7.1 you are not authorized to use this sender\""),
            "{msg}"
        );
        assert!(msg.contains("$wgPasswordSender"), "{msg}");
        assert_eq!(e.smtp_code(), 550);
        assert!(!e.connection_broken());
    }

    #[test]
    fn transient_replies_say_try_again() {
        let msg = rejected(Stage::Message, 451, "4.3.0 busy").to_string();
        assert!(msg.contains("temporary failure"), "{msg}");
    }

    #[test]
    fn timeout_at_connect_suggests_other_ports() {
        let e = Error::Timeout {
            host: "mail.example.org".into(),
            port: 25,
            stage: Stage::Greeting,
            after: Duration::from_secs(2),
        };
        let msg = e.to_string();
        assert!(msg.contains("within 2 s"), "{msg}");
        assert!(msg.contains("587") && msg.contains("465"), "{msg}");
        assert_eq!(e.smtp_code(), 0);
    }

    #[test]
    fn name_mismatch_lists_the_certificate_names() {
        let e = Error::Tls {
            host: "127.0.0.1".into(),
            problem: TlsProblem::NameMismatch(vec!["wrong.example.test".into()]),
        };
        assert!(e.to_string().contains("valid for: wrong.example.test"));
    }
}
