//! The smtp.max_connections slot files must not give another local user a way in: their
//! directory is the PHP user's own (mode 0700), a link or another user's directory in its place
//! is refused, and a link planted as a slot file is never followed (so a worker never opens,
//! let alone changes, a file someone else chose).
//!
//! One test in its own process: it points TMPDIR at a directory of its own before the slot
//! directory's place is fixed.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::time::Duration;

use common::*;
use smtp::error::Error;
use smtp::slots::{self, SlotKey};
use smtp::transport::Budget;

fn refused(what: &str, s: &smtp::config::Settings, key: &SlotKey) -> String {
    let budget = Budget::new(Duration::from_secs(1), None);
    match slots::acquire(key, s, 1, &budget) {
        Err(Error::Config(text)) => {
            assert!(text.contains("smtp.max_connections"), "{what}: {text}");
            text
        }
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_slot_directory_is_private_and_links_are_not_followed() {
    let tmp = TempDir::new("slots-dir");
    std::env::set_var("TMPDIR", tmp.path());
    slots::prepare();
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let dir = tmp.path().join(format!("php-smtp-slots-{uid}"));
    let s = settings(25, &[("max_connections", "1")]);
    let key = SlotKey::of(&s);

    // A link in the directory's place (someone else's directory behind it): refused, and
    // nothing is made behind the link.
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, &dir).unwrap();
    let text = refused("a link as the directory", &s, &key);
    assert!(text.contains("not a private directory"), "{text}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    fs::remove_file(&dir).unwrap();

    // A directory open to others (as another user would leave it): refused.
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
    refused("a directory open to others", &s, &key);
    fs::remove_dir(&dir).unwrap();

    // Another user's directory (needs root to make one).
    if uid == 0 {
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        // SAFETY: a valid NUL-terminated path; 65534 is nobody.
        let path = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::chown(path.as_ptr(), 65534, 65534) }, 0);
        refused("another user's directory", &s, &key);
        fs::remove_dir(&dir).unwrap();
    }

    // Made by the extension: 0700, ours; the slot file 0600.
    let budget = Budget::new(Duration::from_secs(1), None);
    let slot = slots::acquire(&key, &s, 1, &budget).expect("a slot");
    let meta = fs::symlink_metadata(&dir).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), uid);
    let files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);
    let slot_file = files[0].clone();
    drop(slot);

    // A link planted as the slot file, to a file the attacker wants opened: not followed;
    // the file keeps its mode and content.
    let victim = tmp.path().join("victim");
    fs::write(&victim, b"do not touch\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o640)).unwrap();
    fs::remove_file(&slot_file).unwrap();
    symlink(&victim, &slot_file).unwrap();
    refused("a link as the slot file", &s, &key);
    assert_eq!(fs::metadata(&victim).unwrap().mode() & 0o777, 0o640);
    assert_eq!(fs::read(&victim).unwrap(), b"do not touch\n");
}
