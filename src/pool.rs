//! The per-worker connection pool: one kept SMTP connection per server and account, reused
//! across requests of the same PHP worker process.
//!
//! Created lazily on the first send, never at module startup: PHP-FPM forks its workers after
//! startup, and a socket made before the fork would be shared by every child. A change of
//! process id (a fork after use, e.g. `pcntl_fork()`) empties the pool in the child. No
//! background thread: idle limits are checked when a connection is taken out.

use std::time::Instant;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::config::{AuthMode, Settings};
use crate::error::{Error, Result, Stage};
use crate::message::Prepared;
use crate::transport::{Connection, Deadline};

/// Connections to different servers or accounts never mix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    host: String,
    port: u16,
    implicit_tls: bool,
    auth: AuthMode,
    username: String,
    localhost: String,
    cafile: Option<std::path::PathBuf>,
    starttls: crate::config::StartTls,
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
    pub failures: u64,
}

struct Pool {
    pid: u32,
    idle: Vec<(Key, Connection)>,
    stats: Stats,
}

/// Under ZTS several threads share the pool: a connection taken out is theirs alone until
/// put back, so the lock is held only for the bookkeeping, never during network I/O.
static POOL: Lazy<Mutex<Pool>> = Lazy::new(|| {
    Mutex::new(Pool {
        pid: std::process::id(),
        idle: Vec::new(),
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
    if conn.broken {
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

fn count(f: impl FnOnce(&mut Stats)) {
    with_pool(|p| f(&mut p.stats));
}

/// A failure on a reused connection that happened before the server could have accepted the
/// message may be retried on a new connection without risk of a duplicate.
fn retry_is_safe(e: &Error, sent_before: u32, conn: &Connection) -> bool {
    conn.messages == sent_before
        && e.connection_broken()
        && matches!(
            e.stage(),
            Some(Stage::MailFrom | Stage::RcptTo | Stage::Data | Stage::Reset)
        )
}

/// Sends one message, on the kept connection when there is a healthy one.
pub fn send(s: &Settings, msg: &Prepared) -> Result<()> {
    forget_after_fork();
    let result = send_inner(s, msg);
    count(|st| match &result {
        Ok(()) => st.messages_sent += 1,
        Err(_) => st.failures += 1,
    });
    result
}

fn send_inner(s: &Settings, msg: &Prepared) -> Result<()> {
    let deadline = Deadline::after(s.timeout);
    let key = Key::of(s);
    if s.pool.enabled {
        if let Some(mut conn) = take(&key, s) {
            conn.set_debug(s.debug);
            // A connection used moments ago is trusted without a round trip; an older one is
            // checked first, since servers drop idle clients without telling them.
            let fresh = conn.last_used.elapsed() <= s.pool.ping_after;
            if fresh || conn.noop(deadline).is_ok() {
                let before = conn.messages;
                match conn.send(msg, deadline) {
                    Ok(()) => {
                        count(|st| st.connections_reused += 1);
                        put_back(key, conn, s);
                        return Ok(());
                    }
                    Err(e) if retry_is_safe(&e, before, &conn) => {
                        log::debug!("kept connection failed before the message was accepted ({e}); retrying on a new one");
                        count(|st| st.retries += 1);
                    }
                    Err(e) => {
                        put_back(key, conn, s);
                        return Err(e);
                    }
                }
            }
        }
    }
    let mut conn = Connection::open(s, deadline)?;
    count(|st| st.connections_opened += 1);
    let result = conn.send(msg, deadline);
    conn.last_used = Instant::now();
    put_back(key, conn, s);
    result
}
