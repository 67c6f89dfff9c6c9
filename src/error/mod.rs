//! The one error type of the extension: what failed, the server's own reply when there was one,
//! what became of the message, and what the user can do about it. The PHP glue turns it into a
//! warning (`mail()`) or an exception (`smtp_send()`); nothing else formats errors for users.
//!
//! Three outcomes are never confused: an error is either "not sent" (refused, or the connection
//! failed before the server could have accepted the message), `Unknown` (the whole message was
//! written and no final reply came: it may have been delivered) or `Partial` (some recipients
//! got it in an earlier transaction, the rest did not).

mod about;
mod text;

use std::time::Duration;

pub use about::{about, quota, About, Quota};
pub use text::Advice;

// Defined where they arise (the network and TLS floors); named here too, as before.
pub use crate::net::{Limit, NetError};
pub use crate::tls::TlsProblem;

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

    /// A temporary refusal because this client has too many connections open: Postfix's
    /// "421 4.7.0 ... too many connections from", Microsoft's "432 4.3.2 Concurrent connections
    /// limit exceeded".
    pub fn too_many_connections(&self) -> bool {
        let text = self.text.to_ascii_lowercase();
        // A quota refusal waited out in the pool's connection-limit loop would only be met
        // again: the provider counts messages, not connections.
        self.is_transient()
            && about::quota(self).is_none()
            && (self.code == 432
                || text.contains("too many connections")
                || text.contains("concurrent connections")
                || text.contains("connection limit"))
    }

    /// RFC 5321 4.5.3.1.10: 452 "too many recipients" (enhanced 4.5.3). A 452 with another
    /// enhanced code (4.2.2 mailbox full, 4.3.1 out of storage) is about that one address.
    pub fn too_many_recipients(&self) -> bool {
        self.code == 452
            && match self.enhanced.as_deref() {
                None => true,
                Some(e) => e == "4.5.3",
            }
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.text.is_empty() {
            write!(f, " {}", self.text)?;
        }
        Ok(())
    }
}

