//! Name resolution with a deadline: getaddrinfo has none of its own.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Instant;

use super::{Deadline, NetError};

/// Why a lookup gave no address.
pub enum LookupFailed {
    TimedOut,
    Error(String),
}

/// Resolves `host` by `end`. getaddrinfo has no timeout of its own, so the lookup (`lookup`,
/// replaceable for tests) runs on a short-lived thread we stop waiting for at `end` (the thread
/// finishes on its own and its answer is dropped); addresses need no lookup.
pub fn lookup_within<F>(
    host: &str,
    port: u16,
    end: Instant,
    lookup: F,
) -> std::result::Result<Vec<SocketAddr>, LookupFailed>
where
    F: FnOnce(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + 'static,
{
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = bare.to_string();
    std::thread::Builder::new()
        .name("smtp-dns".into())
        .spawn(move || {
            let _ = tx.send(lookup(&name, port));
        })
        .map_err(|e| LookupFailed::Error(format!("cannot start the lookup: {e}")))?;
    let left = end.saturating_duration_since(Instant::now());
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(LookupFailed::Error("no address found".into())),
        Ok(Err(e)) => Err(LookupFailed::Error(e.to_string())),
        Err(_) => Err(LookupFailed::TimedOut),
    }
}

/// The system's resolver (getaddrinfo).
pub fn system_lookup(name: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    (name, port).to_socket_addrs().map(|a| a.collect())
}

/// Resolves `host` within the deadline.
pub fn resolve(host: &str, port: u16, deadline: Deadline) -> Result<Vec<SocketAddr>, NetError> {
    lookup_within(host, port, deadline.at(), system_lookup).map_err(|e| match e {
        LookupFailed::TimedOut => NetError::Timeout {
            host: host.to_string(),
            port,
            limit: deadline.limit(),
        },
        LookupFailed::Error(detail) => NetError::Resolve {
            host: host.to_string(),
            detail,
        },
    })
}
