//! One SMTP connection and one send over it, under one deadline.
//!
//! lettre gives the protocol pieces (command formatting, reply parsing, EHLO capabilities, auth
//! mechanisms); the connection layer is ours because lettre's keeps the socket private: we need
//! TCP_NODELAY, a deadline that also covers DNS and the TLS handshake, and pipelined writes (one
//! write for MAIL+RCPT+DATA, one for the message and its final dot), or every mail pays for
//! Nagle's algorithm meeting the server's delayed ACK (~40 ms).

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::commands::{Auth, Data, Ehlo, Mail, Noop, Quit, Rcpt, Rset, Starttls};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, ServerInfo,
};
use lettre::transport::smtp::response::Response;
use lettre::Address;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::config::{AuthMode, Settings, StartTls};
use crate::error::{Error, Reply, Result, Stage, TlsProblem};
use crate::message::Prepared;
use crate::tls;

/// How far past the deadline a blocking call may end (see `set_timeouts`).
const TIMEOUT_SLACK: Duration = Duration::from_millis(100);

/// The log target of the SMTP conversation (AUTH data is never in it).
pub const WIRE_LOG: &str = "smtp::wire";

/// The moment by which the whole send must be over.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    pub fn after(total: Duration) -> Self {
        Deadline {
            at: Instant::now() + total,
        }
    }

    /// Time left, or `None` when the deadline has passed.
    fn remaining(&self) -> Option<Duration> {
        self.at
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

/// What the server said it can do in its EHLO reply.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub pipelining: bool,
    pub eight_bit_mime: bool,
    pub starttls: bool,
    /// The mechanisms after AUTH, as the server wrote them.
    pub auth_offered: String,
    info: ServerInfo,
}

pub struct Connection {
    stream: Stream,
    rbuf: Vec<u8>,
    host: String,
    port: u16,
    timeout: Duration,
    /// `smtp.debug`: the conversation goes to the log at info level, not just debug.
    debug: bool,
    caps: Capabilities,
    /// The socket timeout currently set (see `set_timeouts`).
    armed: std::cell::Cell<Option<Duration>>,
    /// Read buffer, reused: no zeroing of a fresh buffer per read.
    scratch: Vec<u8>,
    /// Messages accepted on this connection.
    pub messages: u32,
    /// Set once the connection can no longer be trusted for another transaction (closed,
    /// timed out, out of step with the server, 421): the pool drops it.
    pub broken: bool,
    pub last_used: Instant,
}

/// Which address a refused recipient reply was about.
struct RcptOutcome {
    accepted: Vec<String>,
    /// Refused with 452 "too many recipients" after some were accepted: send in a later
    /// transaction.
    deferred: Vec<String>,
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS and logs in as the settings say.
    pub fn open(s: &Settings, deadline: Deadline) -> Result<Connection> {
        let addrs = resolve(&s.host, s.port, deadline, s.timeout)?;
        let mut conn = Connection::connect(s, &addrs, deadline)?;
        conn.greet(deadline)?;
        conn.hello(s, deadline)?;
        conn.secure(s, deadline)?;
        conn.login(s, deadline)?;
        Ok(conn)
    }

    /// TCP connect to the first address that answers (and the TLS handshake for implicit TLS).
    pub fn connect(s: &Settings, addrs: &[SocketAddr], deadline: Deadline) -> Result<Connection> {
        let tcp = connect(s, addrs, deadline)?;
        // One write per command group, so Nagle has nothing to hold back: see the module doc.
        let _ = tcp.set_nodelay(true);
        let mut conn = Connection {
            stream: Stream::Plain(tcp),
            rbuf: Vec::with_capacity(1024),
            host: s.host.clone(),
            port: s.port,
            timeout: s.timeout,
            debug: s.debug,
            caps: Capabilities::default(),
            armed: std::cell::Cell::new(None),
            scratch: vec![0; 8192],
            messages: 0,
            broken: false,
            last_used: Instant::now(),
        };
        if s.implicit_tls {
            conn.start_tls(s, deadline)?;
        }
        Ok(conn)
    }

