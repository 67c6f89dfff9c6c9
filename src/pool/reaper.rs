//! With `smtp.max_connections`, a kept connection holds a slot while it idles. A worker idle
//! between requests runs no code of ours, so a small thread does the looking: when another
//! process waits for a slot of the same server and account, this process's least recently used
//! idle connection of it is closed (QUIT) and its slot freed, within about `REAP_EVERY`; an
//! idle slotted connection past its idle limit is closed too. The thread runs only while such
//! connections exist, and never calls into PHP (nor logs: the log may lead there).
//!
//! Under ZTS it also closes every connection past its idle limit, slotted or not, in every
//! thread's pool, and runs while any pool keeps a connection: a PHP thread between requests
//! (or waiting in FrankenPHP's worker loop) runs no code of ours, and no request shutdown
//! comes to close what it keeps.
//!
//! It holds a pool's lock only to look and to take connections out; the wait-file checks
//! (open, flock) and the QUITs happen outside it.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant};

use super::{on_shelf, shelf, slots, Pool};

/// How often the reaper looks whether another process waits for a slot.
const REAP_EVERY: Duration = Duration::from_millis(50);

/// Whether this process has a reaper thread.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// In a forked child (from the fork handler: one atomic store): the parent's thread is not here.
pub(super) fn forget() {
    RUNNING.store(false, SeqCst);
}

/// Starts the thread unless it runs.
pub(super) fn start() {
    if RUNNING.swap(true, SeqCst) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("smtp-reaper".into())
        .spawn(run);
    if spawned.is_err() {
        RUNNING.store(false, SeqCst);
    }
}

fn run() {
    loop {
        std::thread::sleep(REAP_EVERY);
        let mut left = false;
        for shelf in shelf::all() {
            left |= reap(shelf);
        }
        if !left {
            RUNNING.store(false, SeqCst);
            // Connections put back meanwhile start a new reaper.
            if shelf::all()
                .into_iter()
                .any(|s| on_shelf(s, |p| needs_reaper(p)))
            {
                start();
            }
            return;
        }
    }
}

/// One look at one pool; whether it still keeps something to watch.
fn reap(shelf: &shelf::Shelf) -> bool {
    let (waits, expired) = on_shelf(shelf, |p| {
        let expired = p.cache.expired(Instant::now());
        (p.cache.slot_waits(), expired)
    });
    drop(expired);
    let wanted: Vec<_> = waits
        .into_iter()
        .filter(|w| slots::someone_waits(w))
        .collect();
    let (reaped, left) = on_shelf(shelf, |p| {
        let reaped: Vec<_> = wanted
            .iter()
            .filter_map(|w| p.cache.take_slotted(w))
            .collect();
        (reaped, needs_reaper(p))
    });
    for mut kept in reaped {
        kept.conn.quiet();
        kept.conn.quit_and_await_close();
        drop(kept.slot);
    }
    left
}

fn needs_reaper(p: &Pool) -> bool {
    p.cache.any_slotted() || (shelf::is_per_thread() && !p.cache.is_empty())
}
