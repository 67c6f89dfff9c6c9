//! A private Postfix instance on 127.0.0.1 for the integration tests (tests/servers/postfix.py):
//! a plain port, a submission port (STARTTLS required, then AUTH PLAIN LOGIN) and an smtps
//! port (implicit TLS, AUTH), delivering with virtual(8) into Maildirs the test reads back.
//!
//! Needs root and the Debian packages postfix, sasl2-bin and libsasl2-modules (scripts/setup.sh).
//! Independent of the crate: tests speak to the ports with `smtp::...` themselves. Usable as
//! `common::postfix` or on its own (`#[path = "common/postfix.rs"] mod postfix;`).
//!
//! ```ignore
//! let pf = Postfix::start(PostfixOpts { recipient_limit: Some(3), ..Default::default() });
//! // send to 127.0.0.1:pf.submission, trusting pf.ca_file(), as USER / PASSWORD
//! let got = pf.wait_delivered(1);
//! assert_eq!(got[0].recipient, "rcpt1@example.test");
//! assert_eq!(got[0].message(), crlf_to_lf(&sent));
//! ```

#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// The SASL user every instance has unless the options say otherwise (also its mailbox).
pub const USER: &str = "wiki@example.test";
pub const PASSWORD: &str = "secret";
/// The virtual domain unless the options say otherwise.
pub const DOMAIN: &str = "example.test";
/// How long a start may take (it takes about 0.2 s), and a delivery or log line to show up.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const WAIT: Duration = Duration::from_secs(5);

/// What the instance offers. `Default`: user `USER`/`PASSWORD`, domain `example.test` with a
/// catch-all, CHUNKING and the wire log on, Postfix's own limits otherwise.
#[derive(Debug, Clone)]
pub struct PostfixOpts {
    /// SASL logins and passwords. A login that is an address is also a mailbox.
    pub users: Vec<(String, String)>,
    /// More mailboxes (each gets its own Maildir; other recipients go to the catch-all).
    pub mailboxes: Vec<String>,
    /// Virtual domains (the domains of users and mailboxes are added).
    pub domains: Vec<String>,
    /// Deliver any recipient at the domains (`false`: others get `550 5.1.1 ... User unknown`).
    pub catch_all: bool,
    /// `smtpd_sender_login_maps` + `reject_sender_login_mismatch` on submission and smtps:
    /// each user owns its own address, plus `owns` (login, address).
    pub sender_login: bool,
    pub owns: Vec<(String, String)>,
    /// `smtpd_recipient_limit` (Postfix: 1000).
    pub recipient_limit: Option<u32>,
    /// `smtpd_client_connection_count_limit`, counted per port, 127.0.0.1 included.
    pub connection_limit: Option<u32>,
    /// `smtpd_timeout`, whole seconds (Postfix: 300 s): an idle client gets a 421 and a close.
    pub idle_timeout: Option<Duration>,
    /// `message_size_limit` (Postfix: 10240000).
    pub message_size_limit: Option<u64>,
    /// `false`: `smtpd_discard_ehlo_keywords = chunking`.
    pub chunking: bool,
    /// `debug_peer_list = 127.0.0.1`: every command in the log (`client_commands`). Costs
    /// about 300 log lines a connection; turn off for timing.
    pub wire_log: bool,
    /// A directory with ca.pem, good.pem, good.key (tests/servers/make_certs.sh); `None`:
    /// the instance makes its own (about 0.3 s more).
    pub certs: Option<PathBuf>,
    /// Extra main.cf lines, `"name = value"`.
    pub main_cf: Vec<String>,
    /// The reference chain (tests/reference.rs): mail put in with `sendmail -C
    /// <config_directory>` goes through pickup and cleanup and leaves by Postfix's SMTP client
    /// for 127.0.0.1:<port>; nothing is delivered into the Maildirs.
    pub relay: Option<u16>,
    /// Leave the directory behind (its path goes to stderr).
    pub keep: bool,
}

impl Default for PostfixOpts {
    fn default() -> Self {
        PostfixOpts {
            users: vec![(USER.into(), PASSWORD.into())],
            mailboxes: Vec::new(),
            domains: Vec::new(),
            catch_all: true,
            sender_login: false,
            owns: Vec::new(),
            recipient_limit: None,
            connection_limit: None,
            idle_timeout: None,
            message_size_limit: None,
            chunking: true,
            wire_log: true,
            certs: None,
            main_cf: Vec::new(),
            relay: None,
            keep: false,
        }
    }
}

