//! What a process forked by `pcntl_fork()` inherits from its parent, and how it lets go of it.
//!
//! A child gets copies of the parent's descriptors: its kept connections' sockets, its
//! `smtp.max_connections` slot files (whose `flock()`s stay held while any copy is open) and the
//! pool's lock in whatever state it was. So:
//! - every descriptor that holds (or can take) a slot lock is registered in a fixed table of
//!   atomics, which the child handler closes with plain `close()`: async-signal-safe, no lock,
//!   no I/O, and the lock stays with the parent's descriptor. A child that never sends, or
//!   sleeps for an hour, no longer keeps the parent waiting;
//! - the child handler counts a fork generation; the pool, at its next use in the child,
//!   forgets what it holds from an older generation (closes its copies of the sockets, no QUIT);
//! - fork never happens while the pool's lock is held by another thread (the prepare handler
//!   takes it, see `pool::before_fork`), nor between opening a slot file and registering it
//!   (`section`), so the child finds neither a lock nobody will release nor a descriptor
//!   nobody knows of.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};

use crate::sys;

/// How many descriptors the table holds: slot files of kept connections (at most
/// `smtp.pool_size`, itself at most 1000) and of sends under way. A descriptor that finds the
/// table full still works; only a child forked meanwhile keeps its copy until it exits.
const TABLE: usize = 1024;

static FDS: [AtomicI32; TABLE] = [const { AtomicI32::new(-1) }; TABLE];

/// Forks this process has been through (0 in the process that loaded the extension).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// A fork waits to happen (set by the prepare handler); sections wait for it.
static FORKING: AtomicBool = AtomicBool::new(false);

/// Threads inside a section.
static BUSY: AtomicU32 = AtomicU32::new(0);

pub fn generation() -> u64 {
    GENERATION.load(SeqCst)
}

/// Runs `f` (an open or a close of a registered file) so that no fork happens in its middle.
fn section<T>(f: impl FnOnce() -> T) -> T {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            BUSY.fetch_sub(1, SeqCst);
        }
    }
    loop {
        // Announce first, then look: the prepare handler sets FORKING first, then looks at
        // BUSY, so one of the two always sees the other.
        BUSY.fetch_add(1, SeqCst);
        if !FORKING.load(SeqCst) {
            break;
        }
        BUSY.fetch_sub(1, SeqCst);
        while FORKING.load(SeqCst) {
            std::thread::yield_now();
        }
    }
    let _leave = Leave;
    f()
}

/// The prepare handler's part: no section may be under way when the process forks.
pub(super) fn prepare() {
    FORKING.store(true, SeqCst);
    while BUSY.load(SeqCst) != 0 {
        std::thread::yield_now();
    }
}

/// The parent handler's part.
pub(super) fn parent() {
    FORKING.store(false, SeqCst);
}

/// The child handler's part: atomics and close() only (async-signal-safe, no lock).
pub(super) fn child() {
    for fd in &FDS {
        let fd = fd.swap(-1, SeqCst);
        if fd >= 0 {
            sys::close_fd(fd);
        }
    }
    GENERATION.fetch_add(1, SeqCst);
    FORKING.store(false, SeqCst);
}

/// An open file whose copy a forked child closes at once (a slot file, or the wait file).
#[derive(Debug)]
pub struct Held {
    file: Option<File>,
    /// Its place in the table; `None` when the table was full.
    entry: Option<usize>,
    generation: u64,
}

impl Held {
    /// Opens with `open` and registers the descriptor, with no fork in between.
    pub fn open(open: impl FnOnce() -> io::Result<File>) -> io::Result<Held> {
        super::watch_forks();
        section(|| {
            let file = open()?;
            let fd = file.as_raw_fd();
            let entry = FDS
                .iter()
                .position(|e| e.compare_exchange(-1, fd, SeqCst, SeqCst).is_ok());
            Ok(Held {
                file: Some(file),
                entry,
                generation: generation(),
            })
        })
    }

    pub fn file(&self) -> &File {
        self.file.as_ref().expect("open until dropped")
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let file = self.file.take();
        if self.generation != generation() {
            if self.entry.is_some() {
                // Inherited and already closed by the child handler: the number may name
                // another file by now, so it must not be closed again.
                std::mem::forget(file);
            }
            // Not in the table: still open in this process; dropping closes it.
            return;
        }
        section(|| {
            if let Some(i) = self.entry {
                FDS[i].store(-1, SeqCst);
            }
            drop(file);
        });
    }
}
