//! One network failure type for every client built on `net` (the SMTP transport, the OAuth
//! token client): what happened to the connection, in one text. Each client adds what it was
//! doing and what to do about it.

use std::fmt;
use std::io;

use super::Limit;
use crate::tls::TlsProblem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The host name has no address (or the resolver failed).
    Resolve {
        host: String,
        detail: String,
    },
    /// Nothing listens on that port.
    Refused {
        host: String,
        port: u16,
    },
    /// Any other failure to connect (unreachable network, ...).
    Connect {
        host: String,
        port: u16,
        detail: String,
    },
    /// A wait ran out; `limit` says which.
    Timeout {
        host: String,
        port: u16,
        limit: Limit,
    },
    Tls {
        host: String,
        problem: TlsProblem,
    },
    /// The connection failed once open (closed, reset, ...).
    Io {
        host: String,
        detail: String,
    },
}

impl NetError {
    /// A failed connect, classified.
    pub fn from_connect(host: &str, port: u16, e: &io::Error, limit: Limit) -> NetError {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => NetError::Refused {
                host: host.to_string(),
                port,
            },
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => NetError::Timeout {
                host: host.to_string(),
                port,
                limit,
            },
            _ => NetError::Connect {
                host: host.to_string(),
                port,
                detail: e.to_string(),
            },
        }
    }

    pub fn host(&self) -> &str {
        match self {
            NetError::Resolve { host, .. }
            | NetError::Refused { host, .. }
            | NetError::Connect { host, .. }
            | NetError::Timeout { host, .. }
            | NetError::Tls { host, .. }
            | NetError::Io { host, .. } => host,
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Resolve { host, detail } => {
                write!(f, "cannot resolve the host name \"{host}\" ({detail})")
            }
            NetError::Refused { host, port } => write!(f, "connection to {host}:{port} refused"),
            NetError::Connect { host, port, detail } => {
                write!(f, "cannot connect to {host}:{port} ({detail})")
            }
            NetError::Timeout { host, port, limit } => {
                let d = match limit {
                    Limit::Step(d) | Limit::Total(d) => d,
                };
                write!(
                    f,
                    "no answer from {host}:{port} within {} s",
                    d.as_secs_f64()
                )
            }
            NetError::Tls { host, problem } => write!(f, "{}", problem.words(host)),
            NetError::Io { host, detail } => write!(f, "network error talking to {host}: {detail}"),
        }
    }
}

impl std::error::Error for NetError {}
