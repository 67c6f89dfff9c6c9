//! The refresh-token file of the delegated providers (`smtp.oauth_refresh_token_file`): read
//! under a lock that all PHP processes of the machine take, and written back atomically when the
//! endpoint rotates the token. The file's old content stays in place until the new one is
//! complete on disk, so a failed write never loses the last good token.
//!
//! The lock is `flock` on the file's directory, not on the file: the file is replaced by a
//! rename, and a lock on the old inode would not keep out a process that opened the new one.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::error::OAuthError;
use crate::secret::Secret;

/// A refresh token is a few KB at most; a bigger file is not one.
const MAX_FILE: u64 = 64 * 1024;

/// How often a waiting process tries the lock again.
const POLL: Duration = Duration::from_millis(10);

/// The command that (re)creates the file, for messages.
pub(crate) const SIGN_IN: &str = "smtp-doctor oauth-login";

/// The token and the shape it was stored in, so a rotated token is written back the same way.
pub(crate) struct Stored {
    pub token: Secret,
    /// `Some`: the file is a JSON object with a `refresh_token` member (other members kept).
    json: Option<Map<String, Value>>,
}

/// The lock of one directory's token files, held until dropped (closing the descriptor
/// releases it, also when the process dies).
pub(crate) struct Locked {
    _dir: File,
}

fn config(path: &Path, problem: &str) -> OAuthError {
    OAuthError::Config(format!(
        "smtp.oauth_refresh_token_file \"{}\" {problem}",
        path.display()
    ))
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Takes the directory's lock, waiting for another process's exchange at most until `until`.
pub(crate) fn lock(path: &Path, until: Instant) -> Result<Locked, OAuthError> {
    let dir = dir_of(path);
    let f = File::open(&dir).map_err(|e| {
        config(
            path,
            &format!("cannot be locked: its directory cannot be opened ({e})"),
        )
    })?;
    loop {
        if crate::sys::try_flock(&f, true) {
            return Ok(Locked { _dir: f });
        }
        let now = Instant::now();
        if now >= until {
            return Err(config(
                path,
                "stayed locked by another PHP process exchanging its token for longer than this \
                 call may wait; try again, or raise smtp.timeout / smtp.max_time",
            ));
        }
        std::thread::sleep(POLL.min(until - now));
    }
}

/// Reads the token: the first line of the file, or the `refresh_token` member of a JSON object.
pub(crate) fn read(path: &Path) -> Result<Stored, OAuthError> {
    let missing = || {
        config(
            path,
            &format!("holds no refresh token: sign in with `{SIGN_IN}` to create it"),
        )
    };
    let f = File::open(path).map_err(|e| {
        config(
            path,
            &format!(
                "cannot be read ({e}); sign in with `{SIGN_IN}` to create it, and make it \
                 readable and its directory writable by the PHP user"
            ),
        )
    })?;
    let mut text = String::new();
    f.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| config(path, &format!("cannot be read as text ({e})")))?;
    if text.len() as u64 > MAX_FILE {
        return Err(config(path, "is too big to be a refresh-token file"));
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) else {
            return Err(config(
                path,
                "starts with { but is not a JSON object (write the token alone on the first \
                 line, or {\"refresh_token\": \"...\"})",
            ));
        };
        let token = map
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| usable(t))
            .ok_or_else(missing)?
            .to_string();
        return Ok(Stored {
            token: Secret::new(token),
            json: Some(map),
        });
    }
    let token = text.lines().next().unwrap_or("").trim();
    if !usable(token) {
        return Err(missing());
    }
    Ok(Stored {
        token: Secret::new(token),
        json: None,
    })
}

/// A token goes into a form field and back into this file: visible ASCII only.
fn usable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

/// Replaces the stored token by `new`, in the same shape, owner and mode: a temporary file in
/// the same directory, flushed to disk, then renamed over the old one. On any failure the old
/// file is left as it was. The caller holds the lock.
pub(crate) fn write_back(path: &Path, stored: &Stored, new: &Secret) -> io::Result<()> {
    if !usable(new.expose()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the endpoint's new refresh token holds characters a token cannot have",
        ));
    }
    let content = match &stored.json {
        Some(map) => {
            let mut map = map.clone();
            map.insert("refresh_token".into(), Value::String(new.expose().into()));
            let mut s = serde_json::to_string_pretty(&Value::Object(map))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            s.push('\n');
            s
        }
        None => format!("{}\n", new.expose()),
    };
    let meta = fs::metadata(path)?;
    replace(path, content.as_bytes(), Some(&meta))
}