/// Where in the conversation something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Resolve,
    Connect,
    Greeting,
    Ehlo,
    StartTls,
    TlsHandshake,
    /// Getting an OAuth 2.0 token for XOAUTH2.
    Token,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    /// Writing the message (DATA content, or the BDAT chunk).
    Message,
    /// Waiting for the reply to the final "." (or to `BDAT ... LAST`): the server has the whole
    /// message, so a failure here leaves the outcome unknown.
    FinalReply,
    Reset,
    Noop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A setting or a per-call option is invalid.
    Config(String),
    /// The message cannot be built: a bad address, header, or no sender.
    Message(String),
    /// The network floor failed before a conversation: no address, nothing listening, no
    /// route, or TLS refused. The one network failure type, shared with the OAuth client;
    /// timeouts and failures during the conversation are `Timeout`, `Closed` and `Io`, which
    /// name its stage.
    Network(NetError),
    Timeout {
        host: String,
        port: u16,
        stage: Stage,
        limit: Limit,
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
    /// We would have to send credentials over an unencrypted connection to a remote server.
    InsecureAuth {
        host: String,
    },
    /// Authentication was asked for but the server offers no mechanism we can use.
    AuthUnavailable {
        host: String,
        offered: String,
        /// The server offers STARTTLS, which `smtp.starttls=off` kept us from using: most servers
        /// offer AUTH only after it.
        tls_skipped: bool,
    },
    /// The server answered with a failure (4xx/5xx) or an unexpected code.
    Rejected {
        stage: Stage,
        about: About,
        reply: Reply,
    },
    /// The server's reply could not be understood.
    Protocol {
        stage: Stage,
        detail: String,
    },
    /// Getting an OAuth 2.0 token failed.
    Token(crate::oauth::OAuthError),
    /// The server refused a token just fetched from the provider: the token is good, what it
    /// may do is not (Microsoft: SMTP AUTH off for the mailbox, no service principal, no
    /// SMTP.SendAsApp, no mailbox permission).
    TokenRefused {
        provider: crate::oauth::Provider,
        user: String,
        reply: Reply,
    },
    /// Every slot `smtp.max_connections` allows for this server was in use by other processes
    /// for as long as we could wait.
    SlotsBusy {
        host: String,
        max: u32,
        waited: Duration,
    },
    /// `smtp.max_rate` had no turn for this message within what the call could wait: the turns
    /// up to then were taken by other sends of this machine. Checked before the message went:
    /// nothing was sent, and trying again later is safe.
    RateBusy {
        host: String,
        /// The setting as the administrator wrote it, e.g. `30/min`.
        rate: String,
        /// The spacing of turns.
        interval: Duration,
        /// How long until the first free turn.
        turn_in: Duration,
        /// How long this call could wait, and the setting that said so.
        could_wait: Duration,
        setting: &'static str,
    },
    /// The server refused the connection because this machine has too many of them open
    /// ("432 4.3.2 Concurrent connections limit exceeded"), and still did after retries.
    ConnectionLimit {
        reply: Reply,
        host: String,
        tries: u32,
    },
    /// The message is bigger than the server takes (its EHLO SIZE); nothing was sent.
    TooBig {
        host: String,
        size: u64,
        max: u64,
    },
    /// The message asks for an SMTP extension the server does not offer (DSN with `required`,
    /// SMTPUTF8 for a UTF-8 address, REQUIRETLS); nothing was sent.
    NotOffered {
        host: String,
        /// The extension, as the server would name it in its EHLO reply.
        extension: &'static str,
        /// Why the message needs it ("which ...").
        needs: String,
        /// What to do.
        fix: String,
    },
    /// The message requires TLS all the way (REQUIRETLS, RFC 8689), and this connection is not
    /// verified TLS; nothing was sent.
    TlsRequired {
        host: String,
        why: String,
        fix: String,
    },
    /// Too little of `smtp.max_time` was left to send the message and wait for the server's
    /// reply, so its end never went out: nothing was delivered, and trying again is safe.
    NoTimeForMessage {
        host: String,
        size: u64,
        /// What was left of the call.
        left: Duration,
        /// What the message needed (see `transport::txn`'s rule).
        needed: Duration,
        max_time: Duration,
    },
    /// The whole message was written and no final reply came: it may have been delivered.
    Unknown {
        cause: Box<Error>,
        message_id: String,
        /// Recipients known to have it (earlier transactions of the same send).
        delivered: Vec<String>,
        /// Recipients of the transaction whose reply never came.
        unknown: Vec<String>,
        /// Recipients that certainly did not get it (not yet tried when it happened).
        undelivered: Vec<String>,
    },
    /// Some recipients got the message in an earlier transaction, then a later one failed.
    Partial {
        cause: Box<Error>,
        delivered: Vec<String>,
        undelivered: Vec<String>,
    },
}

/// What became of the message when a send failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    NotSent,
    Unknown,
    Partial,
}

