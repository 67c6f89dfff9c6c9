//! The per-worker connection pool: one kept SMTP connection per server and account, reused
//! across requests of the same PHP worker process.
//!
//! Created lazily on the first send, never at module startup: PHP-FPM forks its workers after
//! startup, and a socket made before the fork would be shared by every child. A change of
//! process id (a fork after use, e.g. `pcntl_fork()`) empties the pool in the child. No
//! background thread: idle limits are checked when a connection is taken out.
//!
//! A kept connection is reused only when it is cheap and safe: nothing arrived on it while it
//! was idle (checked without blocking), and, when it has been idle a while, it answers NOOP
//! within a short time of its own. Otherwise a new connection is opened, with the full step
//! timeout, within what is left of the call's time.

use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::config::{AuthMode, Settings, StartTls};
use crate::error::{Error, Limit, Outcome, Result, Stage};
use crate::message::Prepared;
use crate::transport::{Budget, Connection, Facts, Idle};

/// The longest a kept connection's NOOP may take before we give up on it and connect anew.
const NOOP_LIMIT: Duration = Duration::from_secs(2);

/// Connections to different servers or accounts never mix; a changed password is another
/// account (the key holds a fingerprint of it, never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    host: String,
    port: u16,
    implicit_tls: bool,
    auth: AuthMode,
    username: String,
    secret: [u8; 16],
    localhost: String,
    cafile: Option<std::path::PathBuf>,
    starttls: StartTls,
    verify_peer: bool,
}

impl Key {
    fn of(s: &Settings) -> Key {
        Key {
            host: s.host.to_ascii_lowercase(),
            port: s.port,
            implicit_tls: s.implicit_tls,
            auth: s.auth,
            username: s.username.clone(),
            secret: if s.auth == AuthMode::Off {
                [0; 16]
            } else {
                s.password.fingerprint()
            },
            localhost: s.localhost.clone(),
            cafile: s.cafile.clone(),
            starttls: s.starttls,
            verify_peer: s.verify_peer,
        }
    }
}

/// Counters shown by phpinfo() and `smtp_stats()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections_opened: u64,
    pub connections_reused: u64,
    pub retries: u64,
    pub messages_sent: u64,
    /// Sends that failed with nothing delivered.
    pub failures: u64,
    /// Sends whose message was written but got no final reply: maybe delivered.
    pub unknown: u64,
    /// Sends that reached some recipients and not others.
    pub partial: u64,
}

struct Pool {
    pid: u32,
    idle: Vec<(Key, Connection)>,
    /// What earlier connections learnt about each server.
    facts: Vec<(Key, Facts)>,
    stats: Stats,
}

/// Under ZTS several threads share the pool: a connection taken out is theirs alone until
/// put back, so the lock is held only for the bookkeeping, never during network I/O.
static POOL: Lazy<Mutex<Pool>> = Lazy::new(|| {
    Mutex::new(Pool {
        pid: std::process::id(),
        idle: Vec::new(),
        facts: Vec::new(),
        stats: Stats::default(),
    })
});

fn with_pool<T>(f: impl FnOnce(&mut Pool) -> T) -> T {
    f(&mut POOL.lock())
}

/// Forgets the parent's connections in a forked child. getpid() is a syscall, so this runs
/// once per send (and for the counters), not on every use of the pool.
fn forget_after_fork() {
    let mut pool = POOL.lock();
    let pid = std::process::id();
    if pool.pid != pid {
        // We are a forked child: the sockets belong to the parent. Dropping our copies only
        // closes this process's descriptors (no QUIT, no TLS close_notify), so the parent's
        // connections stay intact.
        pool.idle.clear();
        pool.facts.clear();
        pool.stats = Stats::default();
        pool.pid = pid;
    }
}

pub fn stats() -> Stats {
    forget_after_fork();
    with_pool(|p| p.stats)
}

/// Closes every kept connection politely (module shutdown).
pub fn shutdown() {
    // A forked child that never sent must not QUIT its parent's connections.
    forget_after_fork();
    let idle = with_pool(|p| std::mem::take(&mut p.idle));
    for (_, conn) in idle {
        conn.quit();
    }
}

fn take(key: &Key, s: &Settings) -> Option<Connection> {
    with_pool(|p| {
        // Past the idle limit (below common server limits): close rather than find a dead
        // socket mid-send. Dropping only closes the descriptor; it never blocks.
        p.idle
            .retain(|(_, c)| c.last_used.elapsed() <= s.pool.idle_timeout);
        let found = p.idle.iter().position(|(k, _)| k == key)?;
        Some(p.idle.swap_remove(found).1)
    })
}

fn put_back(key: Key, conn: Connection, s: &Settings) {
    with_pool(|p| match p.facts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, f)) => *f = conn.facts,
        None => p.facts.push((key.clone(), conn.facts)),
    });
    if !conn.is_reusable() {
        // Out of step with the server (perhaps mid-DATA), or already closed: a QUIT would be
        // message data or wasted waiting. Closing the socket ends it.
        return;
    }
    if !s.pool.enabled || conn.messages >= s.pool.max_messages {
        conn.quit();
        return;
    }
    with_pool(|p| p.idle.push((key, conn)));
}

