//! The test certificates (tests/servers/make_certs.sh), made once per test binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::repo_root;

static CERTS: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_certs() {
    if let Some(dir) = CERTS.get() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// The directory with ca.pem, good.pem/key, wrongname.*, expired.*, selfsigned.*.
pub fn certs() -> &'static Path {
    CERTS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("php-smtp-test-certs-{}", std::process::id()));
        let out = Command::new("sh")
            .arg(repo_root().join("tests/servers/make_certs.sh"))
            .arg(&dir)
            .output()
            .expect("run make_certs.sh");
        assert!(
            out.status.success(),
            "make_certs.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The directory outlives every test of this binary; remove it when the process exits.
        unsafe {
            libc::atexit(remove_certs);
        }
        dir
    })
}

pub fn ca_file() -> String {
    certs().join("ca.pem").to_string_lossy().into_owned()
}