impl Error {
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Unknown { .. } => Outcome::Unknown,
            Error::Partial { .. } => Outcome::Partial,
            _ => Outcome::NotSent,
        }
    }

    /// The error behind an outcome wrapper (itself otherwise).
    pub fn cause(&self) -> &Error {
        match self {
            Error::Unknown { cause, .. } | Error::Partial { cause, .. } => cause.cause(),
            e => e,
        }
    }

    /// The SMTP reply code behind this error, 0 when the server said nothing (the code of
    /// `SmtpException`).
    pub fn smtp_code(&self) -> u16 {
        self.reply().map_or(0, |r| r.code)
    }

    /// The server's reply, when the failure was the server's answer.
    pub fn reply(&self) -> Option<&Reply> {
        match self.cause() {
            Error::Rejected { reply, .. }
            | Error::ConnectionLimit { reply, .. }
            | Error::TokenRefused { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The stage of the conversation the error happened at, when it happened on a connection.
    pub fn stage(&self) -> Option<Stage> {
        match self.cause() {
            Error::Timeout { stage, .. }
            | Error::Closed { stage, .. }
            | Error::Io { stage, .. }
            | Error::Rejected { stage, .. }
            | Error::Protocol { stage, .. } => Some(*stage),
            Error::Network(NetError::Tls { .. }) => Some(Stage::TlsHandshake),
            Error::Network(NetError::Resolve { .. }) => Some(Stage::Resolve),
            Error::Network(_) => Some(Stage::Connect),
            Error::Token(_) => Some(Stage::Token),
            Error::ConnectionLimit { .. } => Some(Stage::Greeting),
            Error::TokenRefused { .. } => Some(Stage::Auth),
            Error::SlotsBusy { .. } => Some(Stage::Connect),
            Error::NoTimeForMessage { .. } => Some(Stage::Message),
            _ => None,
        }
    }

    /// A failure of the connection or of the server as a whole, before it took any message:
    /// another server of a failover list may do better. Never true for a refusal of this
    /// message, its sender or recipients, nor for anything after the message was written.
    pub fn is_connection_failure(&self) -> bool {
        match self {
            Error::Network(NetError::Tls { .. }) => false,
            Error::Network(_) => true,
            Error::Closed { .. } | Error::Io { .. } => {
                !matches!(self.stage(), Some(Stage::FinalReply))
            }
            // A server too slow to take the message within the call's time is no reason to
            // upload it again elsewhere (the upload itself was the slow part).
            Error::Timeout { stage, .. } => !matches!(stage, Stage::Message | Stage::FinalReply),
            Error::Rejected { stage, reply, .. } => {
                reply.code == 421 && matches!(stage, Stage::Greeting | Stage::Ehlo)
            }
            _ => false,
        }
    }

    /// The server refused this connection for having too many (at the greeting or after AUTH):
    /// worth waiting a moment and trying again.
    pub fn is_connection_limit(&self) -> bool {
        matches!(self, Error::Rejected { stage: Stage::Greeting | Stage::Ehlo | Stage::Auth, reply, .. }
            if reply.too_many_connections())
    }

    /// Another server of a failover list may do better: the connection failed, or this server
    /// would not take a connection, before anything was sent. Never after the message went out,
    /// nor for a refusal of the message, its sender or recipients, nor for a login refused.
    pub fn fails_over(&self) -> bool {
        self.outcome() == Outcome::NotSent
            && (self.is_connection_failure()
                || self.is_connection_limit()
                || matches!(
                    self,
                    Error::Network(NetError::Tls { .. })
                        | Error::SlotsBusy { .. }
                        | Error::Protocol {
                            stage: Stage::Greeting | Stage::Ehlo,
                            ..
                        }
                ))
    }
}

impl Error {
    /// A failure of the network floor, at `stage` of the conversation.
    pub fn from_net(e: NetError, stage: Stage) -> Error {
        match e {
            NetError::Timeout { host, port, limit } => Error::Timeout {
                host,
                port,
                stage,
                limit,
            },
            NetError::Io { host, detail } => Error::Io {
                host,
                stage,
                detail,
            },
            other => Error::Network(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, enhanced: Option<&str>) -> Reply {
        Reply {
            code,
            enhanced: enhanced.map(String::from),
            text: String::new(),
        }
    }

    #[test]
    fn only_4_5_3_or_a_bare_452_means_too_many_recipients() {
        assert!(reply(452, Some("4.5.3")).too_many_recipients());
        assert!(reply(452, None).too_many_recipients());
        assert!(!reply(452, Some("4.2.2")).too_many_recipients());
        assert!(!reply(451, Some("4.5.3")).too_many_recipients());
    }

    #[test]
    fn too_many_connections_as_providers_say_it() {
        let r = |code, text: &str| Reply {
            code,
            enhanced: text.split_whitespace().next().map(String::from),
            text: text.into(),
        };
        assert!(r(432, "4.3.2 Concurrent connections limit exceeded").too_many_connections());
        assert!(r(
            421,
            "4.7.0 localhost Error: too many connections from 127.0.0.1"
        )
        .too_many_connections());
        assert!(!r(421, "4.3.2 Service not available").too_many_connections());
        assert!(!r(554, "5.7.1 too many connections").too_many_connections());
    }

    #[test]
    fn outcome_wrappers_keep_the_cause() {
        let cause = Error::Timeout {
            host: "h".into(),
            port: 25,
            stage: Stage::FinalReply,
            limit: Limit::Total(Duration::from_secs(30)),
        };
        let e = Error::Unknown {
            cause: Box::new(cause.clone()),
            message_id: "<x@y>".into(),
            delivered: vec![],
            unknown: vec!["a@b.c".into()],
            undelivered: vec![],
        };
        assert_eq!(e.outcome(), Outcome::Unknown);
        assert_eq!(e.cause(), &cause);
        assert_eq!(e.stage(), Some(Stage::FinalReply));
        assert!(!e.is_connection_failure());
    }
}
