//! Helpers shared by the integration tests: real SMTP servers on 127.0.0.1 (the project's
//! fault-injecting server, Postfix's smtp-sink, an aiosmtpd sink, a small scripted server in
//! this process, one-off Python servers), the test certificates, settings and messages.
//!
//! Every server runs in its own temporary directory, which goes away with the server (`Drop`
//! kills the process first).

#![allow(dead_code, unused_imports)]

pub mod certs;
pub mod fault;
pub mod postfix;
pub mod script;
pub mod sinks;
pub mod token;

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use smtp::config::Settings;
use smtp::message::{Draft, Header, Prepared};

pub use certs::{ca_file, certs};
pub use fault::{FaultServer, Recorded};
pub use script::{Fate, PyScript, ScriptServer};
pub use sinks::{AioSink, SmtpSink};

/// How long a server may take to say READY, and a recorded file to show up.
pub const START_TIMEOUT: Duration = Duration::from_secs(15);
pub const WAIT: Duration = Duration::from_secs(5);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter for the test servers: `$PYTHON`, else `python3` from PATH.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

// ---------------------------------------------------------------------------------------------
// Temporary directories

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory under the system temp dir, removed (with its content) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "php-smtp-test-{tag}-{}-{}-{nanos:x}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Polling

/// Calls `f` until it gives `Some`, or `timeout` has passed.
pub fn wait_until<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A port nobody listens on right now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Files in `dir` whose name ends with `suffix` (not the hidden temporary ones), sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix) && !n.starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Child processes that print "READY <port>"

pub fn spawn_ready(mut cmd: Command, stderr_log: &Path, what: &str) -> (Child, u16) {
    let log = fs::File::create(stderr_log).expect("create stderr log");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} ({cmd:?}): {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(r);
    });
    let line = rx.recv_timeout(START_TIMEOUT);
    let port = match &line {
        Ok(Ok(l)) => l
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse::<u16>().ok()),
        _ => None,
    };
    match port {
        Some(p) => (child, p),
        None => {
            let _ = child.kill();
            let status = child.wait();
            let err = fs::read_to_string(stderr_log).unwrap_or_default();
            panic!("{what} did not say READY (got {line:?}, exit {status:?}); stderr:\n{err}");
        }
    }
}

pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// Servers

/// A test server on 127.0.0.1: settings that point at it.
pub trait Server {
    fn port(&self) -> u16;

    fn settings(&self, ini: &[(&str, &str)]) -> Settings {
        settings(self.port(), ini)
    }
}

pub const CLIENT_NAME: &str = "client.test";
pub const FROM: &str = "wiki@example.test";

/// Settings for 127.0.0.1:port: short timeout, fixed EHLO name and Message-ID domain, pool off
/// (pool tests turn it on). `ini` overrides any of these or adds more.
pub fn settings(port: u16, ini: &[(&str, &str)]) -> Settings {
    let port = port.to_string();
    let mut all: Vec<(&str, &str)> = vec![
        ("host", "127.0.0.1"),
        ("port", port.as_str()),
        ("timeout", "5"),
        ("localhost", CLIENT_NAME),
        ("idhost", "test.example"),
        ("pool", "0"),
    ];
    all.extend_from_slice(ini);
    let lookup = |name: &str| {
        all.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    Settings::resolve(&lookup, &[]).unwrap_or_else(|e| panic!("settings {ini:?}: {e}"))
}

/// A message with a fixed Date and Message-ID, so two builds give the same bytes.
pub fn message(to: &str, subject: &str, body: &[u8], message_id: &str) -> Prepared {
    Draft {
        to: to.into(),
        subject: subject.into(),
        body,
        headers: vec![
            Header::new("From", format!("Wiki <{FROM}>")),
            Header::new("Date", "Tue, 24 Nov 2026 14:05:09 +0000"),
            Header::new("Message-ID", message_id),
        ],
        idhost: "test.example".into(),
        ..Default::default()
    }
    .build()
    .expect("build message")
}

/// A simple ASCII message to `to`.
pub fn simple(to: &str, n: usize) -> Prepared {
    message(
        to,
        &format!("message {n}"),
        format!("This is message {n}.\n").as_bytes(),
        &format!("<msg-{n}.{}@test.example>", std::process::id()),
    )
}

/// A connection to `port` that has read the server's 220 greeting: it counts against the
/// server's connection limit until dropped.
pub fn hold_connection(port: u16) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut line = String::new();
    BufReader::new(s.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("220"), "{line}");
    s
}

/// `got` and `want` hold the same addresses, each as often, in any order.
pub fn assert_same_recipients(mut got: Vec<String>, want: &[String]) {
    got.sort();
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(got, want);
}

