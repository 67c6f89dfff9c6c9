//! The start of a session: the greeting, EHLO (HELO for old servers), and STARTTLS.

use lettre::transport::smtp::commands::{Ehlo, Starttls};
use lettre::transport::smtp::extension::ClientId;
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use super::{Budget, Capabilities, Connection};
use crate::config::{Settings, StartTls};
use crate::error::{Error, NetError, Reply, Result, Stage, TlsProblem};
use crate::tls;

impl Connection {
    /// The server's greeting, which must be 220.
    pub fn greet(&mut self, budget: &Budget) -> Result<Reply> {
        self.in_step = false;
        let greeting = self.read_reply(Stage::Greeting, budget.step())?;
        if greeting.code != 220 {
            return Err(self.refused(Stage::Greeting, greeting, "", None));
        }
        self.settle(&greeting);
        Ok(greeting)
    }

    /// EHLO (HELO for a server without ESMTP), learning the server's capabilities.
    pub fn hello(&mut self, s: &Settings, budget: &Budget) -> Result<()> {
        self.in_step = false;
        let id = ClientId::Domain(s.localhost.clone());
        self.send_command(&Ehlo::new(id).to_string(), Stage::Ehlo, budget)?;
        let (reply, response) = self.read_response(Stage::Ehlo, budget.step())?;
        if reply.code == 250 {
            self.caps = response
                .map(|r| Capabilities::parse(&r))
                .unwrap_or_default();
            super::seen::record(self.endpoint(), &self.caps);
            self.settle(&reply);
            return Ok(());
        }
        if reply.code >= 500 {
            // An old server without ESMTP: HELO, and no extensions.
            self.send_command(&format!("HELO {}\r\n", s.localhost), Stage::Ehlo, budget)?;
            let reply = self.read_reply(Stage::Ehlo, budget.step())?;
            if reply.code == 250 {
                self.caps = Capabilities::default();
                self.settle(&reply);
                return Ok(());
            }
            return Err(self.refused(Stage::Ehlo, reply, "", None));
        }
        Err(self.refused(Stage::Ehlo, reply, "", None))
    }

    /// STARTTLS as `smtp.starttls` says: when offered (auto), or insisted on (required).
    pub fn secure(&mut self, s: &Settings, budget: &Budget) -> Result<()> {
        if self.is_tls() || s.starttls == StartTls::Off {
            return Ok(());
        }
        if !self.caps.starttls {
            if s.starttls == StartTls::Required {
                return Err(Error::Network(NetError::Tls {
                    host: s.host.clone(),
                    problem: TlsProblem::NotOffered,
                }));
            }
            return Ok(());
        }
        self.in_step = false;
        self.send_command(&Starttls.to_string(), Stage::StartTls, budget)?;
        let reply = self.read_reply(Stage::StartTls, budget.step())?;
        if reply.code != 220 {
            let e = self.refused(Stage::StartTls, reply.clone(), "", None);
            self.settle(&reply);
            return Err(e);
        }
        if !self.rbuf.is_empty() {
            // Clear-text bytes sent along with the 220 would be read as replies after the
            // handshake: a man in the middle could choose our capabilities (CVE-2011-0411).
            return Err(Error::Protocol {
                stage: Stage::StartTls,
                detail: "the server sent more data right after agreeing to STARTTLS".into(),
            });
        }
        self.start_tls(s, budget)?;
        // RFC 3207: forget everything learnt before TLS and ask again.
        self.hello(s, budget)
    }

    pub(super) fn start_tls(&mut self, s: &Settings, budget: &Budget) -> Result<()> {
        self.in_step = false;
        let config =
            tls::client_config(s.cafile.as_deref(), s.verify_peer).map_err(Error::Config)?;
        if !s.verify_peer {
            log::warn!(
                "smtp.verify_peer=0: the TLS certificate of {} is not checked; anyone between \
                 here and the server can read the mail and the password",
                s.host
            );
        }
        let name = server_name(&s.host)?;
        let conn = ClientConnection::new(config, name).map_err(|e| {
            Error::Network(NetError::Tls {
                host: s.host.clone(),
                problem: tls::problem(&e),
            })
        })?;
        let deadline = budget.step();
        self.stream
            .start_tls(conn, deadline)
            .map_err(|e| self.io_error(Stage::TlsHandshake, e, deadline))?;
        if self.wire_enabled() {
            let resumed = if self.tls_resumed() { ", resumed" } else { "" };
            let what = self.tls_description().unwrap_or_default();
            self.wire(format_args!("TLS: {what}{resumed}"));
        }
        self.tls_verified = s.verify_peer;
        self.in_step = true;
        Ok(())
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_string())
        .map_err(|_| Error::Config(format!("host \"{host}\" is not a valid TLS server name")))
}
