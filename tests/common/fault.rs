//! The project's fault-injecting SMTP server (tests/servers/fault_smtp.py): it records every
//! message it received in full, with the reply it gave (none, when it never answered).

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::Value;

use super::{
    base64_decode, certs, files_with_suffix, header_value, python, repo_root, spawn_ready, stop,
    wait_until, Server, TempDir, WAIT,
};

pub struct FaultServer {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

/// One message the fault server received in full: NNNN.eml and NNNN.json.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub name: String,
    pub eml: Vec<u8>,
    pub json: Value,
}

impl Recorded {
    fn text(&self, key: &str) -> Option<String> {
        self.json[key].as_str().map(String::from)
    }
    fn list(&self, key: &str) -> Vec<String> {
        self.json[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn mail_from(&self) -> String {
        self.text("mail_from").unwrap_or_default()
    }
    pub fn mail_params(&self) -> Vec<String> {
        self.list("mail_params")
    }
    pub fn rcpt_to(&self) -> Vec<String> {
        self.list("rcpt_to")
    }
    /// The parameters of each accepted RCPT, joined by spaces (`NOTIFY=FAILURE ORCPT=...`).
    pub fn rcpt_params(&self) -> Vec<String> {
        self.json["rcpt_params"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|p| {
                        p.as_array()
                            .map(|w| {
                                w.iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
    pub fn helo(&self) -> Option<String> {
        self.text("helo")
    }
    pub fn tls(&self) -> bool {
        self.json["tls"].as_bool().expect("tls is a boolean")
    }
    pub fn auth_user(&self) -> Option<String> {
        self.text("auth_user")
    }
    pub fn connection(&self) -> i64 {
        self.json["connection"]
            .as_i64()
            .expect("connection is a number")
    }
    /// The reply the server gave after the message; `None` when it never answered.
    pub fn reply(&self) -> Option<u16> {
        self.json["reply"].as_u64().map(|c| c as u16)
    }
    /// The server accepted it (2xx after the final dot).
    pub fn accepted(&self) -> bool {
        self.reply().is_some_and(|c| (200..300).contains(&c))
    }
    /// The data section as it was on the wire (dot-stuffed, with the final `.\r\n`).
    pub fn raw(&self) -> Vec<u8> {
        base64_decode(self.json["raw_data_b64"].as_str().expect("raw_data_b64"))
    }
    /// The Message-ID header's value in the received message.
    pub fn message_id(&self) -> Option<String> {
        header_value(&self.eml, "Message-ID")
    }
}

impl FaultServer {
    /// Starts the server with `--record` (and a lifetime, so nothing outlives the tests).
    pub fn start(args: &[&str]) -> FaultServer {
        let dir = TempDir::new("fault");
        let script = repo_root().join("tests/servers/fault_smtp.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .arg("--record")
            .arg(dir.path().join("rec"))
            .args(["--lifetime", "90"])
            .args(args);
        let (child, port) = spawn_ready(cmd, &dir.path().join("stderr.log"), "fault_smtp.py");
        FaultServer { child, port, dir }
    }

    /// With TLS material from `certs()`: `--cert`/`--key` for the named pair.
    pub fn start_tls(cert: &str, args: &[&str]) -> FaultServer {
        let c = certs();
        let pem = c.join(format!("{cert}.pem"));
        let key = c.join(format!("{cert}.key"));
        let mut all: Vec<&str> = vec![
            "--cert",
            pem.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        FaultServer::start(&all)
    }

    pub fn record_dir(&self) -> PathBuf {
        self.dir.path().join("rec")
    }

    /// Every message received in full so far, in order, whatever the server replied.
    pub fn received(&self) -> Vec<Recorded> {
        files_with_suffix(&self.record_dir(), ".json")
            .into_iter()
            .map(|json_path| {
                let text = fs::read_to_string(&json_path).expect("read json");
                let json: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{text}", json_path.display()));
                let eml = fs::read(json_path.with_extension("eml")).expect("read eml");
                let name = json_path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .to_string();
                Recorded { name, eml, json }
            })
            .collect()
    }

    /// The messages the server accepted (replied 2xx to), in order.
    pub fn messages(&self) -> Vec<Recorded> {
        self.received()
            .into_iter()
            .filter(|m| m.accepted())
            .collect()
    }

    /// Waits until at least `n` received messages are recorded, and returns all of them.
    pub fn wait_received(&self, n: usize) -> Vec<Recorded> {
        wait_until(WAIT, || {
            let m = self.received();
            (m.len() >= n).then_some(m)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} received message(s), have {}; transcript:\n{}",
                self.received().len(),
                self.transcript()
            )
        })
    }

    /// Waits until at least `n` accepted messages are recorded, and returns all of them.
    pub fn wait_messages(&self, n: usize) -> Vec<Recorded> {
        wait_until(WAIT, || {
            let m = self.messages();
            (m.len() >= n).then_some(m)
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {n} recorded message(s), have {}; transcript:\n{}",
                self.messages().len(),
                self.transcript()
            )
        })
    }

    pub fn transcript(&self) -> String {
        fs::read_to_string(self.record_dir().join("transcript.log")).unwrap_or_default()
    }

    /// The transcript once it contains `needle` (or after 5 s): the server logs a QUIT we do
    /// not wait for a moment after our send returned.
    pub fn transcript_with(&self, needle: &str) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let t = self.transcript();
            if t.contains(needle) || std::time::Instant::now() > until {
                return t;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The transcript lines of one connection, without the "<conn> " prefix.
    pub fn transcript_of(&self, conn: u32) -> Vec<String> {
        let prefix = format!("{conn} ");
        self.transcript()
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix).map(String::from))
            .collect()
    }

    /// Waits until the transcript satisfies `pred`; returns it (panics after a timeout).
    pub fn wait_transcript(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        wait_until(WAIT, || {
            let t = self.transcript();
            pred(&t).then_some(t)
        })
        .unwrap_or_else(|| panic!("transcript never showed {what}:\n{}", self.transcript()))
    }

    /// How many times the client sent `verb` (e.g. "RCPT"), over all connections.
    pub fn commands(&self, verb: &str) -> usize {
        let prefix = format!("C: {verb}");
        self.transcript()
            .lines()
            .filter(|l| {
                l.split_once(' ')
                    .is_some_and(|(_, rest)| rest.to_ascii_uppercase().starts_with(&prefix))
            })
            .count()
    }

    /// Lines of the transcript that say `<conn> OPEN`.
    pub fn connections_opened(&self) -> usize {
        self.transcript()
            .lines()
            .filter(|l| l.ends_with(" OPEN"))
            .count()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

impl Server for FaultServer {
    fn port(&self) -> u16 {
        self.port
    }
}