    /// The server's greeting, which must be 220.
    pub fn greet(&mut self, deadline: Deadline) -> Result<Reply> {
        let greeting = self.read_reply(Stage::Greeting, deadline)?;
        if greeting.code != 220 {
            return Err(self.rejected(Stage::Greeting, None, greeting));
        }
        Ok(greeting)
    }

    /// EHLO (HELO for a server without ESMTP), learning the server's capabilities.
    pub fn hello(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        self.ehlo(s, deadline)
    }

    /// STARTTLS as `smtp.starttls` says: when offered (auto), or insisted on (required).
    pub fn secure(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        if self.is_tls() || s.starttls == StartTls::Off {
            return Ok(());
        }
        if !self.caps.starttls {
            if s.starttls == StartTls::Required {
                return Err(Error::Tls {
                    host: s.host.clone(),
                    problem: TlsProblem::NotOffered,
                });
            }
            return Ok(());
        }
        self.send_command(&Starttls.to_string(), deadline)?;
        let reply = self.read_reply(Stage::StartTls, deadline)?;
        if reply.code != 220 {
            return Err(self.rejected(Stage::StartTls, None, reply));
        }
        if !self.rbuf.is_empty() {
            // Clear-text bytes sent along with the 220 would be read as replies after the
            // handshake: a man in the middle could choose our capabilities (CVE-2011-0411).
            self.broken = true;
            return Err(Error::Protocol {
                stage: Stage::StartTls,
                detail: "the server sent more data right after agreeing to STARTTLS".into(),
            });
        }
        self.start_tls(s, deadline)?;
        // RFC 3207: forget everything learnt before TLS and ask again.
        self.ehlo(s, deadline)
    }

    /// AUTH when the settings ask for it.
    pub fn login(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        if s.auth == AuthMode::Off {
            return Ok(());
        }
        self.authenticate(s, deadline)
    }

    /// MAIL FROM with this sender, then RSET: would the server take mail from it? Sends
    /// nothing.
    pub fn check_sender(&mut self, from: &str, deadline: Deadline) -> Result<Reply> {
        let cmd = Mail::new(Some(envelope_address(from)?), vec![]).to_string();
        self.send_command(&cmd, deadline)?;
        let reply = self.read_reply(Stage::MailFrom, deadline)?;
        let refused = reply.code != 250;
        let outcome = if refused {
            Err(self.rejected(Stage::MailFrom, Some(from.to_string()), reply.clone()))
        } else {
            Ok(reply)
        };
        if !self.broken {
            self.reset(deadline)?;
        }
        outcome
    }