/// Stores a token from a new sign-in: over the old file in its shape, owner and mode when
/// there is a readable one, else as a new file of mode 0600 (the same temporary file and
/// rename, so a reader never sees half a file). The caller holds the lock.
pub(crate) fn store(path: &Path, token: &Secret) -> io::Result<()> {
    if let Ok(old) = read(path) {
        return write_back(path, &old, token);
    }
    if !usable(token.expose()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the endpoint's refresh token holds characters a token cannot have",
        ));
    }
    replace(path, format!("{}\n", token.expose()).as_bytes(), None)
}

/// Puts `content` in place of `path` so that a reader never sees half a file: a temporary
/// file in the same directory, flushed to disk, renamed over it, and the rename flushed too.
/// It gets the owner and mode of `like` (the file it replaces), else mode 0600; a process that
/// may not give it that owner keeps it as its own, mode 0600 at most. On any failure the old
/// file is left as it was.
fn replace(path: &Path, content: &[u8], like: Option<&fs::Metadata>) -> io::Result<()> {
    let dir = dir_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(content)?;
        let mode = match like {
            Some(meta) => {
                let mine = f.metadata()?;
                let mut mode = meta.mode() & 0o7777;
                if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
                    match std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid())) {
                        Ok(()) => {}
                        // Not root, and the old file's owner or group is not ours to give (an
                        // administrator's `chown www-data` left the group root's): the new file
                        // stays the PHP user's, readable by it alone, rather than the rotated
                        // token being lost, or readable by a group the old file did not name.
                        Err(e) if e.raw_os_error() == Some(libc::EPERM) => mode &= 0o700,
                        Err(e) => return Err(e),
                    }
                }
                mode
            }
            None => 0o600,
        };
        f.set_permissions(Permissions::from_mode(mode))?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    // The rename itself on disk; a failure here loses nothing that a crash would not.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("smtp-refresh-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn first_line_or_json_and_written_back_in_the_same_shape() {
        let d = dir("shape");
        let plain = d.join("plain");
        fs::write(&plain, "  rt.one \nignored\n").unwrap();
        fs::set_permissions(&plain, Permissions::from_mode(0o640)).unwrap();
        let s = read(&plain).unwrap();
        assert_eq!(s.token.expose(), "rt.one");
        write_back(&plain, &s, &Secret::new("rt.two")).unwrap();
        assert_eq!(fs::read_to_string(&plain).unwrap(), "rt.two\n");
        assert_eq!(fs::metadata(&plain).unwrap().mode() & 0o777, 0o640);

        let json = d.join("json");
        fs::write(&json, r#"{"client_id":"c","refresh_token":"rt.a"}"#).unwrap();
        let s = read(&json).unwrap();
        assert_eq!(s.token.expose(), "rt.a");
        write_back(&json, &s, &Secret::new("rt.b")).unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(v["refresh_token"], "rt.b");
        assert_eq!(v["client_id"], "c");
        assert_eq!(
            fs::read_dir(&d).unwrap().count(),
            2,
            "no temporary file left"
        );
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn unusable_files_say_how_to_sign_in() {
        let d = dir("bad");
        let msg = |content: Option<&str>| {
            let p = d.join("t");
            let _ = fs::remove_file(&p);
            if let Some(c) = content {
                fs::write(&p, c).unwrap();
            }
            read(&p).err().unwrap().to_string()
        };
        assert!(msg(None).contains(SIGN_IN));
        assert!(msg(Some("\n")).contains(SIGN_IN));
        assert!(msg(Some(r#"{"access_token":"x"}"#)).contains(SIGN_IN));
        assert!(msg(Some("{not json")).contains("not a JSON object"));
        assert!(msg(Some("a\u{1}b")).contains(SIGN_IN));
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_failed_write_keeps_the_old_token() {
        let d = dir("fail");
        let p = d.join("t");
        fs::write(&p, "rt.old\n").unwrap();
        let s = read(&p).unwrap();
        // The temporary file's name is taken (by a directory): the write cannot start.
        fs::create_dir(d.join(format!(".t.{}.tmp", std::process::id()))).unwrap();
        assert!(write_back(&p, &s, &Secret::new("rt.new")).is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "rt.old\n");
        assert!(write_back(&p, &s, &Secret::new("bad token")).is_err());
        let _ = fs::remove_dir_all(&d);
    }
}
