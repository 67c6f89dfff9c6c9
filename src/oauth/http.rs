//! One HTTPS POST of a form to a token endpoint, every wait under `Limits`.
//!
//! Hand-written rather than through an HTTP client crate: ureq 3 does bound every wait (its
//! resolver runs getaddrinfo on a thread when a timeout is set; connect, TLS, response and body
//! have budgets; a trickling server is cut off), but it builds its own rustls `ClientConfig`.
//! Using ours (`tls::client_config`: system store + `smtp.cafile`, TLS 1.2+, cached per
//! process) would mean implementing its `unversioned` transport API, which is outside its semver
//! promise. A token request is one POST with `Connection: close`, so what is left to own is
//! small: the request line, the response head (httparse), and the body framing
//! (Content-Length, chunked, or until close).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use super::error::{OAuthError, Step};
use super::Limits;
use crate::net::{lookup_within, system_lookup, Limit, LookupFailed, NetError};
use crate::tls;

/// Token responses are a few KB; anything this big is not one.
const MAX_RESPONSE: usize = 256 * 1024;

/// An `https://` URL split into what the request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// Without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url, String> {
        let s = s.trim();
        let rest = match s.get(..8) {
            Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &s[8..],
            _ => return Err(format!("\"{}\" is not an https:// URL", shown(s))),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err("a token URL must not hold a user name or password".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("\"{}\" has an unclosed [", shown(s)))?;
            (h, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("\"{}\" has no valid host", shown(s)));
        }
        let port = match port {
            None => 443,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("\"{}\" has an invalid port", shown(s)))?,
        };
        if target.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("\"{}\" has spaces in its path", shown(s)));
        }
        let target = if target.starts_with('/') {
            target.to_string()
        } else {
            format!("/{target}")
        };
        Ok(Url {
            host: host.to_string(),
            port,
            target,
        })
    }

    /// `Host:` header value.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// For messages: scheme, host, port and path, without the query.
    pub fn shown(&self) -> String {
        let path = self.target.split('?').next().unwrap_or("/");
        format!("https://{}{path}", self.authority())
    }
}

/// A URL for a message, without its query (which could hold something private).
fn shown(s: &str) -> String {
    s.split(['?', '#']).next().unwrap_or_default().to_string()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,
}

/// POSTs `form` (already encoded) to `url` and returns the response, whatever its status.
pub(crate) fn post_form(
    url: &Url,
    form: &str,
    cafile: Option<&Path>,
    limits: Limits,
) -> Result<Response, OAuthError> {
    let config = tls::client_config(cafile, true).map_err(OAuthError::Config)?;
    let name = ServerName::try_from(url.host.clone())
        .map_err(|_| OAuthError::Config(format!("\"{}\" is not a valid host name", url.host)))?;
    let started = Instant::now();
    let clock = Clock { limits, started };
    let fail = Fail { url, clock };

    let (end, _) = clock.step_end();
    let addrs = lookup_within(&url.host, url.port, end, system_lookup).map_err(|e| match e {
        LookupFailed::TimedOut => fail.timeout(Step::Resolve),
        LookupFailed::Error(detail) => fail.net(
            Step::Resolve,
            NetError::Resolve {
                host: url.host.clone(),
                detail,
            },
        ),
    })?;

    let tcp = connect(&addrs, clock.step_end().0).map_err(|e| {
        let limit = Limit::Step(clock.limits.step);
        fail.net(
            Step::Connect,
            NetError::from_connect(&url.host, url.port, &e, limit),
        )
    })?;
    let _ = tcp.set_nodelay(true);
    let mut io = Timed {
        tcp,
        end: clock.step_end().0,
    };

    let mut conn = ClientConnection::new(config, name)
        .map_err(|e| OAuthError::Config(format!("TLS setup failed: {e}")))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut io) {
            Ok((0, 0)) => return Err(fail.io(Step::TlsHandshake, closed())),
            Ok(_) => {}
            Err(e) => return Err(fail.io(Step::TlsHandshake, e)),
        }
    }

    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: php-smtp/{}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        url.target,
        url.authority(),
        env!("CARGO_PKG_VERSION"),
        form.len()
    );
    io.end = clock.step_end().0;
    {
        let mut tls = rustls::Stream::new(&mut conn, &mut io);
        tls.write_all(request.as_bytes())
            .and_then(|_| tls.flush())
            .map_err(|e| fail.io(Step::Request, e))?;
    }

    io.end = clock.step_end().0;
    let mut tls = rustls::Stream::new(&mut conn, &mut io);
    read_response(&mut tls).map_err(|e| match e {
        ReadFailed::Io(e) => fail.io(Step::Response, e),
        ReadFailed::Http(detail) => OAuthError::BadResponse {
            url: url.shown(),
            detail,
        },
    })
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the server closed the connection",
    )
}