impl PostfixOpts {
    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec!["--lifetime".into(), "600".into()];
        let mut flag = |name: &str, value: String| {
            a.push(name.into());
            a.push(value);
        };
        for (login, password) in &self.users {
            flag("--user", format!("{login}:{password}"));
        }
        for m in &self.mailboxes {
            flag("--mailbox", m.clone());
        }
        for d in &self.domains {
            flag("--domain", d.clone());
        }
        for (login, address) in &self.owns {
            flag("--owns", format!("{login}:{address}"));
        }
        if let Some(n) = self.recipient_limit {
            flag("--recipient-limit", n.to_string());
        }
        if let Some(n) = self.connection_limit {
            flag("--connection-limit", n.to_string());
        }
        if let Some(t) = self.idle_timeout {
            flag("--timeout", format!("{}s", t.as_secs().max(1)));
        }
        if let Some(n) = self.message_size_limit {
            flag("--message-size-limit", n.to_string());
        }
        if let Some(c) = &self.certs {
            flag("--certs", c.to_string_lossy().into_owned());
        }
        if let Some(port) = self.relay {
            flag("--relay", port.to_string());
        }
        for line in &self.main_cf {
            flag("--main", line.clone());
        }
        let switches = [
            (!self.catch_all, "--no-catch-all"),
            (self.sender_login, "--sender-login"),
            (!self.chunking, "--no-chunking"),
            (!self.wire_log, "--no-wire-log"),
            (self.keep, "--keep"),
        ];
        a.extend(
            switches
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, s)| s.to_string()),
        );
        a
    }
}

/// Why an instance cannot run here, if it cannot: not root, or a package missing.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("a private Postfix needs root (postfix -c DIR start)".into());
    }
    for bin in ["/usr/sbin/postfix", "/usr/sbin/saslpasswd2"] {
        if !Path::new(bin).exists() {
            return Some(format!("{bin} missing: run scripts/setup.sh"));
        }
    }
    None
}

/// A running instance; `Drop` stops it (no process stays behind) and removes its directory.
pub struct Postfix {
    child: Child,
    stdin: Option<ChildStdin>,
    pub plain: u16,
    pub submission: u16,
    pub smtps: u16,
    dir: PathBuf,
    maildir: PathBuf,
    log: PathBuf,
    ca: PathBuf,
    master_pid: i32,
    keep: bool,
}

impl Postfix {
    pub fn start(opts: PostfixOpts) -> Postfix {
        if let Some(why) = unavailable() {
            panic!("cannot start Postfix: {why}");
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/postfix.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .args(opts.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {}: {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // stderr: kept for the panic message below, else passed on (the test harness shows it
        // for failing tests only).
        let (err_tx, err_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let _ = err_tx.send(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(r);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(l)) => l,
            other => {
                let _ = child.kill();
                let status = child.wait();
                let err: Vec<String> = err_rx.try_iter().collect();
                panic!(
                    "postfix.py did not say READY (got {other:?}, exit {status:?}); stderr:\n{}",
                    err.join("\n")
                );
            }
        };
        let json = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("postfix.py said {line:?} instead of READY"));
        let ready: serde_json::Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("postfix.py's READY line is not JSON ({e}): {json}"));
        let port = |k: &str| -> u16 {
            ready[k]
                .as_u64()
                .and_then(|v| u16::try_from(v).ok())
                .unwrap_or_else(|| panic!("no port {k} in {json}"))
        };
        let path = |k: &str| -> PathBuf {
            PathBuf::from(
                ready[k]
                    .as_str()
                    .unwrap_or_else(|| panic!("no {k} in {json}")),
            )
        };
        Postfix {
            plain: port("plain"),
            submission: port("submission"),
            smtps: port("smtps"),
            dir: path("dir"),
            maildir: path("maildir"),
            log: path("log"),
            ca: path("ca"),
            master_pid: ready["master_pid"]
                .as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0),
            keep: opts.keep,
            stdin: child.stdin.take(),
            child,
        }
    }

