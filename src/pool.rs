//! The per-worker connection pool: one kept SMTP connection per server and account, reused
//! across requests of the same PHP worker process.
//!
//! Created lazily on the first send, never at module startup: PHP-FPM forks its workers after
//! startup, and a socket made before the fork would be shared by every child. A change of
//! process id (a fork after use, e.g. `pcntl_fork()`) empties the pool in the child. Idle
//! limits are checked when a connection is taken out; the one background thread (`reaper`)
//! exists only while a connection idles in an `smtp.max_connections` slot.
//!
//! A kept connection is reused only when it is cheap and safe: nothing arrived on it while it
//! was idle (checked without blocking), and, when it has been idle a while, it answers NOOP
//! within a short time of its own. Otherwise a new connection is opened, with the full step
//! timeout, within what is left of the call's time.

use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use crate::config::{AuthMode, Settings, StartTls};
use crate::error::{Error, Limit, Outcome, Reply, Result, Stage};
use crate::message::Prepared;
use crate::slots::{self, SlotKey};
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
    /// The `smtp.max_connections` slot files of this server and account.
    slot: SlotKey,
}

impl Key {
    fn of(s: &Settings) -> Key {
        Key {
            host: s.host.to_ascii_lowercase(),
            port: s.port,
            implicit_tls: s.implicit_tls,
            auth: s.auth,
            username: s.username.clone(),
            secret: match (&s.oauth, s.auth) {
                (_, AuthMode::Off) => [0; 16],
                // The token changes; the account it stands for does not.
                (Some(o), _) => crate::config::Secret::new(format!(
                    "{}\0{}\0{}\0{}\0{:?}\0{:?}\0{:?}\0{}",
                    o.provider.name(),
                    o.tenant,
                    o.client_id,
                    o.client_secret.expose(),
                    o.key_file,
                    o.scope,
                    o.token_url,
                    s.password.expose()
                ))
                .fingerprint(),
                (None, _) => s.password.fingerprint(),
            },
            localhost: s.localhost.clone(),
            cafile: s.cafile.clone(),
            starttls: s.starttls,
            verify_peer: s.verify_peer,
            slot: SlotKey::of(s),
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
    /// The server that took the last message.
    last_server: Option<String>,
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
        last_server: None,
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
        pool.last_server = None;
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
    let slotted = conn.holds_slot();
    with_pool(|p| p.idle.push((key, conn)));
    if slotted {
        start_reaper();
    }
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

/// Sends one message: to the first server of `smtp.host` that takes it (failover), on a kept
/// connection when there is a healthy one.
pub fn send(s: &Settings, msg: &Prepared) -> Result<()> {
    forget_after_fork();
    let budget = Budget::new(s.timeout, s.max_time);
    let result = send_anywhere(s, msg, &budget);
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

/// The server that took the last message (`host:port`), for `smtp_stats()` and phpinfo.
pub fn last_server() -> Option<String> {
    forget_after_fork();
    with_pool(|p| p.last_server.clone())
}

/// The first wait before trying again after "too many connections"; it doubles each time.
const LIMIT_BACKOFF: Duration = Duration::from_millis(50);

/// Tries the servers in order; a server that is down, or that says this machine has too many
/// connections, passes the message to the next. When every server refused for too many
/// connections, waits (50 ms, doubling, jittered) and goes round again within the call's time.
fn send_anywhere(s: &Settings, msg: &Prepared, budget: &Budget) -> Result<()> {
    let started = Instant::now();
    // Without smtp.max_time, waiting for a free connection is bounded by smtp.timeout.
    let window = s.max_time.unwrap_or(s.timeout);
    let mut wait = LIMIT_BACKOFF;
    let mut limits = LimitRefusals::default();
    loop {
        let mut last: Option<Error> = None;
        let mut all_limits = true;
        for (i, server) in s.servers.iter().enumerate() {
            let on = s.on(server);
            let on = if s.servers.len() == 1 { s } else { &on };
            match send_to(on, msg, budget) {
                Ok(()) => {
                    let endpoint = on.endpoint();
                    with_pool(|p| p.last_server = Some(endpoint));
                    return Ok(());
                }
                Err(e) if e.fails_over() && !budget.exhausted() => {
                    if e.is_connection_limit() {
                        limits.saw(&e, &on.host);
                    } else {
                        all_limits = false;
                    }
                    if i + 1 < s.servers.len() {
                        log::debug!(
                            "{} failed ({e}); trying {}",
                            on.endpoint(),
                            s.servers[i + 1].host
                        );
                    }
                    last = Some(e);
                }
                Err(e) => {
                    limits.saw(&e, &on.host);
                    return Err(limits.explain(e));
                }
            }
        }
        let e = last.expect("at least one server");
        let pause = jitter(wait);
        if !all_limits || started.elapsed() + pause >= window || budget.exhausted() {
            return Err(limits.explain(e));
        }
        std::thread::sleep(pause);
        wait *= 2;
    }
}

/// The "too many connections" refusals of one call: how many, and the last one.
#[derive(Default)]
struct LimitRefusals {
    tries: u32,
    last: Option<(Reply, String)>,
}

impl LimitRefusals {
    fn saw(&mut self, e: &Error, host: &str) {
        if let Error::Rejected { reply, .. } = e {
            if e.is_connection_limit() {
                self.tries += 1;
                self.last = Some((reply.clone(), host.to_string()));
            }
        }
    }

    /// The error the call ends with. After connection-limit refusals, a failure that only
    /// says the call's time ran out (a connect or a greeting cut short by smtp.max_time) is
    /// reported as the limit it was waiting out, with the server's words and the fixes.
    fn explain(self, e: Error) -> Error {
        let ran_out = matches!(
            e,
            Error::Timeout {
                limit: Limit::Total(_),
                ..
            }
        );
        match self.last {
            Some((reply, host)) if e.is_connection_limit() || ran_out => Error::ConnectionLimit {
                reply,
                host,
                tries: self.tries,
            },
            _ => e,
        }
    }
}

/// Between half and one and a half times `d`, so that workers refused together do not all come
/// back together.
fn jitter(d: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    d / 2 + d * u32::from(byte[0]) / 255
}

/// One server: a kept connection when there is a healthy one, else a new one.
fn send_to(s: &Settings, msg: &Prepared, budget: &Budget) -> Result<()> {
    let key = Key::of(s);
    if s.pool.enabled {
        if let Some(mut conn) = take(&key, s) {
            conn.apply(s);
            conn.facts = remembered(&key);
            if still_good(&mut conn, s, budget) {
                let before = (conn.messages, conn.facts);
                match conn.send(msg, budget) {
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
    let mut result = on_a_new_connection(s, &key, msg, budget);
    if let Err((e, true)) = &result {
        log::debug!("the server refused BDAT ({e}); sending the message again with DATA");
        count(|st| st.retries += 1);
        result = on_a_new_connection(s, &key, msg, budget);
    }
    result.map_err(|(e, _)| e)
}

/// Opens a connection (in a free `smtp.max_connections` slot) and sends; the error says, with
/// `true`, that the server refused BDAT itself before the message could be accepted (then DATA
/// may go on another connection).
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
    let slot = match s.max_connections {
        0 => None,
        max => Some(slots::acquire(&key.slot, s, max, budget).map_err(|e| (e, false))?),
    };
    let mut conn = Connection::open(s, budget).map_err(|e| (e, false))?;
    count(|st| st.connections_opened += 1);
    if let Some(slot) = slot {
        conn.hold(slot);
    }
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

// ---------------------------------------------------------------------------------------------
// Idle connections in a slot

/// How often the reaper looks whether another process waits for a slot.
const REAP_EVERY: Duration = Duration::from_millis(50);

/// The process whose reaper thread runs (0: none). A forked child has no such thread.
static REAPER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// With `smtp.max_connections`, a kept connection holds a slot while it idles. A worker idle
/// between requests runs no code of ours, so a small thread does the looking: when another
/// process waits for a slot of the same server, the idle connection is closed (QUIT) and its
/// slot freed, within about `REAP_EVERY`. It runs only while such connections exist, and never
/// calls into PHP.
fn start_reaper() {
    let pid = std::process::id();
    if REAPER.swap(pid, std::sync::atomic::Ordering::SeqCst) == pid {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("smtp-reaper".into())
        .spawn(|| loop {
            std::thread::sleep(REAP_EVERY);
            let (wanted, left) = with_pool(|p| {
                let mut wanted = Vec::new();
                let mut i = 0;
                while i < p.idle.len() {
                    let (key, conn) = &p.idle[i];
                    if conn.holds_slot() && slots::someone_waits(&key.slot) {
                        wanted.push(p.idle.swap_remove(i).1);
                    } else {
                        i += 1;
                    }
                }
                let left = p.idle.iter().any(|(_, c)| c.holds_slot());
                (wanted, left)
            });
            for mut conn in wanted {
                conn.quiet();
                conn.quit();
            }
            if !left {
                REAPER.store(0, std::sync::atomic::Ordering::SeqCst);
                // Connections put back meanwhile start a new reaper.
                if with_pool(|p| p.idle.iter().any(|(_, c)| c.holds_slot())) {
                    start_reaper();
                }
                return;
            }
        });
    if spawned.is_err() {
        REAPER.store(0, std::sync::atomic::Ordering::SeqCst);
    }
}
