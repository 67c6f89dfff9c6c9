//! One SMTP connection and the order of things on it: open (connect, greeting, EHLO, STARTTLS,
//! AUTH), send, reset, noop, quit.
//!
//! lettre gives the protocol pieces (command formatting, reply parsing, EHLO capabilities, auth
//! mechanisms); the connection layer is ours because lettre's keeps the socket private: we need
//! TCP_NODELAY, per-step time limits that also cover DNS and the TLS handshake, and pipelined
//! writes (one write for MAIL+RCPT+DATA, one for the message and its final dot), or every mail
//! pays for Nagle's algorithm meeting the server's delayed ACK (~40 ms).
//!
//! Whether a connection may carry another message is decided in one place: `in_step` is cleared
//! when an exchange starts and set again only when it ends with every reply read and no
//! transaction open (`settle`). A timeout, a closed socket, a reply we could not parse or a 421
//! leave it cleared, and the pool never keeps such a connection.

mod auth;
pub mod net;
pub mod reply;
mod seen;
mod session;
pub mod txn;

use std::io;
use std::time::Instant;

use lettre::transport::smtp::commands::{Noop, Quit, Rset};
use lettre::transport::smtp::response::Response;

pub use net::{Budget, Deadline, Idle};
pub use reply::Capabilities;
pub use seen::last_extensions;

use crate::config::Settings;
use crate::error::{about, Error, NetError, Reply, Result, Stage};
use net::Stream;

/// The longest reply taken (all its lines). Real replies are far shorter (a long EHLO reply is
/// under 1 KiB); a server that sends more is broken or hostile.
pub const MAX_REPLY: usize = 64 * 1024;

/// The log target of the SMTP conversation (AUTH data is never in it).
pub const WIRE_LOG: &str = "smtp::wire";

/// What a connection learnt about its server that the next connection to it may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// Recipients the server took in one transaction before it said "too many".
    pub rcpt_limit: Option<usize>,
    /// The server offers CHUNKING but refused BDAT: use DATA.
    pub no_chunking: bool,
    /// The server completed a BDAT transaction: the body may go in the envelope's write.
    pub bdat_proven: bool,
}

pub struct Connection {
    stream: Stream,
    rbuf: Vec<u8>,
    /// Read buffer, reused: no zeroing of a fresh buffer per read.
    scratch: Vec<u8>,
    host: String,
    port: u16,
    /// `smtp.debug`: the conversation goes to the log at info level, not just debug.
    debug: bool,
    caps: Capabilities,
    /// `smtp.chunking`: BDAT when the server offers CHUNKING.
    chunking: bool,
    /// TLS with the server's certificate checked (`smtp.verify_peer` on).
    tls_verified: bool,
    in_step: bool,
    pub facts: Facts,
    /// Messages accepted on this connection.
    pub messages: u32,
    pub last_used: Instant,
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS and logs in as the settings say.
    pub fn open(s: &Settings, budget: &Budget) -> Result<Connection> {
        let addrs = net::resolve(&s.host, s.port, budget.step())?;
        let mut conn = Connection::connect(s, &addrs, budget)?;
        conn.greet(budget)?;
        conn.hello(s, budget)?;
        conn.secure(s, budget)?;
        conn.login(s, budget)?;
        // Set up: from here on replies come one per write of ours, and the delayed ACK rides
        // on our next command.
        conn.stream.quick_acks = false;
        Ok(conn)
    }

    /// TCP connect to the first address that answers (and the TLS handshake for implicit TLS).
    pub fn connect(
        s: &Settings,
        addrs: &[std::net::SocketAddr],
        budget: &Budget,
    ) -> Result<Connection> {
        let tcp = net::connect(&s.host, s.port, addrs, budget)?;
        let mut conn = Connection {
            stream: Stream::new(tcp),
            rbuf: Vec::with_capacity(1024),
            scratch: vec![0; 16 * 1024],
            host: s.host.clone(),
            port: s.port,
            debug: s.debug,
            caps: Capabilities::default(),
            chunking: s.chunking,
            tls_verified: false,
            in_step: false,
            facts: Facts::default(),
            messages: 0,
            last_used: Instant::now(),
        };
        if s.implicit_tls {
            conn.start_tls(s, budget)?;
        }
        Ok(conn)
    }

    /// Settings that may differ between calls on a kept connection.
    pub fn apply(&mut self, s: &Settings) {
        self.debug = s.debug;
        self.chunking = s.chunking;
    }

    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// No conversation log from here on (for a connection closed from the pool's reaper
    /// thread, where nothing may reach PHP's error log).
    pub fn quiet(&mut self) {
        self.debug = false;
    }

