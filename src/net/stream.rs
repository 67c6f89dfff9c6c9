//! A socket that is plain TCP or TLS over it. rustls is driven by hand (one `read_tls`/
//! `write_tls` per syscall, the socket timeout re-armed before each) so that every wait ends by
//! its deadline, the TLS handshake included: a peer that trickles bytes cannot keep a call
//! alive.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rustls::ClientConnection;

use super::{timed_out, Deadline};

/// How far past its deadline a blocking call may end: socket timeouts are re-armed only when
/// the one in force could overshoot by more (two syscalls saved per read and write).
const SLACK: Duration = Duration::from_millis(50);

/// Whether the peer sent something, or went away, while the connection was idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Quiet,
    Input,
    Closed,
}

/// What one read of TLS records brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pulled {
    Records,
    /// The socket timeout fired before the deadline: nothing yet.
    Nothing,
    Closed,
}

/// Plain TCP, or TLS over it.
pub struct Stream {
    tcp: TcpStream,
    tls: Option<Box<ClientConnection>>,
    /// The socket timeouts in force, to avoid setting them again for every read and write.
    armed_read: Option<Duration>,
    armed_write: Option<Duration>,
    /// Acknowledge every segment at once (TCP_QUICKACK) while the session is set up; see
    /// `quickack`.
    pub quick_acks: bool,
}

impl Stream {
    pub fn new(tcp: TcpStream) -> Stream {
        // One write per command group, so Nagle has nothing to hold back (the 40 ms trap).
        let _ = tcp.set_nodelay(true);
        Stream {
            tcp,
            tls: None,
            armed_read: None,
            armed_write: None,
            quick_acks: true,
        }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn tls(&self) -> Option<&ClientConnection> {
        self.tls.as_deref()
    }

    /// A server that writes two small records in a row (Postfix: its TLS 1.3 session ticket,
    /// then the EHLO reply) holds the second back (Nagle) until the first is acknowledged, and
    /// Linux delays that ACK up to 40 ms when it has nothing to send. Quick ACKs end the wait.
    /// Linux leaves quick-ACK mode on its own, so it is asked for again before each read.
    fn quickack(&self) {
        if !self.quick_acks {
            return;
        }
        crate::sys::tcp_quickack(&self.tcp);
    }

    /// Sets the socket timeout so that a blocking call started now ends by the deadline.
    fn arm(&mut self, deadline: Deadline, read: bool, force: bool) -> io::Result<()> {
        let left = deadline.remaining().ok_or_else(timed_out)?;
        let armed = if read {
            &mut self.armed_read
        } else {
            &mut self.armed_write
        };
        if !force && armed.is_some_and(|a| a <= left + SLACK) {
            return Ok(());
        }
        if read {
            self.tcp.set_read_timeout(Some(left))?;
        } else {
            self.tcp.set_write_timeout(Some(left))?;
        }
        *armed = Some(left);
        Ok(())
    }

    /// A socket timeout fired: the deadline has passed, or the armed timeout was shorter than
    /// what is left (then the caller arms again and retries).
    fn expired(deadline: Deadline, e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) && deadline.remaining().is_none()
    }

    fn is_timeout(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    }

