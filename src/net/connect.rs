//! TCP connect, each address under a step of its own.

use std::net::{SocketAddr, TcpStream};

use super::{Budget, NetError};

/// TCP connect to the first address that answers; each address gets a step of its own.
pub fn connect(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    budget: &Budget,
) -> Result<TcpStream, NetError> {
    let mut last = None;
    let mut limit = budget.step().limit();
    for addr in addrs {
        let deadline = budget.step();
        limit = deadline.limit();
        let Some(left) = deadline.remaining() else {
            break;
        };
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        None => NetError::Timeout {
            host: host.to_string(),
            port,
            limit,
        },
        Some(e) => NetError::from_connect(host, port, &e, limit),
    })
}
