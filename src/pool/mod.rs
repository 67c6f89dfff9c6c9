//! The per-worker connection pool: kept SMTP connections, reused across requests of the same PHP
//! worker (a process, or under thread-safe PHP a thread), each with the `smtp.max_connections`
//! slot it holds.
//!
//! - `cache`: the kept connections, at most `smtp.pool_size` (least recently used goes first),
//!   each until `smtp.pool_idle_timeout`;
//! - `attempt`: one server, on a kept connection when there is a healthy one, else a new one;
//! - `failover`: the servers of `smtp.host` in turn, and waiting out "too many connections";
//! - `slots`: `smtp.max_connections` across processes; `reaper`: gives an idle connection's slot
//!   up when another process waits for it, and under ZTS closes idle connections on time;
//! - `shelf`: which pool a thread uses (the process's one, or under ZTS its own);
//! - `fork`: what a `pcntl_fork()` child inherits, and how it lets go of it.
//! - `rate`: `smtp.max_rate`, each message's turn in one schedule shared by all processes.
//!
//! Created lazily on the first send, never at module startup: PHP-FPM forks its workers after
//! startup, and a socket made before the fork would be shared by every child.
//!
//! One lock guards each pool's bookkeeping, and it is never held across I/O: connections are
//! taken out before they are used and closed only after the lock is let go. Under ZTS each PHP
//! thread has a pool of its own (`shelf`); only the reaper and the fork handlers reach into
//! another thread's pool, and only under its lock.

mod attempt;
mod cache;
mod failover;
mod fork;
pub mod rate;
mod reaper;
mod shelf;
pub mod slots;

pub use shelf::per_thread;

use std::cell::RefCell;
use std::sync::Once;
use std::time::Instant;

