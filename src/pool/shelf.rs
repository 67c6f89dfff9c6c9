//! Where a thread finds its pool.
//!
//! Non-thread-safe PHP runs one PHP thread per process: the process has one pool (`SHARED`),
//! whatever thread asks. Thread-safe PHP (ZTS: FrankenPHP, Apache's threaded MPMs) runs many
//! long-lived PHP threads in one process; with `per_thread(true)` (module startup under ZTS)
//! each thread claims a pool of its own the first time it asks, so its connections, statistics
//! and learnt server facts are its alone: no connection ever moves between threads, and a
//! thread's `smtp_stats()` counts its own sends. Nothing here relies on request startup or
//! shutdown (FrankenPHP's worker mode runs neither between HTTP requests): a pool lives as long
//! as its thread, and is handed back when the thread ends (its connections closed by then).
//!
//! Pools are leaked boxes, never freed: the reaper and the fork handlers reach every pool
//! through `all()` without a reference count, and a pool handed back by an ended thread is
//! claimed again by the next new one, so there are never more than the most threads that ever
//! sent at once.
//!
//! Lock order: the list (`SHELVES`) before any pool's lock; nothing takes the list while it
//! holds a pool's lock.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::Pool;

pub(super) struct Shelf {
    pub pool: Mutex<Pool>,
    claimed: AtomicBool,
}

impl Shelf {
    const fn new() -> Shelf {
        Shelf {
            pool: Mutex::new(Pool::new(0)),
            claimed: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The process's pool: every thread's under NTS; under ZTS the one a thread uses when it can no
/// longer reach its own (while it is being torn down).
static SHARED: Shelf = Shelf::new();

/// The per-thread pools, claimed or free.
static SHELVES: Mutex<Vec<&'static Shelf>> = Mutex::new(Vec::new());

static PER_THREAD: AtomicBool = AtomicBool::new(false);

/// Under ZTS PHP: each thread gets its own pool from now on. Called at module startup, before
/// any thread sends.
pub fn per_thread(on: bool) {
    PER_THREAD.store(on, SeqCst);
}

pub(super) fn is_per_thread() -> bool {
    PER_THREAD.load(SeqCst)
}

/// This thread's claim on a pool; handing it back closes what it still keeps.
struct Claim(Cell<Option<&'static Shelf>>);

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(shelf) = self.0.take() {
            let kept = {
                let mut pool = shelf.lock();
                let inherited = pool.inherited();
                let kept = pool.cache.take_all();
                *pool = Pool::new(super::fork::generation());
                drop(inherited);
                kept
            };
            shelf.claimed.store(false, SeqCst);
            // Quiet: by now the thread's PHP state may be gone (ZTS hosts free it before the
            // thread ends), so no conversation log may reach PHP's error log from here.
            for mut k in kept {
                k.conn.quiet();
                super::quit(k.conn, k.slot);
            }
        }
    }
}

thread_local! {
    static MINE: Claim = const { Claim(Cell::new(None)) };
}

/// The calling thread's pool.
pub(super) fn mine() -> &'static Shelf {
    if !is_per_thread() {
        return &SHARED;
    }
    MINE.try_with(|c| match c.0.get() {
        Some(s) => s,
        None => {
            let s = claim();
            c.0.set(Some(s));
            s
        }
    })
    .unwrap_or(&SHARED)
}

fn claim() -> &'static Shelf {
    let mut shelves = SHELVES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = shelves.iter().find(|s| {
        s.claimed
            .compare_exchange(false, true, SeqCst, SeqCst)
            .is_ok()
    }) {
        return s;
    }
    let s: &'static Shelf = Box::leak(Box::new(Shelf::new()));
    s.claimed.store(true, SeqCst);
    shelves.push(s);
    s
}

/// Every pool of the process (claimed or not), the shared one first.
pub(super) fn all() -> Vec<&'static Shelf> {
    let shelves = SHELVES.lock().unwrap_or_else(PoisonError::into_inner);
    std::iter::once(&SHARED)
        .chain(shelves.iter().copied())
        .collect()
}

/// For the fork prepare handler: the list and every pool, locked in order.
pub(super) struct Frozen {
    list: Option<MutexGuard<'static, Vec<&'static Shelf>>>,
    shared: Option<MutexGuard<'static, Pool>>,
    /// The per-thread pools (empty, so never allocated, under NTS).
    others: Vec<MutexGuard<'static, Pool>>,
}

impl Frozen {
    /// Lets go of every lock, and nothing else: in a forked child this runs in the child
    /// handler, where only unlocking is safe. What it still owns (the empty vector's memory,
    /// under ZTS only) the child handler leaves behind with `mem::forget`.
    pub fn thaw(&mut self) {
        self.others.clear();
        self.shared.take();
        self.list.take();
    }
}

pub(super) fn freeze() -> Frozen {
    let list = SHELVES.lock().unwrap_or_else(PoisonError::into_inner);
    let shared = SHARED.lock();
    let others = list.iter().copied().map(Shelf::lock).collect();
    Frozen {
        list: Some(list),
        shared: Some(shared),
        others,
    }
}
