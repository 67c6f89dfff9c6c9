//! Two other real SMTP servers: Postfix's smtp-sink and an aiosmtpd sink.

use std::fs;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use super::{
    files_with_suffix, free_port, python, repo_root, spawn_ready, stop, wait_until, Server,
    TempDir, START_TIMEOUT, WAIT,
};

pub const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

/// One transaction dumped by smtp-sink (`-d`). smtp-sink writes lines with LF ends, without
/// dot-stuffing, after its own X-* and Received headers, and adds an empty line at the end.
#[derive(Debug, Clone)]
pub struct SinkMessage {
    pub helo: Option<String>,
    pub mail_args: String,
    pub rcpt_args: Vec<String>,
    /// The message with LF line ends, as smtp-sink wrote it.
    pub content: Vec<u8>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let dir = TempDir::new("sink");
        let dump = dir.path().join("dump");
        fs::create_dir_all(&dump).unwrap();
        // As root, smtp-sink must switch to an unprivileged user, who must be able to write.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
            fs::set_permissions(&dump, fs::Permissions::from_mode(0o777)).unwrap();
        }
        for _attempt in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(SMTP_SINK);
            if root {
                cmd.args(["-u", "nobody"]);
            }
            cmd.arg("-d")
                .arg(format!("{}/msg.", dump.display()))
                .arg(format!("127.0.0.1:{port}"))
                .arg("10")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(
                    fs::File::create(dir.path().join("stderr.log")).unwrap(),
                ));
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start smtp-sink: {e}"));
            let up = wait_until(START_TIMEOUT, || {
                if let Ok(Some(_)) = child.try_wait() {
                    return Some(false); // exited: port taken meanwhile, or a bad option
                }
                TcpStream::connect(("127.0.0.1", port)).ok().map(|_| true)
            });
            if up == Some(true) {
                return SmtpSink { child, port, dir };
            }
            stop(&mut child);
        }
        panic!(
            "smtp-sink did not start; stderr:\n{}",
            fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default()
        );
    }

    /// Waits for `n` complete dumps and parses them (in no particular order).
    pub fn wait_messages(&self, n: usize) -> Vec<SinkMessage> {
        let dump = self.dir.path().join("dump");
        wait_until(WAIT, || {
            let files = files_with_suffix(&dump, "");
            if files.len() < n {
                return None;
            }
            let contents: Vec<Vec<u8>> = files.iter().filter_map(|f| fs::read(f).ok()).collect();
            // Complete once the closing empty line is there.
            if contents.len() < n || !contents.iter().all(|c| c.ends_with(b"\n\n")) {
                return None;
            }
            Some(contents.iter().map(|c| parse_sink_dump(c)).collect())
        })
        .unwrap_or_else(|| panic!("smtp-sink did not dump {n} message(s)"))
    }
}

fn parse_sink_dump(c: &[u8]) -> SinkMessage {
    let mut helo = None;
    let mut mail_args = String::new();
    let mut rcpt_args = Vec::new();
    let mut pos = 0;
    let mut in_received = false;
    while pos < c.len() {
        let end = c[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i + 1)
            .unwrap_or(c.len());
        let line = String::from_utf8_lossy(&c[pos..end]).trim_end().to_string();
        if in_received && !line.starts_with('\t') && !line.starts_with(' ') {
            break; // the message itself starts here
        }
        if let Some(v) = line.strip_prefix("X-Helo-Args: ") {
            helo = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("X-Mail-Args: ") {
            mail_args = v.to_string();
        } else if let Some(v) = line.strip_prefix("X-Rcpt-Args: ") {
            rcpt_args.push(v.to_string());
        } else if line.starts_with("Received: ") {
            in_received = true;
        }
        pos = end;
    }
    let mut content = c[pos..].to_vec();
    // smtp-sink ends every dump with an empty line of its own.
    assert!(
        content.ends_with(b"\n"),
        "dump does not end with its empty line"
    );
    content.pop();
    SinkMessage {
        helo,
        mail_args,
        rcpt_args,
        content,
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

// ---------------------------------------------------------------------------------------------
// aiosmtpd (tests/servers/aiosmtpd_sink.py)

pub struct AioSink {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

#[derive(Debug, Clone, Default)]
pub struct AioMessage {
    pub helo: String,
    pub mail_from: String,
    pub mail_options: Vec<String>,
    pub rcpts: Vec<String>,
    /// `envelope.original_content`: as received, dot-stuffing removed, CRLF kept.
    pub content: Vec<u8>,
}

impl AioSink {
    pub fn start() -> AioSink {
        let dir = TempDir::new("aiosmtpd");
        let mut cmd = Command::new(python());
        cmd.arg(repo_root().join("tests/servers/aiosmtpd_sink.py"))
            .arg("--dir")
            .arg(dir.path().join("rec"))
            .args(["--lifetime", "90"]);
        let (child, port) = spawn_ready(cmd, &dir.path().join("stderr.log"), "aiosmtpd_sink.py");
        AioSink { child, port, dir }
    }

    pub fn wait_messages(&self, n: usize) -> Vec<AioMessage> {
        let rec = self.dir.path().join("rec");
        wait_until(WAIT, || {
            let envs = files_with_suffix(&rec, ".env");
            (envs.len() >= n).then_some(envs)
        })
        .unwrap_or_else(|| panic!("aiosmtpd did not record {n} message(s)"))
        .into_iter()
        .map(|env| {
            let mut m = AioMessage {
                content: fs::read(env.with_extension("eml")).expect("read eml"),
                ..Default::default()
            };
            for line in fs::read_to_string(&env).expect("read env").lines() {
                let (k, v) = line.split_once(' ').unwrap_or((line, ""));
                match k {
                    "helo" => m.helo = v.into(),
                    "mail_from" => m.mail_from = v.into(),
                    "mail_option" => m.mail_options.push(v.into()),
                    "rcpt" => m.rcpts.push(v.into()),
                    _ => {}
                }
            }
            m
        })
        .collect()
    }
}

impl Drop for AioSink {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

impl Server for SmtpSink {
    fn port(&self) -> u16 {
        self.port
    }
}

impl Server for AioSink {
    fn port(&self) -> u16 {
        self.port
    }
}
