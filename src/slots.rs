//! `smtp.max_connections`: at most N connections to one server and account from this machine
//! at once, across all PHP processes. Each connection holds an exclusive `flock()` on one of N
//! slot files; the kernel releases it when the connection's file is closed or the process dies,
//! so a crashed worker never leaks a slot.
//!
//! A process that finds every slot taken holds a shared lock on the key's `wait` file while it
//! waits: a process whose kept connection sits idle in a slot sees that (`someone_waits`) and
//! closes the connection, so an idle worker cannot starve a busy one (see `pool::reap`).
//!
//! The slot files live in a directory private to the system user the processes run as
//! (`<tmp>/php-smtp-slots-<uid>`, mode 0700, checked to be ours and not a link), and are opened
//! without following links. So another local user can neither hold our slots nor plant a link
//! that makes a PHP worker open (or change) a file of its choosing; processes of one user (all
//! PHP-FPM pools that run as www-data, say) share their slots.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::transport::Budget;

/// How often a waiting process looks for a free slot.
const POLL: Duration = Duration::from_millis(20);

/// A held slot: the lock goes with the file.
#[derive(Debug)]
pub struct Slot {
    _file: File,
}

/// The slot files of one server and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotKey(String);

impl SlotKey {
    pub fn of(s: &Settings) -> SlotKey {
        let id = format!("{}:{}:{}", s.host.to_ascii_lowercase(), s.port, s.username);
        let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
        let hex: String = digest.as_ref()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        SlotKey(hex)
    }

    fn path(&self, name: &str) -> io::Result<PathBuf> {
        let dir = dir()?;
        Ok(dir.join(format!("{}.{name}", self.0)))
    }
}

/// The temporary directory as the process had it when the extension started (`prepare`), so
/// a script's `putenv("TMPDIR=...")` cannot move the slots.
static TMP: Lazy<PathBuf> = Lazy::new(std::env::temp_dir);

/// Fixes where the slot directory goes; the PHP module calls it at startup.
pub fn prepare() {
    Lazy::force(&TMP);
}

/// `<tmp>/php-smtp-slots-<uid>` for the user the process runs as now (PHP-FPM's master starts
/// the extension as root, its workers send as www-data).
fn dir_path() -> PathBuf {
    TMP.join(format!("php-smtp-slots-{}", euid()))
}

fn euid() -> u32 {
    crate::sys::euid()
}

/// The slot directory, made if missing, and only if it is this user's own private directory.
fn dir() -> io::Result<PathBuf> {
    let path = dir_path();
    let dir: &Path = &path;
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // symlink_metadata: a link in its place is refused, not followed.
    let meta = fs::symlink_metadata(dir)?;
    let uid = euid();
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it is not a private directory of user id {uid} (a link, another user's, or \
                 open to others); remove it and it is made again"
            ),
        ));
    }
    Ok(path)
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// flock() without blocking; true when we got it.
fn try_lock(f: &File, exclusive: bool) -> bool {
    crate::sys::try_flock(f, exclusive)
}

/// A free slot, waiting (within the call's time) while all `max` are in use.
pub fn acquire(key: &SlotKey, s: &Settings, max: u32, budget: &Budget) -> Result<Slot> {
    let unusable = |e: io::Error| {
        Error::Config(format!(
            "smtp.max_connections needs the directory {} ({e})",
            dir_path().display()
        ))
    };
    let started = Instant::now();
    // Waiting for a slot is one step: at most smtp.timeout (and within smtp.max_time).
    let deadline = budget.step();
    let mut waiting: Option<File> = None;
    loop {
        for i in 0..max {
            let f = open(&key.path(&format!("slot{i}")).map_err(unusable)?).map_err(unusable)?;
            if try_lock(&f, true) {
                return Ok(Slot { _file: f });
            }
        }
        if waiting.is_none() {
            // Say that we wait: processes with an idle connection in a slot close it.
            let f = open(&key.path("wait").map_err(unusable)?).map_err(unusable)?;
            if try_lock(&f, false) {
                waiting = Some(f);
            }
        }
        match deadline.remaining() {
            Some(left) if left > POLL => std::thread::sleep(POLL),
            _ => {
                return Err(Error::SlotsBusy {
                    host: s.host.clone(),
                    max,
                    waited: started.elapsed(),
                })
            }
        }
    }
}

/// Whether some process waits for a slot of this key.
pub fn someone_waits(key: &SlotKey) -> bool {
    let Ok(path) = key.path("wait") else {
        return false;
    };
    let Ok(f) = open(&path) else {
        return false;
    };
    // An exclusive lock fails while any waiter holds its shared one.
    !try_lock(&f, true)
}