/// When each step must end: `step` from its start, never after `until`.
#[derive(Clone, Copy)]
struct Clock {
    limits: Limits,
    started: Instant,
}

impl Clock {
    /// The end of a step starting now, and whether `until` is what sets it.
    fn step_end(&self) -> (Instant, bool) {
        let own = Instant::now() + self.limits.step;
        match self.limits.until {
            Some(until) if until <= own => (until, true),
            _ => (own, false),
        }
    }
}

struct Fail<'a> {
    url: &'a Url,
    clock: Clock,
}

impl Fail<'_> {
    fn timeout(&self, step: Step) -> OAuthError {
        // Past `until`, or close enough that `until` set this step's end: the overall limit.
        let overall = self
            .clock
            .limits
            .until
            .is_some_and(|u| Instant::now() + Duration::from_millis(5) >= u);
        OAuthError::Timeout {
            host: self.url.host.clone(),
            port: self.url.port,
            step,
            after: if overall {
                self.clock.started.elapsed()
            } else {
                self.clock.limits.step
            },
            overall,
        }
    }

    fn io(&self, step: Step, e: io::Error) -> OAuthError {
        let host = self.url.host.clone();
        let failure = if let Some(t) = tls::rustls_error(&e) {
            if step == Step::TlsHandshake {
                NetError::Tls {
                    host,
                    problem: tls::problem(t),
                }
            } else {
                NetError::Io {
                    host,
                    detail: format!("TLS: {t}"),
                }
            }
        } else {
            match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => return self.timeout(step),
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => NetError::Io {
                    host,
                    detail: "the server closed the connection".into(),
                },
                _ => NetError::Io {
                    host,
                    detail: e.to_string(),
                },
            }
        };
        self.net(step, failure)
    }

    /// A failure of the network floor at `step`; its timeouts say which of the token
    /// request's limits ran out.
    fn net(&self, step: Step, e: NetError) -> OAuthError {
        OAuthError::from_net(e, step, |step| self.timeout(step))
    }
}

/// A socket whose every read and write waits at most until `end`, however many of them a step
/// (a TLS handshake, a trickling response) takes.
struct Timed {
    tcp: TcpStream,
    end: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
        } else {
            Ok(left)
        }
    }
}

fn timed_out(r: io::Result<usize>) -> io::Result<usize> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
        }
        r => r,
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.tcp.set_read_timeout(Some(self.left()?))?;
            match timed_out(self.tcp.read(buf)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            self.tcp.set_write_timeout(Some(self.left()?))?;
            match timed_out(self.tcp.write(buf)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// Tries each address in turn within one budget; the last error tells what happened.
fn connect(addrs: &[SocketAddr], end: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::TimedOut, "timed out");
    for addr in addrs {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        match TcpStream::connect_timeout(addr, left) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = e,
        }
    }
    Err(last)
}

enum ReadFailed {
    Io(io::Error),
    /// Not HTTP, or a body that cannot be framed.
    Http(String),
}

impl From<io::Error> for ReadFailed {
    fn from(e: io::Error) -> Self {
        ReadFailed::Io(e)
    }
}