fn remembered(key: &Key) -> Facts {
    with_pool(|p| {
        p.facts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| *f)
            .unwrap_or_default()
    })
}

fn count(f: impl FnOnce(&mut Stats)) {
    with_pool(|p| f(&mut p.stats));
}

/// Whether a kept connection can take the next message: nothing arrived while it was idle,
/// and, after `ping_after`, it answers NOOP within its own short limit.
fn still_good(conn: &mut Connection, s: &Settings, budget: &Budget) -> bool {
    match conn.idle_state() {
        Idle::Quiet => {}
        Idle::Input => {
            log::debug!("the server sent something on the kept connection while it was idle; opening a new one");
            return false;
        }
        Idle::Closed => {
            log::debug!("the server closed the kept connection; opening a new one");
            return false;
        }
    }
    if conn.last_used.elapsed() <= s.pool.ping_after {
        return true;
    }
    match conn.noop(&budget.with_step(NOOP_LIMIT)) {
        Ok(()) => true,
        Err(e) => {
            log::debug!("the kept connection failed its check ({e}); opening a new one");
            false
        }
    }
}

/// A failure on a reused connection that happened before the server could have accepted the
/// message: retrying on a new connection cannot duplicate it.
fn retry_is_safe(e: &Error, sent_before: u32, conn: &Connection) -> bool {
    let connection_failed = match e {
        Error::Rejected { reply, .. } => reply.code == 421,
        Error::Timeout { .. }
        | Error::Closed { .. }
        | Error::Io { .. }
        | Error::Protocol { .. } => true,
        _ => false,
    };
    conn.messages == sent_before
        && e.outcome() == Outcome::NotSent
        && !conn.is_reusable()
        && connection_failed
        && matches!(
            e.stage(),
            Some(Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Message | Stage::Reset)
        )
}

/// Sends one message, on the kept connection when there is a healthy one.
pub fn send(s: &Settings, msg: &Prepared) -> Result<()> {
    forget_after_fork();
    let result = send_inner(s, msg);
    count(|st| match &result {
        Ok(()) => st.messages_sent += 1,
        Err(e) => match e.outcome() {
            Outcome::NotSent => st.failures += 1,
            Outcome::Unknown => st.unknown += 1,
            Outcome::Partial => st.partial += 1,
        },
    });
    result
}

fn send_inner(s: &Settings, msg: &Prepared) -> Result<()> {
    let budget = Budget::new(s.timeout, s.max_time);
    let key = Key::of(s);
    if s.pool.enabled {
        if let Some(mut conn) = take(&key, s) {
            conn.apply(s);
            conn.facts = remembered(&key);
            if still_good(&mut conn, s, &budget) {
                let before = (conn.messages, conn.facts);
                match conn.send(msg, &budget) {
                    Ok(()) => {
                        count(|st| st.connections_reused += 1);
                        put_back(key, conn, s);
                        return Ok(());
                    }
                    Err(e) if retry_is_safe(&e, before.0, &conn) => {
                        log::debug!("the kept connection failed before the message could have been accepted ({e}); retrying on a new one");
                        count(|st| st.retries += 1);
                    }
                    Err(e) if refused_bdat(&e, before, &conn) => {
                        count(|st| st.retries += 1);
                        put_back(key.clone(), conn, s);
                    }
                    Err(e) => {
                        put_back(key, conn, s);
                        return Err(e);
                    }
                }
            }
        }
    }
    let mut result = on_a_new_connection(s, &key, msg, &budget);
    if let Err((e, true)) = &result {
        log::debug!("the server refused BDAT ({e}); sending the message again with DATA");
        count(|st| st.retries += 1);
        result = on_a_new_connection(s, &key, msg, &budget);
    }
    result.map_err(|(e, _)| e)
}

/// Opens a connection and sends; the error says, with `true`, that the server refused BDAT
/// itself before the message could be accepted (then DATA may go on another connection).
fn on_a_new_connection(
    s: &Settings,
    key: &Key,
    msg: &Prepared,
    budget: &Budget,
) -> std::result::Result<(), (Error, bool)> {
    if budget.exhausted() {
        return Err((
            Error::Timeout {
                host: s.host.clone(),
                port: s.port,
                stage: Stage::Connect,
                limit: Limit::Total(s.max_time.unwrap_or_default()),
            },
            false,
        ));
    }
    let mut conn = Connection::open(s, budget).map_err(|e| (e, false))?;
    count(|st| st.connections_opened += 1);
    conn.facts = remembered(key);
    let before = (conn.messages, conn.facts);
    let result = conn.send(msg, budget);
    conn.last_used = Instant::now();
    let bdat = matches!(&result, Err(e) if refused_bdat(e, before, &conn));
    put_back(key.clone(), conn, s);
    result.map_err(|e| (e, bdat))
}

/// The server refused BDAT itself during this send (it learnt `no_chunking` just now) and
/// nothing went out before: the message may go again with DATA on a new connection.
fn refused_bdat(e: &Error, before: (u32, Facts), conn: &Connection) -> bool {
    !before.1.no_chunking
        && conn.facts.no_chunking
        && conn.messages == before.0
        && e.outcome() == Outcome::NotSent
}