/// A refusal's stage, what it is about, and the server's reply; panics for any other error.
pub fn rejected(
    e: &smtp::error::Error,
) -> (smtp::error::Stage, smtp::error::About, smtp::error::Reply) {
    match e {
        smtp::error::Error::Rejected {
            stage,
            about,
            reply,
        } => (*stage, about.clone(), reply.clone()),
        other => panic!("expected Error::Rejected, got {other:?}: {other}"),
    }
}

/// Sends `msg` through the pool expecting a failure: the error and how long the call took.
/// The call must end within `promised` (what the settings promise: timeout or max_time) plus
/// one second, the extension's promise ("no call exceeds max_time + 1 s"): a limit kept, not
/// a speed test.
pub fn send_fails(
    settings: &Settings,
    msg: &Prepared,
    promised: Duration,
) -> (smtp::error::Error, Duration) {
    let started = Instant::now();
    let e = match smtp::pool::send(settings, msg) {
        Ok(r) => panic!("expected a failure, got {r:?}"),
        Err(e) => e,
    };
    let took = started.elapsed();
    assert!(
        took < promised + Duration::from_secs(1),
        "took {took:?}, promised {promised:?}: {e}"
    );
    (e, took)
}

/// The body the byte-for-byte tests send: dots at line starts (dot-stuffing), a line that is
/// only a dot, trailing blanks, empty lines, UTF-8 (8-bit), a lone LF and a lone CR (made
/// CRLF), and no final line end.
pub const TRICKY_BODY: &[u8] = b"Hello,\r\n\
.starts with a dot\r\n\
..two dots\r\n\
.\r\n\
trailing blanks   \r\n\
\r\n\
\r\n\
Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\r\n\
lone lf\nlone cr\rend\r\n\
. dot space\r\n\
no final newline";

/// Value of the first header `name` in a message (unfolded, trimmed).
pub fn header_value(msg: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(msg);
    let head = text.split("\r\n\r\n").next()?;
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = head.split("\r\n").peekable();
    while let Some(l) = lines.next() {
        if l.to_ascii_lowercase().starts_with(&prefix) {
            let mut v = l[prefix.len()..].to_string();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    v.push_str(next);
                    lines.next();
                } else {
                    break;
                }
            }
            return Some(v.trim().to_string());
        }
    }
    None
}

pub fn crlf_to_lf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A host name other than "localhost" that /etc/hosts maps to a loopback address only: the
/// extension must treat it as a remote host (it judges by name), yet it reaches our servers.
pub fn loopback_alias() -> Option<String> {
    let hosts = fs::read_to_string("/etc/hosts").ok()?;
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(addr) = words.next() else { continue };
        if !addr.starts_with("127.") {
            continue;
        }
        for name in words {
            if name.to_ascii_lowercase().contains("localhost") {
                continue;
            }
            let resolved: Vec<_> = match (name, 25).to_socket_addrs() {
                Ok(a) => a.collect(),
                Err(_) => continue,
            };
            if !resolved.is_empty() && resolved.iter().all(|a| a.ip().is_loopback()) {
                return Some(name.to_string());
            }
        }
    }
    None
}

pub fn base64_decode(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_else(|e| panic!("bad base64 {s:?}: {e}"))
}

pub fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// What a child forked by [`fork_pool_child`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkedChild {
    /// It started with an empty pool of its own and let go of it.
    Fresh,
    /// It saw its parent's statistics (or died).
    Stale,
    /// It did not exit within 10 s (killed and reaped).
    Hung,
}

/// Forks a child that checks it starts with a pool of its own (no statistics inherited), shuts
/// the pool down and leaves with `_exit`; the parent waits for it.
pub fn fork_pool_child() -> ForkedChild {
    // SAFETY: the child calls into the pool (which a fork must leave usable) and leaves with
    // _exit; the parent reaps it.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let fresh = smtp::pool::stats() == smtp::pool::Stats::default();
        smtp::pool::shutdown();
        // SAFETY: leaves without running the test harness's exit code.
        unsafe { libc::_exit(if fresh { 0 } else { 1 }) };
    }
    let mut status = 0;
    let exited = wait_until(Duration::from_secs(10), || {
        // SAFETY: our child; WNOHANG returns at once.
        let r = unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
        (r == child).then_some(())
    });
    if exited.is_none() {
        // SAFETY: our child, stuck: kill and reap it.
        unsafe {
            libc::kill(child, libc::SIGKILL);
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        return ForkedChild::Hung;
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        ForkedChild::Fresh
    } else {
        ForkedChild::Stale
    }
}
