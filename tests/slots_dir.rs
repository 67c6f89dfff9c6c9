//! The smtp.max_connections slot files must not give another local user a way in, nor a way to
//! stop our mail: their directory is the PHP user's own (mode 0700 by default; `smtp.slot_dir`
//! owned by the PHP user or root and not writable by others), a link or another user's
//! directory in its place is refused, and a link planted as a slot file is never followed (so a
//! worker never opens, let alone changes, a file someone else chose). A directory we refuse
//! never fails a send: the mail goes without the cap, and one warning says why and what to do.
//!
//! Tests in their own process: TMPDIR points at a directory of this binary before the slot
//! directory's place is fixed, and a logger here collects what the extension logs.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use common::*;
use smtp::config::Settings;
use smtp::slots;
use smtp::transport::Budget;

/// Every log line of the extension, with its level.
static LOG: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Collect;

impl log::Log for Collect {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        LOG.lock().unwrap().push((r.level(), r.args().to_string()));
    }
    fn flush(&self) {}
}

static SERIAL: Mutex<()> = Mutex::new(());

/// The temporary directory of this binary (the default slot directory goes under it), the
/// logger, and one test at a time (the default directory and the log are shared).
fn setup() -> (MutexGuard<'static, ()>, &'static Path) {
    static TMP: OnceLock<TempDir> = OnceLock::new();
    let tmp = TMP.get_or_init(|| {
        let tmp = TempDir::new("slots-dir");
        // As /tmp: anyone may make an entry, only the owner may remove it.
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        std::env::set_var("TMPDIR", tmp.path());
        slots::prepare();
        let _ = log::set_boxed_logger(Box::new(Collect));
        log::set_max_level(log::LevelFilter::Debug);
        tmp
    });
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    LOG.lock().unwrap().clear();
    (guard, tmp.path())
}

fn euid() -> u32 {
    smtp::sys::euid()
}

/// The log lines since `setup` that mention `needle`.
fn logged(needle: &str) -> Vec<(log::Level, String)> {
    LOG.lock()
        .unwrap()
        .iter()
        .filter(|(_, l)| l.contains(needle))
        .cloned()
        .collect()
}

/// A send with a cap of 1 goes through; the slot taken, if any, is dropped with the connection
/// (pool off). Returns whether the send took a slot (false: sent without the cap).
fn sends(srv: &FaultServer, s: &Settings, n: usize) -> bool {
    let budget = Budget::new(Duration::from_secs(1), None);
    let slot = slots::acquire(s, 1, &budget).expect("a slot problem is never an error");
    let capped = slot.is_some();
    drop(slot);
    smtp::pool::send(s, &simple("a@example.test", n)).expect("sent");
    assert_eq!(srv.wait_messages(n).len(), n);
    capped
}

/// A refused slot directory: the send went without the cap, and the log says why, naming the
/// directory, with the fix (at warning level the first time in this process).
fn refused_yet_sent(srv: &FaultServer, s: &Settings, n: usize, dir: &Path, why: &str) {
    assert!(!sends(srv, s, n), "{} was used", dir.display());
    let lines = logged(&dir.display().to_string());
    assert!(
        lines.iter().any(|(_, l)| l.contains(why)),
        "no \"{why}\" for {}: {lines:?}",
        dir.display()
    );
    if let Some((_, warning)) = lines.iter().find(|(lvl, _)| *lvl == log::Level::Warn) {
        assert!(warning.contains("sent without the cap"), "{warning}");
        assert!(warning.contains("smtp.slot_dir"), "{warning}");
        assert!(warning.contains("/run/php-smtp"), "{warning}");
    }
}