    /// The TLS protocol and cipher suite in use, for the doctor.
    pub fn tls_description(&self) -> Option<String> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Tls(t) => Some(format!(
                "{:?}, {:?}",
                t.conn.protocol_version()?,
                t.conn.negotiated_cipher_suite()?.suite()
            )),
        }
    }

    pub fn set_debug(&mut self, on: bool) {
        self.debug = on;
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    fn ehlo(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        let id = ClientId::Domain(s.localhost.clone());
        self.send_command(&Ehlo::new(id).to_string(), deadline)?;
        let (reply, response) = self.read_response(Stage::Ehlo, deadline)?;
        if reply.code == 250 {
            self.caps = parse_capabilities(&response);
            return Ok(());
        }
        if reply.code >= 500 {
            // An old server without ESMTP: HELO, and no extensions.
            self.send_command(&format!("HELO {}\r\n", s.localhost), deadline)?;
            let reply = self.read_reply(Stage::Ehlo, deadline)?;
            if reply.code == 250 {
                self.caps = Capabilities::default();
                return Ok(());
            }
            return Err(self.rejected(Stage::Ehlo, None, reply));
        }
        Err(self.rejected(Stage::Ehlo, None, reply))
    }

    fn start_tls(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        let config = tls::client_config(s.cafile.as_deref(), s.verify_peer)?;
        if !s.verify_peer {
            log::warn!(
                "smtp.verify_peer=0: the TLS certificate of {} is not checked; anyone between \
                 here and the server can read the mail and the password",
                s.host
            );
        }
        let name = server_name(&s.host)?;
        let conn = ClientConnection::new(config, name).map_err(|e| Error::Tls {
            host: s.host.clone(),
            problem: tls::problem(&e),
        })?;
        // A second handle on the same socket: the plain one is dropped once TLS runs over it.
        let tcp = self.stream.tcp().try_clone().map_err(|e| Error::Io {
            host: s.host.clone(),
            stage: Stage::TlsHandshake,
            detail: e.to_string(),
        })?;
        let mut tls = StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            self.set_timeouts(&tls.sock, Stage::TlsHandshake, deadline)?;
            if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
                return Err(self.io_error(Stage::TlsHandshake, e, deadline));
            }
        }
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    fn authenticate(&mut self, s: &Settings, deadline: Deadline) -> Result<()> {
        if !self.is_tls() && !s.host_is_loopback() {
            if !self.caps.starttls {
                return Err(Error::Tls {
                    host: s.host.clone(),
                    problem: TlsProblem::NotOffered,
                });
            }
            return Err(Error::InsecureAuth {
                host: s.host.clone(),
            });
        }
        let mechanism = match s.auth {
            AuthMode::Off => return Ok(()),
            AuthMode::Only(m) => m,
            // XOAUTH2 takes a token, not a password: never chosen on its own.
            AuthMode::Auto => self
                .caps
                .info
                .get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login])
                .ok_or_else(|| Error::AuthUnavailable {
                    host: s.host.clone(),
                    offered: self.caps.auth_offered.clone(),
                })?,
        };
        if self.caps.auth_offered.is_empty() {
            return Err(Error::AuthUnavailable {
                host: s.host.clone(),
                offered: String::new(),
            });
        }
        let creds = Credentials::new(s.username.clone(), s.password.expose().to_string());
        let protocol = |detail: String| Error::Protocol {
            stage: Stage::Auth,
            detail,
        };
        let first =
            Auth::new(mechanism, creds.clone(), None).map_err(|e| protocol(e.to_string()))?;
        self.send_secret(&first.to_string(), deadline)?;
        let (mut reply, mut response) = self.read_response(Stage::Auth, deadline)?;
        // LOGIN asks for the user name and the password; XOAUTH2 answers a failure with a 334
        // JSON challenge that wants an empty line before the final 535.
        for _ in 0..3 {
            if reply.code != 334 {
                break;
            }
            let next = if mechanism == Mechanism::Xoauth2 {
                "\r\n".to_string()
            } else {
                Auth::new_from_response(mechanism, creds.clone(), &response)
                    .map_err(|e| protocol(e.to_string()))?
                    .to_string()
            };
            self.send_secret(&next, deadline)?;
            (reply, response) = self.read_response(Stage::Auth, deadline)?;
        }
        if reply.code != 235 {
            return Err(self.rejected(Stage::Auth, Some(s.username.clone()), reply));
        }
        Ok(())
    }

    /// Sends one message: MAIL, RCPT and DATA (pipelined when offered), then the message and
    /// its final dot in one write. Recipients refused with 452 after others were accepted go in
    /// further transactions; any other refused recipient fails the whole send before the
    /// message is sent to anyone.
    pub fn send(&mut self, msg: &Prepared, deadline: Deadline) -> Result<()> {
        let mut pending: Vec<String> = msg.rcpts.clone();
        let mut payload: Option<Vec<u8>> = None;
        while !pending.is_empty() {
            let outcome = self.envelope(msg, &pending, deadline)?;
            let data = payload.get_or_insert_with(|| dot_stuff(&msg.data));
            self.wire(format_args!("C: <message, {} bytes>", data.len()));
            self.write_all(data, Stage::Message, deadline)?;
            let reply = self.read_reply(Stage::Message, deadline)?;
            if reply.code != 250 {
                return Err(self.rejected(Stage::Message, None, reply));
            }
            self.messages += 1;
            self.last_used = Instant::now();
            debug_assert!(outcome.deferred.len() < pending.len());
            log::debug!(
                "message {} accepted for {} recipient(s)",
                msg.message_id,
                outcome.accepted.len()
            );
            pending = outcome.deferred;
        }
        Ok(())
    }

    /// MAIL FROM, RCPT TO for each recipient, DATA; returns once the server said 354.
    fn envelope(
        &mut self,
        msg: &Prepared,
        rcpts: &[String],
        deadline: Deadline,
    ) -> Result<RcptOutcome> {
        let mut params = Vec::new();
        if msg.eight_bit && self.caps.eight_bit_mime {
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let from = if msg.from.is_empty() {
            None
        } else {
            Some(envelope_address(&msg.from)?)
        };
        let mail_cmd = Mail::new(from, params).to_string();
        let rcpt_cmds: Vec<String> = rcpts
            .iter()
            .map(|r| Ok(Rcpt::new(envelope_address(r)?, vec![]).to_string()))
            .collect::<Result<_>>()?;

        let pipelined = self.caps.pipelining;
        let mut batch = String::new();
        if pipelined {
            batch.push_str(&mail_cmd);
            rcpt_cmds.iter().for_each(|c| batch.push_str(c));
            batch.push_str(&Data.to_string());
            if self.wire_enabled() {
                for line in batch.lines() {
                    self.wire(format_args!("C: {line}"));
                }
            }
            self.write_all(batch.as_bytes(), Stage::MailFrom, deadline)?;
        } else {
            self.send_command(&mail_cmd, deadline)?;
        }

        let mut failure: Option<Error> = None;
        let mail_reply = self.read_reply(Stage::MailFrom, deadline)?;
        if mail_reply.code != 250 {
            failure = Some(self.rejected(Stage::MailFrom, Some(msg.from.clone()), mail_reply));
        }
        let mut accepted = Vec::new();
        let mut deferred = Vec::new();
        for (rcpt, cmd) in rcpts.iter().zip(&rcpt_cmds) {
            if !pipelined {
                if failure.is_some() {
                    break;
                }
                self.send_command(cmd, deadline)?;
            }
            let reply = match self.read_reply(Stage::RcptTo, deadline) {
                Ok(r) => r,
                // A server that refused MAIL with 421 hangs up: its refusal is the news.
                Err(e) => return Err(failure.unwrap_or(e)),
            };
            match reply.code {
                250 | 251 => accepted.push(rcpt.clone()),
                // Too many recipients for one transaction: the rest go in the next one. (With
                // a failure already noted the send fails anyway; deferring changes nothing.)
                452 if !accepted.is_empty() => deferred.push(rcpt.clone()),
                _ => {
                    if failure.is_none() {
                        failure = Some(self.rejected(Stage::RcptTo, Some(rcpt.clone()), reply));
                    }
                }
            }
        }
        let data_reply = if pipelined {
            match self.read_reply(Stage::Data, deadline) {
                Ok(r) => Some(r),
                Err(e) => return Err(failure.unwrap_or(e)),
            }
        } else if failure.is_none() {
            self.send_command(&Data.to_string(), deadline)?;
            Some(self.read_reply(Stage::Data, deadline)?)
        } else {
            None
        };
        if let Some(e) = failure {
            if data_reply.as_ref().is_some_and(|r| r.code == 354) {
                // The server waits for message data we must not send: only closing the
                // connection aborts the transaction (the caller drops this connection).
                return Err(self.poisoned(e));
            }
            self.reset_after_failure(deadline);
            return Err(e);
        }
        let data_reply = data_reply.expect("DATA was sent when nothing failed");
        if data_reply.code != 354 {
            self.reset_after_failure(deadline);
            return Err(self.rejected(Stage::Data, None, data_reply));
        }
        Ok(RcptOutcome { accepted, deferred })
    }

    /// Makes a refused transaction not stick to a kept connection.
    fn reset_after_failure(&mut self, deadline: Deadline) {
        if self.reset(deadline).is_err() {
            self.broken = true;
        }
    }

    /// RSET: ends any transaction.
    pub fn reset(&mut self, deadline: Deadline) -> Result<()> {
        self.expect_250(&Rset.to_string(), deadline)
    }

    /// NOOP, for checking an idle connection before reuse.
    pub fn noop(&mut self, deadline: Deadline) -> Result<()> {
        self.expect_250(&Noop.to_string(), deadline)
    }

    fn expect_250(&mut self, cmd: &str, deadline: Deadline) -> Result<()> {
        self.send_command(cmd, deadline)?;
        let reply = self.read_reply(Stage::Reset, deadline)?;
        if reply.code != 250 {
            return Err(self.rejected(Stage::Reset, None, reply));
        }
        Ok(())
    }

    /// Says goodbye without waiting for the answer (as Postfix's smtp_skip_quit_response):
    /// the mail is already accepted, and the 221 would cost a round trip.
    pub fn quit(mut self) {
        let deadline = Deadline::after(Duration::from_millis(200));
        let _ = self.send_command(&Quit.to_string(), deadline);
        if let Stream::Tls(t) = &mut self.stream {
            t.conn.send_close_notify();
            let _ = t.conn.complete_io(&mut t.sock);
        }
    }

    fn poisoned(&mut self, e: Error) -> Error {
        self.broken = true;
        e
    }

    fn rejected(&mut self, stage: Stage, subject: Option<String>, reply: Reply) -> Error {
        if reply.code == 421 {
            // 421: the server is closing the connection.
            self.broken = true;
        }
        Error::Rejected {
            stage,
            subject,
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

    fn send_command(&mut self, cmd: &str, deadline: Deadline) -> Result<()> {
        self.wire(format_args!("C: {}", cmd.trim_end()));
        self.write_all(cmd.as_bytes(), Stage::of_command(cmd), deadline)
    }

    /// Like `send_command`, but the line never reaches the log.
    fn send_secret(&mut self, cmd: &str, deadline: Deadline) -> Result<()> {
        self.wire(format_args!("C: <authentication data hidden>"));
        self.write_all(cmd.as_bytes(), Stage::Auth, deadline)
    }

    fn write_all(&mut self, bytes: &[u8], stage: Stage, deadline: Deadline) -> Result<()> {
        self.set_timeouts(self.stream.tcp(), stage, deadline)?;
        let result = match &mut self.stream {
            Stream::Plain(s) => s.write_all(bytes).and_then(|_| s.flush()),
            Stream::Tls(s) => s.write_all(bytes).and_then(|_| s.flush()),
        };
        result.map_err(|e| {
            self.broken = true;
            self.io_error(stage, e, deadline)
        })
    }

    /// Reads one reply. The replies of a send (250, 354) are single lines: parsed straight
    /// from the bytes; anything else goes through lettre's parser.
    fn read_reply(&mut self, stage: Stage, deadline: Deadline) -> Result<Reply> {
        let raw = self.read_raw(stage, deadline)?;
        let line = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let single = !line.contains(&b'\n')
            && line.len() >= 3
            && line[..3].iter().all(u8::is_ascii_digit)
            && matches!(line.get(3), None | Some(b' '));
        if single {
            if let Ok(text) = std::str::from_utf8(line) {
                if let Ok(code) = text[..3].parse::<u16>() {
                    if (200..600).contains(&code) {
                        return Ok(reply_from(code, &[text.get(4..).unwrap_or("")]));
                    }
                }
            }
        }
        self.parse(stage, &raw).map(|(r, _)| r)
    }

    /// Reads one complete (possibly multi-line) reply, parsed by lettre.
    fn read_response(&mut self, stage: Stage, deadline: Deadline) -> Result<(Reply, Response)> {
        let raw = self.read_raw(stage, deadline)?;
        self.parse(stage, &raw)
    }

    fn parse(&mut self, stage: Stage, raw: &[u8]) -> Result<(Reply, Response)> {
        // Some servers end lines with a bare LF; the reply parser wants CRLF.
        let text = String::from_utf8_lossy(raw)
            .replace("\r\n", "\n")
            .replace('\n', "\r\n");
        let response = Response::from_str(&text).map_err(|e| {
            self.broken = true;
            Error::Protocol {
                stage,
                detail: format!("{e}: {:?}", text.trim_end()),
            }
        })?;
        Ok((to_reply(&response), response))
    }

    /// The bytes of the next complete reply.
    fn read_raw(&mut self, stage: Stage, deadline: Deadline) -> Result<Vec<u8>> {
        loop {
            if let Some(end) = complete_reply_len(&self.rbuf) {
                let raw: Vec<u8> = self.rbuf.drain(..end).collect();
                if self.wire_enabled() {
                    let text = String::from_utf8_lossy(&raw);
                    self.wire(format_args!(
                        "S: {}",
                        text.trim_end().replace("\r\n", " | ")
                    ));
                }
                return Ok(raw);
            }
            if self.rbuf.len() > 64 * 1024 {
                self.broken = true;
                return Err(Error::Protocol {
                    stage,
                    detail: "reply longer than 64 KiB".into(),
                });
            }
            if let Some(junk) = self.rbuf.iter().position(|&b| b == b'\n') {
                if !reply_line_ok(&self.rbuf[..junk]) {
                    self.broken = true;
                    return Err(Error::Protocol {
                        stage,
                        detail: format!(
                            "{:?}",
                            String::from_utf8_lossy(&self.rbuf[..junk.min(80)]).trim_end()
                        ),
                    });
                }
            }
            self.set_timeouts(self.stream.tcp(), stage, deadline)?;
            let n = match &mut self.stream {
                Stream::Plain(s) => s.read(&mut self.scratch),
                Stream::Tls(s) => s.read(&mut self.scratch),
            };
            match n {
                Ok(0) => {
                    self.broken = true;
                    return Err(Error::Closed {
                        host: self.host.clone(),
                        stage,
                    });
                }
                Ok(n) => self.rbuf.extend_from_slice(&self.scratch[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.broken = true;
                    return Err(self.io_error(stage, e, deadline));
                }
            }
        }
    }

    /// Makes sure a blocking read or write started now ends by the deadline (give or take
    /// `TIMEOUT_SLACK`). The socket options are only set again when the one in force could
    /// overshoot: two syscalls per 100 ms instead of two per read and write.
    fn set_timeouts(&self, tcp: &TcpStream, stage: Stage, deadline: Deadline) -> Result<()> {
        let left = deadline
            .remaining()
            .ok_or_else(|| self.timeout_error(stage))?;
        let now = Instant::now();
        if let Some(armed) = self.armed.get() {
            if now + armed <= deadline.at + TIMEOUT_SLACK {
                return Ok(());
            }
        }
        let _ = tcp.set_read_timeout(Some(left));
        let _ = tcp.set_write_timeout(Some(left));
        self.armed.set(Some(left));
        Ok(())
    }

    fn timeout_error(&self, stage: Stage) -> Error {
        Error::Timeout {
            host: self.host.clone(),
            port: self.port,
            stage,
            after: self.timeout,
        }
    }

    fn io_error(&self, stage: Stage, e: io::Error, deadline: Deadline) -> Error {
        if let Some(tls_err) = tls::rustls_error(&e) {
            return Error::Tls {
                host: self.host.clone(),
                problem: tls::problem(tls_err),
            };
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => self.timeout_error(stage),
            _ if deadline.remaining().is_none() => self.timeout_error(stage),
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

impl Stage {
    fn of_command(cmd: &str) -> Stage {
        match cmd.get(..4).map(|s| s.to_ascii_uppercase()).as_deref() {
            Some("EHLO" | "HELO") => Stage::Ehlo,
            Some("STAR") => Stage::StartTls,
            Some("MAIL") => Stage::MailFrom,
            Some("RCPT") => Stage::RcptTo,
            Some("DATA") => Stage::Data,
            _ => Stage::Reset,
        }
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_string())
        .map_err(|_| Error::Config(format!("host \"{host}\" is not a valid TLS server name")))
}

fn envelope_address(addr: &str) -> Result<Address> {
    Address::from_str(addr)
        .map_err(|e| Error::Message(format!("invalid envelope address \"{addr}\": {e}")))
}

fn parse_capabilities(response: &Response) -> Capabilities {
    let mut caps = Capabilities {
        info: ServerInfo::from_response(response).unwrap_or_default(),
        ..Default::default()
    };
    for line in response.message().skip(1) {
        let mut words = line.split_whitespace();
        let keyword = words.next().unwrap_or("").to_ascii_uppercase();
        match keyword.as_str() {
            "PIPELINING" => caps.pipelining = true,
            "AUTH" => caps.auth_offered = words.collect::<Vec<_>>().join(" "),
            _ => {}
        }
    }
    caps.eight_bit_mime = caps.info.supports_feature(Extension::EightBitMime);
    caps.starttls = caps.info.supports_feature(Extension::StartTls);
    caps
}

fn to_reply(r: &Response) -> Reply {
    let code = r.code().to_string().parse().unwrap_or(0);
    let lines: Vec<&str> = r.message().collect();
    reply_from(code, &lines)
}

fn reply_from(code: u16, lines: &[&str]) -> Reply {
    let first = lines.first().copied().unwrap_or("");
    let enhanced = first
        .split_whitespace()
        .next()
        .filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(String::from);
    Reply {
        code,
        enhanced,
        text: lines.join(" "),
    }
}

/// A reply line starts with three digits followed by a space, a dash, or the line end.
fn reply_line_ok(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.len() >= 3
        && line[..3].iter().all(u8::is_ascii_digit)
        && matches!(line.get(3), None | Some(b' ' | b'-'))
}

/// The length of the first complete reply in the buffer: lines up to one whose fourth byte is
/// not '-'. Bare LF line ends count too (normalised before parsing).
fn complete_reply_len(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        let end = start + nl + 1;
        if line.get(3) != Some(&b'-') {
            return Some(end);
        }
        start = end;
    }
    None
}

/// Dot-stuffing (RFC 5321 section 4.5.2) plus the terminating `.` line. The input already
/// has CRLF line ends and ends with CRLF.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 5);
    let mut at_line_start = true;
    for &b in data {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Resolves the host under the deadline. getaddrinfo has no timeout of its own, so a name
/// lookup runs on a short-lived thread we stop waiting for when time is up; addresses and
/// "localhost" need no lookup.
pub fn resolve(
    host: &str,
    port: u16,
    deadline: Deadline,
    total: Duration,
) -> Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = bare.to_string();
    std::thread::Builder::new()
        .name("smtp-dns".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(|a| a.collect::<Vec<_>>()),
            );
        })
        .map_err(|e| Error::Resolve {
            host: host.to_string(),
            detail: format!("cannot start the lookup: {e}"),
        })?;
    let left = deadline.remaining().unwrap_or_default();
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(Error::Resolve {
            host: host.to_string(),
            detail: "no address found".into(),
        }),
        Ok(Err(e)) => Err(Error::Resolve {
            host: host.to_string(),
            detail: e.to_string(),
        }),
        Err(_) => Err(Error::Timeout {
            host: host.to_string(),
            port,
            stage: Stage::Connect,
            after: total,
        }),
    }
}

fn connect(s: &Settings, addrs: &[SocketAddr], deadline: Deadline) -> Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        let Some(left) = deadline.remaining() else {
            break;
        };
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    let timeout = Error::Timeout {
        host: s.host.clone(),
        port: s.port,
        stage: Stage::Connect,
        after: s.timeout,
    };
    Err(match last {
        None => timeout,
        Some(e) => match e.kind() {
            io::ErrorKind::ConnectionRefused => Error::Refused {
                host: s.host.clone(),
                port: s.port,
            },
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timeout,
            _ => Error::Connect {
                host: s.host.clone(),
                port: s.port,
                detail: e.to_string(),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing() {
        assert_eq!(
            dot_stuff(b"a\r\n.b\r\n..c\r\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n"
        );
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(dot_stuff(b"x.y\r\n"), b"x.y\r\n.\r\n");
    }

    #[test]
    fn reply_framing() {
        assert_eq!(complete_reply_len(b"250-a\r\n250 b\r\n220"), Some(14));
        assert_eq!(complete_reply_len(b"250-a\r\n250-b\r\n"), None);
        assert_eq!(complete_reply_len(b"220 hi"), None);
        assert!(reply_line_ok(b"220 hi\r"));
        assert!(!reply_line_ok(b"HTTP/1.1 400"));
    }

    #[test]
    fn replies_keep_code_enhanced_status_and_text() {
        let r = Response::from_str("550-5.7.1 you are not\r\n550 5.7.1 authorized\r\n").unwrap();
        let reply = to_reply(&r);
        assert_eq!(reply.code, 550);
        assert_eq!(reply.enhanced.as_deref(), Some("5.7.1"));
        assert_eq!(reply.text, "5.7.1 you are not 5.7.1 authorized");
    }
}