/// Reads one response. The end of the TCP stream without TLS close_notify counts as the end
/// (common, and framing tells a truncated body apart where the server declared one).
fn read_response(r: &mut impl Read) -> Result<Response, ReadFailed> {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut eof = false;
    loop {
        if !eof {
            eof = fill(r, &mut buf)?;
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut head = httparse::Response::new(&mut headers);
        let head_len = match head.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if eof => {
                return Err(if buf.is_empty() {
                    ReadFailed::Io(closed())
                } else {
                    ReadFailed::Http("the response ended in its header".into())
                })
            }
            Ok(httparse::Status::Partial) => continue,
            Err(e) => return Err(ReadFailed::Http(format!("its response is not HTTP ({e})"))),
        };
        let status = head.code.unwrap_or(0);
        if (100..200).contains(&status) {
            // An interim response (100 Continue): the real one follows.
            buf.drain(..head_len);
            continue;
        }
        let reason = head.reason.unwrap_or("").to_string();
        let header = |name: &str| {
            head.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        let framing = if header("transfer-encoding").is_some_and(|v| v.ends_with("chunked")) {
            Framing::Chunked
        } else if let Some(len) = header("content-length") {
            let len = len
                .parse::<usize>()
                .map_err(|_| ReadFailed::Http("its Content-Length is not a number".into()))?;
            if len > MAX_RESPONSE {
                return Err(ReadFailed::Http(format!(
                    "its response is too big ({len} bytes)"
                )));
            }
            Framing::Length(len)
        } else {
            Framing::Close
        };
        buf.drain(..head_len);
        let body = loop {
            match framing.body(&buf, eof).map_err(ReadFailed::Http)? {
                Some(body) => break body,
                None => {
                    if eof {
                        return Err(ReadFailed::Io(closed()));
                    }
                    eof = fill(r, &mut buf)?;
                }
            }
        };
        return Ok(Response {
            status,
            reason,
            body,
        });
    }
}

/// Reads what is there; true at the end of the stream.
fn fill(r: &mut impl Read, buf: &mut Vec<u8>) -> Result<bool, ReadFailed> {
    if buf.len() > MAX_RESPONSE {
        return Err(ReadFailed::Http("its response is too big".into()));
    }
    let mut chunk = [0u8; 8192];
    match r.read(&mut chunk) {
        Ok(0) => Ok(true),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(false)
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(true),
        Err(e) => Err(ReadFailed::Io(e)),
    }
}

enum Framing {
    Length(usize),
    Chunked,
    Close,
}

impl Framing {
    /// The whole body once `buf` holds it, `None` while more is needed.
    fn body(&self, buf: &[u8], eof: bool) -> Result<Option<Vec<u8>>, String> {
        match self {
            Framing::Length(n) => Ok((buf.len() >= *n).then(|| buf[..*n].to_vec())),
            Framing::Close => Ok(eof.then(|| buf.to_vec())),
            Framing::Chunked => dechunk(buf),
        }
    }
}

/// Decodes a complete chunked body (RFC 9112 section 7.1), `None` while incomplete.
fn dechunk(mut buf: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let bad = || "its chunked body is malformed".to_string();
    let mut body = Vec::new();
    loop {
        let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[..eol]).map_err(|_| bad())?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        if size > MAX_RESPONSE {
            return Err(bad());
        }
        buf = &buf[eol + 2..];
        if size == 0 {
            // Trailer fields, then an empty line.
            loop {
                let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                if eol == 0 {
                    return Ok(Some(body));
                }
                buf = &buf[eol + 2..];
            }
        }
        if buf.len() < size + 2 {
            return Ok(None);
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err(bad());
        }
        body.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("https://login.microsoftonline.com/contoso/oauth2/v2.0/token").unwrap();
        assert_eq!(u.host, "login.microsoftonline.com");
        assert_eq!(u.port, 443);
        assert_eq!(u.target, "/contoso/oauth2/v2.0/token");
        assert_eq!(u.authority(), "login.microsoftonline.com");
        let u = Url::parse("HTTPS://127.0.0.1:8443/t?x=1#frag").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 8443));
        assert_eq!(u.target, "/t?x=1");
        assert_eq!(u.shown(), "https://127.0.0.1:8443/t");
        let u = Url::parse("https://[::1]:9000").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("::1", 9000, "/")
        );
        assert_eq!(u.authority(), "[::1]:9000");
        for bad in [
            "http://example.org/token",
            "https://",
            "https://user:pw@example.org/",
            "https://example.org:0/",
            "https://example.org:99999/",
            "https://exa mple.org/",
            "https://[::1/",
            "login.microsoftonline.com/token",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
        // The query never shows in a message.
        let e = Url::parse("http://example.org/token?secret=x").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }

    fn read(bytes: &[u8]) -> Result<Response, String> {
        read_response(&mut &bytes[..]).map_err(|e| match e {
            ReadFailed::Io(e) => format!("io: {e}"),
            ReadFailed::Http(s) => s,
        })
    }

    #[test]
    fn responses_by_length_chunks_or_close() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!(
            (r.status, r.reason.as_str(), &r.body[..]),
            (200, "OK", &b"{}"[..])
        );
        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400 Bad Request\r\n\
              Transfer-Encoding: chunked\r\n\r\n3;x=y\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nT: 1\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, &r.body[..]), (400, &b"{\"a\":1}"[..]));
        let r = read(b"HTTP/1.0 200 OK\r\n\r\nuntil close").unwrap();
        assert_eq!(&r.body[..], b"until close");
        assert!(read(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
            .unwrap_err()
            .contains("closed"));
        assert!(read(b"SSH-2.0-OpenSSH\r\n\r\n")
            .unwrap_err()
            .contains("not HTTP"));
        assert!(
            read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .unwrap_err()
                .contains("malformed")
        );
        assert!(read(b"").unwrap_err().contains("closed"));
    }

    #[test]
    fn dechunk_waits_for_the_end() {
        assert_eq!(dechunk(b"2\r\nab").unwrap(), None);
        assert_eq!(dechunk(b"2\r\nab\r\n0\r\n").unwrap(), None);
        assert_eq!(
            dechunk(b"2\r\nab\r\n0\r\n\r\n").unwrap().as_deref(),
            Some(&b"ab"[..])
        );
        assert!(dechunk(b"2\r\nabc\r\n").is_err());
    }

    #[test]
    fn a_hanging_lookup_is_given_up_at_the_end() {
        let start = Instant::now();
        let r = lookup_within(
            "slow.example",
            443,
            start + Duration::from_millis(200),
            |_, _| {
                std::thread::sleep(Duration::from_secs(3));
                Ok(vec![])
            },
        );
        assert!(matches!(r, Err(LookupFailed::TimedOut)));
        assert!(start.elapsed() < Duration::from_secs(2));
        let r = lookup_within(
            "fast.example",
            443,
            start + Duration::from_secs(5),
            |_, p| Ok(vec![SocketAddr::from(([127, 0, 0, 1], p))]),
        );
        assert_eq!(r.ok().unwrap()[0].port(), 443);
        let r = lookup_within("::1", 9, Instant::now(), |_, _| unreachable!());
        assert!(r.is_ok());
    }

    #[test]
    fn a_full_listen_queue_makes_connect_time_out() {
        // A listener that never accepts with a backlog of 0: once its queue is full, the
        // kernel drops further SYNs and connect() waits, like a firewall that drops packets.
        use std::net::TcpListener;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        crate::sys::relisten(&l, 0).unwrap();
        let addr = l.local_addr().unwrap();
        let mut held = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
        let start = Instant::now();
        let r = connect(&[addr], start + Duration::from_millis(400));
        let took = start.elapsed();
        assert_eq!(
            r.map(|_| ()).unwrap_err().kind(),
            io::ErrorKind::TimedOut,
            "after {took:?}"
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}