    /// The test CA's certificate (PEM): what the client must trust (`smtp.cafile`).
    pub fn ca_file(&self) -> String {
        self.ca.to_string_lossy().into_owned()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The instance's config_directory (`sendmail -C`, `postqueue -c`).
    pub fn config_directory(&self) -> PathBuf {
        self.dir.join("conf")
    }

    /// No message waits in the queue (maildrop, incoming, active, deferred, hold): what was
    /// submitted has been delivered, relayed or bounced.
    pub fn queue_empty(&self) -> bool {
        fn no_file(dir: &Path) -> bool {
            // deferred/ holds its files in hashed subdirectories.
            entries(dir).iter().all(|p| p.is_dir() && no_file(p))
        }
        ["maildrop", "incoming", "active", "deferred", "hold"]
            .iter()
            .all(|q| no_file(&self.dir.join("queue").join(q)))
    }

    /// The Maildir base: `<domain>/<localpart>/new/` for named mailboxes, `<domain>/_catchall/new/`
    /// for every other recipient.
    pub fn maildir(&self) -> &Path {
        &self.maildir
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The instance's maillog so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The delivered files so far, oldest first.
    pub fn delivered(&self) -> Vec<Delivered> {
        let mut found = Vec::new();
        for domain in read_dirs(&self.maildir) {
            for mailbox in read_dirs(&domain) {
                for file in read_files(&mailbox.join("new")) {
                    if let Ok(bytes) = fs::read(&file) {
                        let name = format!("{}/{}", file_name(&domain), file_name(&mailbox));
                        found.push(Delivered::parse(file, name, bytes));
                    }
                }
            }
        }
        found.sort_by_key(|d| (maildir_time(&d.path), d.path.clone()));
        found
    }

    /// Waits until at least `n` files are delivered and returns all of them, oldest first.
    pub fn wait_delivered(&self, n: usize) -> Vec<Delivered> {
        let end = Instant::now() + WAIT;
        loop {
            let d = self.delivered();
            if d.len() >= n {
                return d;
            }
            if Instant::now() >= end {
                panic!(
                    "expected {n} delivered file(s), have {}; log tail:\n{}",
                    d.len(),
                    self.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The smtpd connections in the log, in the order they were opened (all ports together).
    pub fn connections(&self) -> Vec<Connection> {
        parse_connections(&self.log())
    }

    /// The lines the client sent on connection `conn` (1-based, counted over all ports in
    /// the order of connecting): commands as sent (`BDAT 1234 LAST`, `AUTH PLAIN <base64>`)
    /// and AUTH continuation lines, no message data. Waits until Postfix has logged the
    /// connection's end (or `WAIT` has passed). Needs `wire_log` (the default).
    pub fn client_commands(&self, conn: usize) -> Vec<String> {
        self.wait_connection(conn).commands
    }

    /// Connection `conn` (1-based) once closed, or as it is after `WAIT`.
    pub fn wait_connection(&self, conn: usize) -> Connection {
        assert!(conn >= 1, "connections count from 1");
        let end = Instant::now() + WAIT;
        loop {
            let mut all = self.connections();
            let closed = all.get(conn - 1).is_some_and(|c| c.summary.is_some());
            if closed || Instant::now() >= end {
                if all.len() < conn {
                    panic!(
                        "the log shows {} connection(s), not {conn}; log tail:\n{}",
                        all.len(),
                        self.log_tail(30)
                    );
                }
                return all.swap_remove(conn - 1);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the log satisfies `pred`; returns it (panics after `WAIT`).
    pub fn wait_log(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + WAIT;
        loop {
            let log = self.log();
            if pred(&log) {
                return log;
            }
            if Instant::now() >= end {
                panic!("the log never showed {what}; tail:\n{}", self.log_tail(30));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        // The script stops Postfix when its stdin closes or on SIGTERM.
        drop(self.stdin.take());
        // SAFETY: kill() with our own child's pid; a stale pid at worst gets ESRCH.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let end = Instant::now() + Duration::from_secs(15);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Hard fallback: the script hangs. Kill it and the instance's process group (the
        // master calls setsid(), so its pid is the group of all its daemons).
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.master_pid > 1 {
            // SAFETY: signals only the process group our own instance's master leads.
            unsafe {
                libc::kill(-self.master_pid, libc::SIGKILL);
            }
        }
        if !self.keep {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delivered files

/// One file virtual(8) delivered: one recipient of one message.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub path: PathBuf,
    /// `<domain>/<localpart>` (lower case), or `<domain>/_catchall`.
    pub mailbox: String,
    /// The recipient as the client sent it in RCPT TO (Postfix's `Delivered-To:`).
    pub recipient: String,
    /// The envelope sender without brackets (`""` for `MAIL FROM:<>`), from `Return-Path:`.
    pub return_path: String,
    /// The whole file: Postfix's `Return-Path`, `X-Original-To`, `Delivered-To` and
    /// `Received` headers, then the message. Line ends are LF (Postfix stores lines, and
    /// writes them back with LF).
    pub bytes: Vec<u8>,
    /// Where the message as the client sent it begins in `bytes`.
    message_start: usize,
}

impl Delivered {
    /// Postfix puts `Return-Path`, `X-Original-To`, `Delivered-To` and then its own
    /// `Received` header (with continuation lines) in front of the message.
    pub fn parse(path: PathBuf, mailbox: String, bytes: Vec<u8>) -> Delivered {
        let mut return_path = String::new();
        let mut recipient = String::new();
        let mut pos = 0;
        let mut in_received = false;
        while pos < bytes.len() {
            let end = bytes[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| pos + i + 1);
            let line = String::from_utf8_lossy(&bytes[pos..end]);
            let line = line.trim_end_matches('\n');
            let continuation = line.starts_with(' ') || line.starts_with('\t');
            if in_received && !continuation {
                break;
            }
            if let Some(v) = line.strip_prefix("Return-Path: ") {
                return_path = v.trim_start_matches('<').trim_end_matches('>').into();
            } else if let Some(v) = line.strip_prefix("Delivered-To: ") {
                recipient = v.into();
            } else if line.starts_with("Received: ") {
                in_received = true;
            } else if !in_received && !line.starts_with("X-Original-To: ") {
                break;
            }
            pos = end;
        }
        Delivered {
            path,
            mailbox,
            recipient,
            return_path,
            bytes,
            message_start: pos,
        }
    }

    /// The message as the client sent it, after Postfix's own headers (LF line ends).
    pub fn message(&self) -> &[u8] {
        &self.bytes[self.message_start..]
    }

    /// Postfix's headers in front of the message (Return-Path ... Received).
    pub fn postfix_headers(&self) -> &[u8] {
        &self.bytes[..self.message_start]
    }
}

// ---------------------------------------------------------------------------------------------
// The wire log

/// One smtpd connection as the log shows it (with `wire_log`).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `plain`, `submission` or `smtps`.
    pub service: String,
    pub pid: u32,
    /// Lines the client sent (commands and AUTH continuation lines).
    pub commands: Vec<String>,
    /// Reply lines the server sent, one per line of a multi-line reply.
    pub replies: Vec<String>,
    /// The counters of Postfix's "disconnect from" line (`ehlo=1 mail=1 ... commands=5`), once
    /// the connection is closed.
    pub summary: Option<String>,
}

/// Lines look like `Dec  2 01:15:23 localhost postfix-X/plain/smtpd[26619]: < localhost[127.0.0.1]: EHLO a`.
pub fn parse_connections(log: &str) -> Vec<Connection> {
    let mut conns: Vec<Connection> = Vec::new();
    // pid -> (index in conns, client as "name[addr]")
    let mut open: Vec<(u32, usize, String)> = Vec::new();
    for line in log.lines() {
        let Some(at) = line.find("/smtpd[") else {
            continue;
        };
        let prog_start = line[..at].rfind(' ').map_or(0, |i| i + 1);
        let service = line[prog_start..at].rsplit('/').next().unwrap_or("");
        let rest = &line[at + "/smtpd[".len()..];
        let Some((pid, text)) = rest.split_once("]: ") else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if let Some(client) = text.strip_prefix("connect from ") {
            open.retain(|(p, _, _)| *p != pid);
            open.push((pid, conns.len(), client.to_string()));
            conns.push(Connection {
                service: service.to_string(),
                pid,
                ..Default::default()
            });
            continue;
        }
        let Some(slot) = open.iter().position(|(p, _, _)| *p == pid) else {
            continue;
        };
        let (_, idx, client) = &open[slot];
        let c = &mut conns[*idx];
        if let Some(rest) = text.strip_prefix("disconnect from ") {
            c.summary = Some(rest.split_once(' ').map_or("", |(_, s)| s).to_string());
            open.remove(slot);
        } else if let Some(cmd) = text
            .strip_prefix("< ")
            .and_then(|t| t.strip_prefix(client.as_str()))
            .and_then(|t| t.strip_prefix(": "))
        {
            c.commands.push(cmd.to_string());
        } else if let Some(reply) = text
            .strip_prefix("> ")
            .and_then(|t| t.strip_prefix(client.as_str()))
            .and_then(|t| t.strip_prefix(": "))
        {
            c.replies.push(reply.to_string());
        }
    }
    conns
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    entries(dir).into_iter().filter(|p| p.is_dir()).collect()
}

fn read_files(dir: &Path) -> Vec<PathBuf> {
    entries(dir)
        .into_iter()
        .filter(|p| p.is_file() && !file_name(p).starts_with('.'))
        .collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Delivery time of a Maildir file: its name is `<seconds>.V<dev>I<inode>M<microseconds>.<host>`.
fn maildir_time(p: &Path) -> (u64, u64) {
    let name = file_name(p);
    let secs = name.split('.').next().and_then(|s| s.parse().ok());
    let micros = name
        .split_once('M')
        .and_then(|(_, r)| r.split('.').next())
        .and_then(|s| s.parse().ok());
    match (secs, micros) {
        (Some(s), Some(u)) => (s, u),
        _ => fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or((0, 0), |d| (d.as_secs(), u64::from(d.subsec_micros()))),
    }
}