    /// The server this connection talks to, as `host:port`.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Whether the TLS session was resumed (a ticket from an earlier connection of this
    /// process), which skips the full handshake.
    pub fn tls_resumed(&self) -> bool {
        matches!(
            self.stream.tls().and_then(|t| t.handshake_kind()),
            Some(rustls::HandshakeKind::Resumed)
        )
    }

    /// The TLS protocol and cipher suite in use, for the doctor.
    pub fn tls_description(&self) -> Option<String> {
        let tls = self.stream.tls()?;
        let version = match tls.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
            rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
            other => format!("{other:?}"),
        };
        let suite = tls
            .negotiated_cipher_suite()?
            .suite()
            .as_str()
            .unwrap_or("unknown cipher suite");
        Some(format!("{version}, {suite}"))
    }

    /// Every reply read, no transaction open, no 421: the connection may carry another message.
    pub fn is_reusable(&self) -> bool {
        self.in_step
    }

    /// Before reusing a kept connection: did the server say or close anything while it was
    /// idle? (A server that times out idle clients may have queued "421 Idle timeout".)
    pub fn idle_state(&mut self) -> Idle {
        if !self.rbuf.is_empty() {
            return Idle::Input;
        }
        let state = self.stream.idle_state();
        if state == Idle::Input && self.wire_enabled() {
            let deadline = Budget::new(std::time::Duration::from_millis(1), None).step();
            if let Ok(n) = self.stream.read(&mut self.scratch, deadline) {
                let text = String::from_utf8_lossy(&self.scratch[..n]).into_owned();
                self.wire(format_args!("S: {} (sent while idle)", text.trim_end()));
            }
        }
        state
    }

    /// RSET: ends any transaction.
    pub fn reset(&mut self, budget: &Budget) -> Result<()> {
        self.expect_250(&Rset.to_string(), Stage::Reset, budget)
    }

    /// NOOP, for checking an idle connection before reuse.
    pub fn noop(&mut self, budget: &Budget) -> Result<()> {
        self.expect_250(&Noop.to_string(), Stage::Noop, budget)
    }

    fn expect_250(&mut self, cmd: &str, stage: Stage, budget: &Budget) -> Result<()> {
        self.in_step = false;
        self.send_command(cmd, stage, budget)?;
        let reply = self.read_reply(stage, budget.step())?;
        if reply.code != 250 {
            return Err(self.refused(stage, reply, "", None));
        }
        self.settle(&reply);
        Ok(())
    }

    /// Says goodbye without waiting for the answer (as Postfix's smtp_skip_quit_response):
    /// the mail is already accepted, and the 221 would cost a round trip.
    pub fn quit(self) {
        self.say_quit(false);
    }

    /// As `quit`, then awaits the server's own close (its 221, then end of stream; one second
    /// at most): for a connection whose end another process or connection is waiting for (an
    /// `smtp.max_connections` slot, a server that counts connections), which the server must
    /// have seen end first.
    pub fn quit_and_await_close(self) {
        self.say_quit(true);
    }

    fn say_quit(mut self, await_close: bool) {
        let deadline = Budget::new(std::time::Duration::from_millis(200), None).step();
        let cmd = Quit.to_string();
        self.wire(format_args!("C: {}", cmd.trim_end()));
        if self.stream.write_all(cmd.as_bytes(), deadline).is_ok() {
            if await_close {
                let until = Budget::new(std::time::Duration::from_secs(1), None).step();
                while matches!(self.stream.read(&mut self.scratch, until), Ok(n) if n > 0) {}
            }
            self.stream.close(deadline);
        }
    }

    /// The exchange ended with every reply read: the connection is in step unless the server
    /// said it is closing.
    fn settle(&mut self, last: &Reply) {
        self.in_step = last.code != 421;
    }

    /// A refusal, classified by what it is about.
    fn refused(&mut self, stage: Stage, reply: Reply, sender: &str, rcpt: Option<&str>) -> Error {
        Error::Rejected {
            stage,
            about: about(stage, &reply, sender, rcpt),
            reply,
        }
    }

    /// The SMTP conversation, for `smtp.debug` or RUST_LOG.
    fn wire(&self, line: std::fmt::Arguments<'_>) {
        log::log!(target: WIRE_LOG, self.wire_level(), "{}:{} {}", self.host, self.port, line);
    }

    fn wire_level(&self) -> log::Level {
        if self.debug {
            log::Level::Info
        } else {
            log::Level::Debug
        }
    }

    /// Whether wire lines are wanted at all: spares building them on the hot path.
    fn wire_enabled(&self) -> bool {
        log::log_enabled!(target: WIRE_LOG, self.wire_level())
    }

    fn send_command(&mut self, cmd: &str, stage: Stage, budget: &Budget) -> Result<()> {
        self.wire(format_args!("C: {}", cmd.trim_end()));
        self.write(cmd.as_bytes(), stage, budget.step())
    }

    /// Like `send_command`, but the line never reaches the log.
    fn send_secret(&mut self, cmd: &str, budget: &Budget) -> Result<()> {
        self.wire(format_args!("C: <authentication data hidden>"));
        self.write(cmd.as_bytes(), Stage::Auth, budget.step())
    }

    fn write(&mut self, bytes: &[u8], stage: Stage, deadline: Deadline) -> Result<()> {
        self.stream
            .write_all(bytes, deadline)
            .map_err(|e| self.io_error(stage, e, deadline))
    }

    /// Reads one reply.
    fn read_reply(&mut self, stage: Stage, deadline: Deadline) -> Result<Reply> {
        self.read_response(stage, deadline).map(|(r, _)| r)
    }

    /// Reads one complete (possibly multi-line) reply; the lettre `Response` too when the reply
    /// was not a single line.
    fn read_response(
        &mut self,
        stage: Stage,
        deadline: Deadline,
    ) -> Result<(Reply, Option<Response>)> {
        let end = self.read_raw(stage, deadline)?;
        // Parsed where it lies in the read buffer, then dropped from it: no copy of the reply.
        let parsed =
            reply::parse(&self.rbuf[..end]).map_err(|detail| Error::Protocol { stage, detail });
        self.rbuf.drain(..end);
        parsed
    }

    /// The length of the next complete reply, at the start of `rbuf`. Each byte is looked at
    /// once (a server that trickles a reply byte by byte costs linear time), and a reply may be
    /// `MAX_REPLY` long at most: endless continuation lines or a line without end are a
    /// protocol error, not unbounded memory.
    fn read_raw(&mut self, stage: Stage, deadline: Deadline) -> Result<usize> {
        // rbuf[..lines] holds whole continuation lines, checked; rbuf[lines..searched] holds
        // no line end.
        let mut lines = 0;
        let mut searched = 0;
        loop {
            while let Some(nl) = self.rbuf[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + nl + 1;
                let line = &self.rbuf[lines..end - 1];
                if !reply::line_ok(line) {
                    return Err(Error::Protocol {
                        stage,
                        detail: format!(
                            "{:?}",
                            String::from_utf8_lossy(&line[..line.len().min(80)]).trim_end()
                        ),
                    });
                }
                if line.get(3) != Some(&b'-') {
                    if self.wire_enabled() {
                        let text = String::from_utf8_lossy(&self.rbuf[..end]);
                        self.wire(format_args!(
                            "S: {}",
                            text.trim_end().replace("\r\n", " | ")
                        ));
                    }
                    return Ok(end);
                }
                lines = end;
                searched = end;
            }
            searched = self.rbuf.len();
            if self.rbuf.len() > MAX_REPLY {
                return Err(Error::Protocol {
                    stage,
                    detail: format!(
                        "a reply longer than {} KiB (it begins {:?})",
                        MAX_REPLY / 1024,
                        String::from_utf8_lossy(&self.rbuf[..self.rbuf.len().min(60)])
                    ),
                });
            }
            match self.stream.read(&mut self.scratch, deadline) {
                Ok(0) => {
                    return Err(Error::Closed {
                        host: self.host.clone(),
                        stage,
                    })
                }
                Ok(n) => self.rbuf.extend_from_slice(&self.scratch[..n]),
                Err(e) => return Err(self.io_error(stage, e, deadline)),
            }
        }
    }

    fn io_error(&self, stage: Stage, e: io::Error, deadline: Deadline) -> Error {
        if let Some(tls_err) = crate::tls::rustls_error(&e) {
            return Error::Network(NetError::Tls {
                host: self.host.clone(),
                problem: crate::tls::problem(tls_err),
            });
        }
        let timeout = Error::Timeout {
            host: self.host.clone(),
            port: self.port,
            stage,
            limit: deadline.limit(),
        };
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timeout,
            _ if deadline.remaining().is_none() => timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Error::Closed {
                host: self.host.clone(),
                stage,
            },
            _ => Error::Io {
                host: self.host.clone(),
                stage,
                detail: e.to_string(),
            },
        }
    }
}