#[test]
fn a_refused_default_directory_never_fails_a_send_and_links_are_not_followed() {
    let (_g, tmp) = setup();
    let srv = FaultServer::start(&[]);
    let dir = slots::default_dir();
    assert_eq!(dir, tmp.join(format!("php-smtp-slots-{}", euid())));
    let s = srv.settings(&[("max_connections", "1")]);
    let mut n = 0;

    // A link in the directory's place (someone else's directory behind it): refused, and
    // nothing is made behind the link.
    let elsewhere = tmp.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, &dir).unwrap();
    n += 1;
    refused_yet_sent(&srv, &s, n, &dir, "is a symbolic link");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    fs::remove_file(&dir).unwrap();

    // A directory open to others (as another user would leave it): refused.
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
    n += 1;
    refused_yet_sent(&srv, &s, n, &dir, "is open to other users");
    fs::remove_dir(&dir).unwrap();

    // Made by the extension: 0700, ours; the slot file 0600.
    let budget = Budget::new(Duration::from_secs(1), None);
    let slot = slots::acquire(&s, 1, &budget).unwrap().expect("a slot");
    let meta = fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), euid());
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);
    let slot_file = files[0].clone();
    drop(slot);

    // A link planted as the slot file, to a file the attacker wants opened: not followed;
    // the file keeps its mode and content, and the mail still goes.
    let victim = tmp.join("victim");
    fs::write(&victim, b"do not touch\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o640)).unwrap();
    fs::remove_file(&slot_file).unwrap();
    symlink(&victim, &slot_file).unwrap();
    n += 1;
    refused_yet_sent(&srv, &s, n, &dir, "which cannot be opened");
    assert_eq!(fs::metadata(&victim).unwrap().mode() & 0o777, 0o640);
    assert_eq!(fs::read(&victim).unwrap(), b"do not touch\n");
    fs::remove_file(&slot_file).unwrap();
    fs::remove_dir(&dir).unwrap();
}

#[test]
fn another_user_making_the_default_directory_first_does_not_stop_mail() {
    let (_g, _tmp) = setup();
    if euid() != 0 {
        eprintln!("skipped: needs root to act as another user");
        return;
    }
    let srv = FaultServer::start(&[]);
    let dir = slots::default_dir();
    // nobody, as any local user could, makes our directory before PHP does.
    let made = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "mkdir",
            "-m",
            "0700",
        ])
        .arg(&dir)
        .status()
        .expect("setpriv");
    assert!(made.success());
    assert_eq!(fs::symlink_metadata(&dir).unwrap().uid(), 65534);
    let s = srv.settings(&[("max_connections", "1")]);
    refused_yet_sent(&srv, &s, 1, &dir, "belongs to user id 65534");
    fs::remove_dir(&dir).unwrap();
}

#[test]
fn slot_dir_must_be_closed_to_other_users() {
    let (_g, tmp) = setup();
    let srv = FaultServer::start(&[]);
    let mut n = 0;
    for (mode, why) in [
        (0o770, "group or others may write it"),
        (0o777, "group or others may write it"),
    ] {
        let dir = tmp.join(format!("run-{mode:o}"));
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
        let s = srv.settings(&[
            ("max_connections", "1"),
            ("slot_dir", dir.to_str().unwrap()),
        ]);
        n += 1;
        refused_yet_sent(&srv, &s, n, &dir, why);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing made in it");
    }

    // A link to a good directory: refused too.
    let good = tmp.join("run-good");
    fs::create_dir(&good).unwrap();
    fs::set_permissions(&good, fs::Permissions::from_mode(0o755)).unwrap();
    let link = tmp.join("run-link");
    symlink(&good, &link).unwrap();
    let s = srv.settings(&[
        ("max_connections", "1"),
        ("slot_dir", link.to_str().unwrap()),
    ]);
    n += 1;
    refused_yet_sent(&srv, &s, n, &link, "is a symbolic link");

    // Another user's directory (needs root to make one).
    if euid() == 0 {
        let theirs = tmp.join("run-theirs");
        fs::create_dir(&theirs).unwrap();
        fs::set_permissions(&theirs, fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::ffi::CString::new(theirs.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; 65534 is nobody.
        assert_eq!(unsafe { libc::chown(path.as_ptr(), 65534, 65534) }, 0);
        let s = srv.settings(&[
            ("max_connections", "1"),
            ("slot_dir", theirs.to_str().unwrap()),
        ]);
        n += 1;
        refused_yet_sent(&srv, &s, n, &theirs, "belongs to user id 65534");
    }

    // A good one (0755, ours): the slots are there, and the cap holds.
    let s = srv.settings(&[
        ("max_connections", "1"),
        ("slot_dir", good.to_str().unwrap()),
    ]);
    n += 1;
    assert!(
        sends(&srv, &s, n),
        "the cap was not kept in {}",
        good.display()
    );
    let budget = Budget::new(Duration::from_secs(1), None);
    let held = slots::acquire(&s, 1, &budget).unwrap().expect("a slot");
    assert!(fs::read_dir(&good).unwrap().count() >= 1);
    let quick = Budget::new(Duration::from_millis(300), None);
    let e = slots::acquire(&s, 1, &quick).unwrap_err();
    assert!(e.to_string().contains("smtp.max_connections"), "{e}");
    drop(held);
}
