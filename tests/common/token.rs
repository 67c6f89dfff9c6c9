//! The project's HTTPS OAuth token endpoint (tests/servers/token_server.py), acting as
//! Microsoft's and Google's, with its state (issued tokens, request counts) in its directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use serde_json::Value;

use super::{certs, python, repo_root, spawn_ready, stop, TempDir};

/// The tenant the endpoint answers for (`/<tenant>/oauth2/v2.0/token`).
pub const TENANT: &str = "test-tenant";
/// Looks like an Azure client secret: `~` and characters that need form encoding.
pub const SECRET: &str = "Xy7~Q8r.Sec+ret/with=odd&chars";

pub struct TokenServer {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

impl TokenServer {
    /// With the `good` certificate (trusted through the test CA) and `args`.
    pub fn start(args: &[&str]) -> TokenServer {
        let c = certs();
        TokenServer::start_with(&c.join("good.pem"), &c.join("good.key"), args)
    }

    pub fn start_with(pem: &Path, key: &Path, args: &[&str]) -> TokenServer {
        let dir = TempDir::new("token");
        let state = dir.path().join("state");
        let mut cmd = Command::new(python());
        cmd.arg(repo_root().join("tests/servers/token_server.py"))
            .args(["--lifetime", "90", "--tenant", TENANT])
            .arg("--cert")
            .arg(pem)
            .arg("--key")
            .arg(key)
            .arg("--state")
            .arg(&state)
            .args(args);
        let (child, port) = spawn_ready(cmd, &dir.path().join("stderr.log"), "token_server.py");
        TokenServer { child, port, dir }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn ms_url(&self) -> String {
        format!("https://127.0.0.1:{}/{TENANT}/oauth2/v2.0/token", self.port)
    }

    pub fn google_url(&self) -> String {
        format!("https://127.0.0.1:{}/token", self.port)
    }

    pub fn counts(&self) -> Value {
        let text = fs::read_to_string(self.state().join("requests.json")).unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Token requests answered so far.
    pub fn requests(&self) -> u64 {
        self.counts()["requests"].as_u64().unwrap_or(0)
    }

    /// The tokens currently valid, one a line (what fault_smtp.py --xoauth2-tokens reads).
    pub fn tokens_file(&self) -> PathBuf {
        self.state().join("tokens")
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// `--client` argument for a client id with the test secret.
pub fn client_arg(client: &str) -> String {
    format!("{client}={SECRET}")
}

/// A service-account key made by token_server.py --make-google-key.
pub fn google_key(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new(python())
        .arg(repo_root().join("tests/servers/token_server.py"))
        .arg("--make-google-key")
        .arg(&out)
        .status()
        .expect("run token_server.py --make-google-key");
    assert!(status.success());
    out
}