    /// Reads what is there (waiting for at least one byte); `Ok(0)` when the peer closed.
    pub fn read(&mut self, buf: &mut [u8], deadline: Deadline) -> io::Result<usize> {
        let mut force = false;
        loop {
            if let Some(tls) = self.tls.as_deref_mut() {
                match tls.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                self.flush_tls(deadline)?;
                if self.pull_tls(deadline, &mut force)? == Pulled::Closed {
                    // The peer closed: rustls now reports a clean close or an unexpected EOF.
                    let tls = self.tls.as_deref_mut().expect("TLS is on");
                    return match tls.reader().read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                        other => other,
                    };
                }
            } else {
                self.arm(deadline, true, force)?;
                self.quickack();
                match self.tcp.read(buf) {
                    Err(e) if Self::expired(deadline, &e) => return Err(timed_out()),
                    Err(e) if Self::is_timeout(&e) => force = true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => return other,
                }
            }
        }
    }

    /// One read of TLS records from the socket (one syscall, under the deadline), processed.
    /// `force`: the last wait ended early, arm the socket timeout again.
    fn pull_tls(&mut self, deadline: Deadline, force: &mut bool) -> io::Result<Pulled> {
        self.arm(deadline, true, *force)?;
        *force = false;
        self.quickack();
        let tls = self.tls.as_deref_mut().expect("TLS is on");
        match tls.read_tls(&mut self.tcp) {
            Ok(0) => Ok(Pulled::Closed),
            Ok(_) => match tls.process_new_packets() {
                Ok(_) => Ok(Pulled::Records),
                Err(e) => {
                    // Let the peer know why (the alert is queued), then give up.
                    let _ = self.flush_tls(deadline);
                    Err(io::Error::new(io::ErrorKind::InvalidData, e))
                }
            },
            Err(e) if Self::expired(deadline, &e) => Err(timed_out()),
            Err(e) if Self::is_timeout(&e) => {
                *force = true;
                Ok(Pulled::Nothing)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Pulled::Nothing),
            Err(e) => Err(e),
        }
    }

    /// Writes all of `data` (through TLS when on) by the deadline.
    pub fn write_all(&mut self, data: &[u8], deadline: Deadline) -> io::Result<()> {
        if self.tls.is_none() {
            return self.write_tcp(data, deadline);
        }
        let mut off = 0;
        while off < data.len() {
            let tls = self.tls.as_deref_mut().expect("TLS is on");
            off += tls.writer().write(&data[off..])?;
            self.flush_tls(deadline)?;
        }
        Ok(())
    }

    fn write_tcp(&mut self, mut data: &[u8], deadline: Deadline) -> io::Result<()> {
        let mut force = false;
        while !data.is_empty() {
            self.arm(deadline, false, force)?;
            match self.tcp.write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if Self::expired(deadline, &e) => return Err(timed_out()),
                Err(e) if Self::is_timeout(&e) => force = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends what rustls has queued (records, alerts).
    fn flush_tls(&mut self, deadline: Deadline) -> io::Result<()> {
        let mut force = false;
        loop {
            let Some(tls) = self.tls.as_deref() else {
                return Ok(());
            };
            if !tls.wants_write() {
                return Ok(());
            }
            self.arm(deadline, false, force)?;
            let tls = self.tls.as_deref_mut().expect("TLS is on");
            match tls.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if Self::expired(deadline, &e) => return Err(timed_out()),
                Err(e) if Self::is_timeout(&e) => force = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs the TLS handshake over this socket; TLS is on afterwards. A rustls error comes back
    /// inside the `io::Error` (see `tls::rustls_error`).
    pub fn start_tls(&mut self, conn: ClientConnection, deadline: Deadline) -> io::Result<()> {
        self.tls = Some(Box::new(conn));
        let mut force = false;
        loop {
            self.flush_tls(deadline)?;
            if !self.tls.as_deref().expect("TLS is on").is_handshaking() {
                return Ok(());
            }
            if self.pull_tls(deadline, &mut force)? == Pulled::Closed {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Looks, without waiting, whether the peer sent anything or closed while we were idle.
    /// TLS records that carry no data (session tickets, key updates) are taken in and ignored.
    pub fn idle_state(&mut self) -> Idle {
        let socket = match crate::sys::peek(&self.tcp) {
            crate::sys::Peek::Closed => return Idle::Closed,
            crate::sys::Peek::Data => Idle::Input,
            crate::sys::Peek::Nothing => Idle::Quiet,
        };
        let Some(tls) = self.tls.as_deref_mut() else {
            return socket;
        };
        if socket == Idle::Input {
            if self.tcp.set_nonblocking(true).is_err() {
                return Idle::Closed;
            }
            let got = tls.read_tls(&mut self.tcp);
            let _ = self.tcp.set_nonblocking(false);
            match got {
                Ok(0) => return Idle::Closed,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return Idle::Closed,
            }
        }
        match tls.process_new_packets() {
            Ok(state) if state.peer_has_closed() => Idle::Closed,
            Ok(state) if state.plaintext_bytes_to_read() > 0 => Idle::Input,
            Ok(_) => Idle::Quiet,
            Err(_) => Idle::Closed,
        }
    }

    /// Ends TLS politely (close_notify), waiting at most until the deadline.
    pub fn close(&mut self, deadline: Deadline) {
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
            let _ = self.flush_tls(deadline);
        }
    }
}
