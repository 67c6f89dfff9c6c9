//! Secrets: a type that never prints itself, where a password comes from (the value, a file, or
//! an environment variable), and a fingerprint that tells two secrets apart without keeping
//! either. A leaf: it imports nothing of the project, so settings, tokens and the pool can all
//! use it without forming a circle.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

/// Why a secret could not be read: the sentence names the setting and the file or variable,
/// never the secret. Settings turn it into their configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretError(pub String);

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SecretError {}

type Result<T> = std::result::Result<T, SecretError>;

/// A password or token: never shown by `Debug` or `Display`, so it cannot leak into logs or
/// messages.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A keyed hash of the secret: equal for equal secrets within this process, useless to
    /// anyone who reads it (the key is random per process and never leaves it).
    pub fn fingerprint(&self) -> [u8; 16] {
        static KEY: Lazy<ring::hmac::Key> = Lazy::new(|| {
            let rng = ring::rand::SystemRandom::new();
            ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
                .expect("the system random number generator works")
        });
        let tag = ring::hmac::sign(&KEY, self.0.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        out
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "********"
        })
    }
}

/// The first line of `path`: a password file holds the password and maybe a trailing newline,
/// nothing after it is ever sent. Read again only when the file changes (it is checked with one
/// `stat` per send), so a rotated password is picked up without restarting PHP.
pub fn from_file(path: &str, what: &str) -> Result<Secret> {
    /// Path -> (modification time, first line).
    type Cache = HashMap<String, (Option<SystemTime>, Secret)>;
    static FILES: Lazy<Mutex<Cache>> = Lazy::new(|| Mutex::new(HashMap::new()));
    let unreadable = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "not found".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            other => other.to_string(),
        };
        SecretError(format!(
            "{what} \"{path}\" cannot be read ({why}); it must be readable by the PHP worker's user"
        ))
    };
    let modified = std::fs::metadata(path).map_err(unreadable)?.modified().ok();
    if let Some((when, secret)) = FILES.lock().get(path) {
        if *when == modified && modified.is_some() {
            return Ok(secret.clone());
        }
    }
    let text = std::fs::read(path).map_err(unreadable)?;
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let line = String::from_utf8(first.to_vec())
        .map_err(|_| SecretError(format!("{what} \"{path}\" is not UTF-8 text")))?;
    let secret = Secret::new(line);
    FILES
        .lock()
        .insert(path.to_string(), (modified, secret.clone()));
    Ok(secret)
}

/// The value of the environment variable `name`.
pub fn from_env(name: &str, what: &str) -> Result<Secret> {
    std::env::var(name).map(Secret::new).map_err(|_| {
        SecretError(format!(
            "{what} names the environment variable \"{name}\", which is not set for this PHP \
             process (for PHP-FPM: env[{name}] in the pool, with clear_env)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "********");
        assert_eq!(format!("{:?}", Secret::default()), "\"\"");
    }

    #[test]
    fn fingerprints_tell_secrets_apart() {
        let a = Secret::new("one");
        assert_eq!(a.fingerprint(), Secret::new("one").fingerprint());
        assert_ne!(a.fingerprint(), Secret::new("two").fingerprint());
    }

    #[test]
    fn only_the_first_line_of_a_file() {
        let dir = std::env::temp_dir().join(format!("php-smtp-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "first\r\nsecond line\n").unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(from_file(path, "password_file").unwrap().expose(), "first");
        // A changed file is read again (a different length changes nothing about mtime
        // granularity on its own; make sure the time moves).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "rotated\n").unwrap();
        let now = std::time::SystemTime::now();
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(now + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(
            from_file(path, "password_file").unwrap().expose(),
            "rotated"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let e = from_file("/nonexistent/pw", "password_file").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/pw"), "{e}");
    }
}