use crate::config::{AuthMode, Settings, StartTls};
use crate::error::{Outcome, Result};
use crate::message::Prepared;
use crate::transport::{Budget, Connection, Facts};
use cache::{Cache, Kept};
use slots::Slot;

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
        }
    }

    /// Whether this key's server is `host:port` (whatever the account).
    fn is_server(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
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

const NO_STATS: Stats = Stats {
    connections_opened: 0,
    connections_reused: 0,
    retries: 0,
    messages_sent: 0,
    failures: 0,
    unknown: 0,
    partial: 0,
};

struct Pool {
    /// The fork generation these connections belong to (`fork::generation`).
    generation: u64,
    cache: Cache,
    /// The server that took the last message (`host`, `port`).
    last_server: Option<(String, u16)>,
    /// What earlier connections learnt about each server.
    facts: Vec<(Key, Facts)>,
    /// Per server (`host:port`, whatever the account): the most messages a session of its
    /// carried before the server ended it. Later sessions end (QUIT) once they carried that
    /// many, before the server would refuse the next MAIL.
    session_limits: Vec<(String, u16, u32)>,
    stats: Stats,
}

impl Pool {
    const fn new(generation: u64) -> Pool {
        Pool {
            generation,
            cache: Cache::new(),
            last_server: None,
            facts: Vec::new(),
            session_limits: Vec::new(),
            stats: NO_STATS,
        }
    }

    /// In a forked child, the parent's pool: taken out, to be dropped after the lock is let go.
    fn inherited(&mut self) -> Option<Pool> {
        let now = fork::generation();
        (self.generation != now).then(|| std::mem::replace(self, Pool::new(now)))
    }
}

/// Runs `f` on the calling thread's pool under its lock. `f` does bookkeeping only; what it
/// takes out is closed by the caller, after the lock is let go. (A slot file closed under the
/// lock would also wait for a fork under way, whose prepare handler waits for this lock: a
/// deadlock.)
///
/// The locks are std mutexes, not parking_lot's: in a forked child an unlock is one atomic
/// store (and a futex wake that finds nobody), where parking_lot's may need its global table of
/// parked threads, which a thread that no longer exists may have held at the fork.
fn with_pool<T>(f: impl FnOnce(&mut Pool) -> T) -> T {
    on_shelf(shelf::mine(), f)
}

/// `with_pool` on a given pool (the reaper and shutdown visit every thread's).
fn on_shelf<T>(shelf: &shelf::Shelf, f: impl FnOnce(&mut Pool) -> T) -> T {
    watch_forks();
    let (out, inherited) = {
        let mut pool = shelf.lock();
        let inherited = pool.inherited();
        (f(&mut pool), inherited)
    };
    // We are a forked child: the sockets belong to the parent. Dropping our copies only
    // closes this process's descriptors (no QUIT, no TLS close_notify), so the parent's
    // connections stay intact; the slot files were closed by the fork handler already.
    drop(inherited);
    out
}

thread_local! {
    /// Every pool's lock, held by the forking thread from the prepare handler to the end of the
    /// fork, in the parent and in the child.
    static FORK_GUARD: RefCell<Option<shelf::Frozen>> = const { RefCell::new(None) };
}

static WATCH: Once = Once::new();

/// Registers the fork handlers, once per process (a child inherits them).
fn watch_forks() {
    WATCH.call_once(|| {
        if !crate::sys::atfork(before_fork, after_fork_parent, after_fork_child) {
            log::debug!("pthread_atfork failed: a forked child may keep slot files open");
        }
    });
}

/// Before fork(), in the forking thread: no slot file is being opened or closed, and every
/// pool's lock is ours, so the child's copy of each pool is whole (nobody was half-way through
/// a change) and its lock is held by a thread the child has: this one.
///
/// The forking thread itself never holds the lock here: fork comes from PHP code, and no code
/// of ours runs PHP code (or forks) under the lock. Other threads (the reaper, ZTS requests)
/// hold it only for bookkeeping, never across I/O, so the wait is short.
extern "C" fn before_fork() {
    fork::prepare();
    let frozen = shelf::freeze();
    FORK_GUARD.with(|g| *g.borrow_mut() = Some(frozen));
}

extern "C" fn after_fork_parent() {
    FORK_GUARD.with(|g| g.borrow_mut().take());
    fork::parent();
}

/// In the child, before fork() returns: async-signal-safe work only. The inherited slot
/// descriptors are closed (`fork::child`), the reaper thread is known to be gone, and the lock
/// taken by `before_fork` are let go: std mutex unlocks by the thread that locked them, which
/// is this one (fork copies only the calling thread). Each is an atomic swap plus, if another
/// thread of the parent was waiting, a futex wake that finds nobody; no lock, no I/O, nothing
/// freed (the other threads' pools stay in the list; each forgets its parent's connections
/// at its next use, as the shared one does).
extern "C" fn after_fork_child() {
    fork::child();
    reaper::forget();
    FORK_GUARD.with(|g| {
        if let Some(mut frozen) = g.borrow_mut().take() {
            frozen.thaw();
            std::mem::forget(frozen);
        }
    });
}

/// This worker's counters (under ZTS: the calling thread's).
pub fn stats() -> Stats {
    with_pool(|p| p.stats)
}

/// The server that took the last message (`host:port`), for `smtp_stats()` and phpinfo.
pub fn last_server() -> Option<String> {
    with_pool(|p| {
        p.last_server
            .as_ref()
            .map(|(h, port)| format!("{h}:{port}"))
    })
}

/// Closes every kept connection politely (module shutdown), every thread's under ZTS. A forked
/// child that never sent does not QUIT its parent's connections: they are another
/// generation's, and only forgotten.
pub fn shutdown() {
    for s in shelf::all() {
        let kept = on_shelf(s, |p| p.cache.take_all());
        close(kept);
    }
}

/// Sends one message: to the first server of `smtp.host` that takes it (failover), on a kept
/// connection when there is a healthy one.
pub fn send(s: &Settings, msg: &Prepared) -> Result<()> {
    // Past the idle limit (below common server limits), for every server and account: closed
    // rather than found dead mid-send, and never kept open for nothing.
    let expired = with_pool(|p| p.cache.expired(Instant::now()));
    drop(expired);
    let budget = Budget::new(s.timeout, s.max_time);
    let result = failover::send_anywhere(s, msg, &budget);
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

fn count(f: impl FnOnce(&mut Stats)) {
    with_pool(|p| f(&mut p.stats));
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

/// The server of `key` ended a session itself after it carried `messages` (a 421 to the next
/// MAIL, or a close): remembered for this worker, so that later sessions end before that.
///
/// The largest count seen wins: a session that ended early for another reason (a restart, an
/// idle close) must not make every later session short; a limit that really went down costs
/// one safe retry per session, as it did before anything was learnt.
fn learn_session_limit(key: &Key, messages: u32) {
    if messages == 0 {
        return;
    }
    with_pool(|p| {
        match p
            .session_limits
            .iter_mut()
            .find(|(h, port, _)| key.is_server(h, *port))
        {
            Some((_, _, n)) => *n = (*n).max(messages),
            None => p
                .session_limits
                .push((key.host.clone(), key.port, messages)),
        }
    });
    log::debug!(
        "{}:{} ended the session after {messages} messages; later sessions end before that",
        key.host,
        key.port
    );
}

/// After a send: keeps the connection for the next one when it can carry it, else closes it.
fn put_back(key: Key, conn: Connection, slot: Option<Slot>, s: &Settings) {
    let server_limit = with_pool(|p| {
        match p.facts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, f)) => *f = conn.facts,
            None => p.facts.push((key.clone(), conn.facts)),
        }
        p.session_limits
            .iter()
            .find(|(h, port, _)| key.is_server(h, *port))
            .map(|(_, _, n)| *n)
    });
    if !conn.is_reusable() {
        // Out of step with the server (perhaps mid-DATA), or already closed: a QUIT would be
        // message data or wasted waiting. Closing the socket ends it (then the slot is freed).
        drop(conn);
        return;
    }
    let own_limit = (s.pool.max_messages > 0).then_some(s.pool.max_messages);
    let full = [own_limit, server_limit]
        .into_iter()
        .flatten()
        .any(|n| conn.messages >= n);
    if !s.pool.enabled || full {
        quit(conn, slot);
        return;
    }
    let slotted = slot.is_some();
    let kept = Kept {
        key,
        conn,
        slot,
        expires: Instant::now() + s.pool.idle_timeout,
    };
    let evicted = with_pool(|p| p.cache.put(kept, s.pool.size));
    close(evicted);
    // Under ZTS also for connections without a slot: a PHP thread idle between requests (or
    // in FrankenPHP's worker loop) runs no code of ours, yet its connections must not outlive
    // the idle limit.
    if slotted || shelf::is_per_thread() {
        reaper::start();
    }
}

/// Closes kept connections politely.
fn close(kept: Vec<Kept>) {
    for k in kept {
        quit(k.conn, k.slot);
    }
}

/// QUIT; in a slot, the server's close is awaited before the slot goes to another process.
fn quit(conn: Connection, slot: Option<Slot>) {
    match slot {
        Some(slot) => {
            conn.quit_and_await_close();
            drop(slot);
        }
        None => conn.quit(),
    }
}

/// Closes this process's idle connections to `host:port`, whatever the account, after the
/// server refused a new one for too many connections: they are the ones this process can give
/// up. How many there were.
fn close_idle_to(host: &str, port: u16) -> usize {
    let mut idle = with_pool(|p| p.cache.take_server(host, port));
    let n = idle.len();
    // The last one's end is awaited: by then the server has most likely seen the earlier ones
    // go too, and the caller's new connection is counted after them.
    if let Some(last) = idle.pop() {
        for k in idle {
            k.conn.quit();
            drop(k.slot);
        }
        last.conn.quit_and_await_close();
        drop(last.slot);
    }
    n
}
