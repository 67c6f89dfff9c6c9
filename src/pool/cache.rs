//! The kept connections of this process: at most `smtp.pool_size` (the least recently used is
//! evicted), each until its idle time runs out. Bookkeeping only, under the pool's lock: what
//! leaves the cache is handed back, and the caller closes it after the lock is let go.

use std::path::PathBuf;
use std::time::Instant;

use super::slots::Slot;
use super::Key;
use crate::transport::Connection;

/// A connection waiting for the next message, with the slot it holds.
pub(super) struct Kept {
    pub key: Key,
    /// Declared before `slot`: dropped first, so the socket is closed before the slot is free.
    pub conn: Connection,
    pub slot: Option<Slot>,
    /// When it has been idle for `smtp.pool_idle_timeout` (as it was when put back).
    pub expires: Instant,
}

/// Least recently put back first.
pub(super) struct Cache(Vec<Kept>);

impl Cache {
    pub const fn new() -> Cache {
        Cache(Vec::new())
    }

    /// The most recently used connection of `key`, taken out.
    pub fn take(&mut self, key: &Key) -> Option<Kept> {
        let i = self.0.iter().rposition(|k| k.key == *key)?;
        Some(self.0.remove(i))
    }

    /// Keeps `kept`; what no longer fits under `size` is handed back (least recently used).
    pub fn put(&mut self, kept: Kept, size: usize) -> Vec<Kept> {
        self.0.push(kept);
        let over = self.0.len().saturating_sub(size.max(1));
        self.0.drain(..over).collect()
    }

    /// Every connection idle past its limit, taken out. Looked at before every send, so
    /// when none is expired (nearly always) nothing is moved or allocated.
    pub fn expired(&mut self, now: Instant) -> Vec<Kept> {
        if !self.0.iter().any(|k| k.expires <= now) {
            return Vec::new();
        }
        self.take_where(|k| k.expires <= now)
    }

    /// Every connection to `host:port`, whatever the account, taken out.
    pub fn take_server(&mut self, host: &str, port: u16) -> Vec<Kept> {
        self.take_where(|k| k.key.is_server(host, port))
    }

    pub fn take_all(&mut self) -> Vec<Kept> {
        std::mem::take(&mut self.0)
    }

    /// The wait files of the slots idle connections hold, each once.
    pub fn slot_waits(&self) -> Vec<PathBuf> {
        let mut waits: Vec<PathBuf> = Vec::new();
        for w in self
            .0
            .iter()
            .filter_map(|k| k.slot.as_ref())
            .map(Slot::wait_file)
        {
            if !waits.iter().any(|x| x == w) {
                waits.push(w.to_path_buf());
            }
        }
        waits
    }

    /// The least recently used connection whose slot has this wait file, taken out.
    pub fn take_slotted(&mut self, wait: &std::path::Path) -> Option<Kept> {
        let i = self
            .0
            .iter()
            .position(|k| k.slot.as_ref().is_some_and(|s| s.wait_file() == wait))?;
        Some(self.0.remove(i))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn any_slotted(&self) -> bool {
        self.0.iter().any(|k| k.slot.is_some())
    }

    fn take_where(&mut self, f: impl Fn(&Kept) -> bool) -> Vec<Kept> {
        let (out, keep) = std::mem::take(&mut self.0).into_iter().partition(f);
        self.0 = keep;
        out
    }
}
