//! `smtp.max_connections`: at most N connections to one server and account from this machine
//! at once, across all PHP processes. Each connection holds an exclusive `flock()` on one of N
//! slot files; the kernel releases it when the connection's file is closed or the process dies,
//! so a crashed worker never leaks a slot (and a forked child closes its copies at once, see
//! `fork`).
//!
//! A process that finds every slot taken holds a shared lock on the key's `wait` file while it
//! waits: a process whose kept connection sits idle in a slot sees that (`someone_waits`) and
//! closes the connection, so an idle worker cannot starve a busy one (see `reaper`).
//!
//! Where the slot files live: `smtp.slot_dir` (php.ini only), a directory that no other local
//! user can write: owned by the PHP user or root, not writable by group or others, not a link.
//! By default a directory private to the user the processes run as, `<tmp>/php-smtp-slots-<uid>`
//! (mode 0700, the temporary directory as it was at startup). Files are opened without
//! following links. So another local user can neither hold our slots nor plant a link that makes
//! a PHP worker open (or change) a file of its choosing.
//!
//! A problem with the directory never fails a send: the cap is a courtesy to the server, the
//! mail is what the caller asked for. The send goes on without the cap, and a warning (once per
//! process) names the directory, what is wrong and the fix.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use super::fork::Held;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::transport::Budget;

/// How often a waiting process looks for a free slot.
const POLL: Duration = Duration::from_millis(20);

/// A held slot: the lock goes with the file.
#[derive(Debug)]
pub struct Slot {
    _held: Held,
    /// The key's wait file, where other processes say they wait for a slot.
    wait: PathBuf,
}

impl Slot {
    pub fn wait_file(&self) -> &Path {
        &self.wait
    }
}

/// The name of the slot files of one server and account.
pub(super) fn key_of(s: &Settings) -> String {
    let id = format!("{}:{}:{}", s.host.to_ascii_lowercase(), s.port, s.username);
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The temporary directory as the process had it when the extension started (`prepare`), so
/// a script's `putenv("TMPDIR=...")` cannot move the slots.
static TMP: LazyLock<PathBuf> = LazyLock::new(std::env::temp_dir);

/// Fixes where the default slot directory goes; the PHP module calls it at startup.
pub fn prepare() {
    LazyLock::force(&TMP);
}

/// `<tmp>/php-smtp-slots-<uid>` for the user the process runs as now (PHP-FPM's master starts
/// the extension as root, its workers send as www-data).
pub fn default_dir() -> PathBuf {
    TMP.join(format!("php-smtp-slots-{}", crate::sys::euid()))
}

/// A usable slot directory.
pub(super) struct Dir {
    pub(super) path: PathBuf,
}

/// The slot directory for these settings, made if missing; or what is wrong with it.
pub(super) fn dir(s: &Settings) -> std::result::Result<Dir, String> {
    let (path, configured) = match &s.slot_dir {
        Some(p) => (p.clone(), true),
        None => (default_dir(), false),
    };
    if !path.is_absolute() {
        return Err(format!("{}: not an absolute path", path.display()));
    }
    match fs::DirBuilder::new().mode(0o700).create(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("{}: cannot be made ({e})", path.display())),
    }
    // symlink_metadata: a link in its place is refused, not followed.
    let meta = fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let me = crate::sys::euid();
    let why = if meta.file_type().is_symlink() {
        Some("is a symbolic link".to_string())
    } else if !meta.is_dir() {
        Some("is not a directory".to_string())
    } else if meta.uid() != me && !(configured && meta.uid() == 0) {
        Some(format!(
            "belongs to user id {}, not to the user PHP runs as (id {me}){}",
            meta.uid(),
            if configured { " or root" } else { "" }
        ))
    } else if meta.mode() & if configured { 0o022 } else { 0o077 } != 0 {
        Some(format!(
            "is open to other users (mode {:o}){}",
            meta.mode() & 0o7777,
            if configured {
                ": group or others may write it"
            } else {
                ""
            }
        ))
    } else {
        None
    };
    if let Some(why) = why {
        return Err(format!("{} {why}", path.display()));
    }
    Ok(Dir { path })
}

/// A state file in the slot directory, made if missing: the PHP user's alone, never through a
/// link, not inherited by programs PHP runs. Slots and `rate`'s schedules both use it.
pub(super) fn open_state_file(path: &Path) -> io::Result<Held> {
    Held::open(|| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
    })
}

fn open(dir: &Dir, name: &str) -> std::result::Result<Held, String> {
    let held = open_state_file(&dir.path.join(name)).map_err(|e| {
        format!(
            "{} holds {name}, which cannot be opened ({e})",
            dir.path.display()
        )
    })?;
    Ok(held)
}

/// flock() without blocking; true when we got it.
fn try_lock(f: &File, exclusive: bool) -> bool {
    crate::sys::try_flock(f, exclusive)
}

static WARNED: AtomicBool = AtomicBool::new(false);

fn warn_unusable(s: &Settings, why: &str) {
    warn_unkept(
        &WARNED,
        "smtp.max_connections",
        &format!("the slot directory {why}"),
        "the cap",
        s,
    );
}

/// Once per process (per `warned`): an admin limit kept in the slot directory is not kept, why,
/// and the fix; later times only at debug level.
pub(super) fn warn_unkept(
    warned: &AtomicBool,
    setting: &str,
    why: &str,
    without: &str,
    s: &Settings,
) {
    if warned.swap(true, Ordering::Relaxed) {
        log::debug!("{setting} not kept: {why}");
        return;
    }
    log::warn!(
        "{setting} is not kept: {why}. Mail to {} is sent without {without}. Set smtp.slot_dir in \
         php.ini to a directory that only the PHP user can write (owned by it or root, not \
         writable by group or others), e.g. /run/php-smtp made by systemd-tmpfiles (see the \
         README){}",
        s.host,
        if s.slot_dir.is_none() {
            ", or remove the directory named here if another user made it"
        } else {
            ""
        }
    );
}

/// A free slot, waiting (within the call's time) while all `max` are in use. `None` when the
/// slot directory cannot be used: the send goes on without the cap (and a warning said why).
pub fn acquire(s: &Settings, max: u32, budget: &Budget) -> Result<Option<Slot>> {
    let started = Instant::now();
    // Waiting for a slot is one step: at most smtp.timeout (and within smtp.max_time).
    let deadline = budget.step();
    let unusable = |why: String| {
        warn_unusable(s, &why);
        Ok(None)
    };
    let dir = match dir(s) {
        Ok(d) => d,
        Err(why) => return unusable(why),
    };
    let key = key_of(s);
    let wait = dir.path.join(format!("{key}.wait"));
    let mut waiting: Option<Held> = None;
    loop {
        for i in 0..max {
            let held = match open(&dir, &format!("{key}.slot{i}")) {
                Ok(h) => h,
                Err(why) => return unusable(why),
            };
            if try_lock(held.file(), true) {
                return Ok(Some(Slot { _held: held, wait }));
            }
        }
        if waiting.is_none() {
            // Say that we wait: processes with an idle connection in a slot close it.
            let held = match open(&dir, &format!("{key}.wait")) {
                Ok(h) => h,
                Err(why) => return unusable(why),
            };
            if try_lock(held.file(), false) {
                waiting = Some(held);
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

/// Whether some process waits for a slot whose wait file is `wait`.
pub fn someone_waits(wait: &Path) -> bool {
    let opened = Held::open(|| {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(wait)
    });
    let Ok(f) = opened else {
        return false;
    };
    // An exclusive lock fails while any waiter holds its shared one.
    !try_lock(f.file(), true)
}
