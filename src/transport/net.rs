//! The network floor (`crate::net`) as the SMTP transport and the doctor use it: its failures
//! become the extension's errors, with the stage of the conversation.

use std::net::{SocketAddr, TcpStream};

pub use crate::net::{Budget, Deadline, Idle, Stream};

use crate::error::{Error, Result, Stage};

/// Resolves the SMTP host within the deadline.
pub fn resolve(host: &str, port: u16, deadline: Deadline) -> Result<Vec<SocketAddr>> {
    crate::net::resolve(host, port, deadline).map_err(|e| Error::from_net(e, Stage::Resolve))
}

/// TCP connect to the first address that answers; each address gets a step of its own.
pub fn connect(host: &str, port: u16, addrs: &[SocketAddr], budget: &Budget) -> Result<TcpStream> {
    crate::net::connect(host, port, addrs, budget).map_err(|e| Error::from_net(e, Stage::Connect))
}
