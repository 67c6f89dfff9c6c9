//! Servers with behaviours no other server here has: a one-off Python script, and a scripted
//! SMTP server in this process that gives each message its own fate.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{python, spawn_ready, stop, Server, TempDir};

// gets its arguments in sys.argv[1:], must print "READY <port>" and may write into the
// directory given as the environment variable OUT_DIR.

pub struct PyScript {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

impl PyScript {
    pub fn start(source: &str, args: &[&str]) -> PyScript {
        let dir = TempDir::new("pyscript");
        let path = dir.path().join("server.py");
        fs::write(&path, source).expect("write script");
        let mut cmd = Command::new(python());
        cmd.arg(&path).args(args).env("OUT_DIR", dir.path());
        let (child, port) =
            spawn_ready(cmd, &dir.path().join("stderr.log"), "inline Python server");
        PyScript { child, port, dir }
    }

    pub fn out_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for PyScript {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

// ---------------------------------------------------------------------------------------------
// A scripted SMTP server in this process, for faults the fault server can only put on a whole
// connection: here each message (counted across the server's life) gets its own fate.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Reply 250 to the final dot.
    Accept,
    /// Close once the first line of message data is in (MIDDATA close).
    CloseMidData,
    /// Read the whole message, then never answer (DOT silent).
    SilentAfterData,
}

#[derive(Debug, Default)]
pub struct ScriptLog {
    pub connections: usize,
    /// Message data (still dot-stuffed, without the final dot) of the accepted messages.
    pub accepted: Vec<Vec<u8>>,
    /// Message data of every message received in full, answered or not.
    pub received: Vec<Vec<u8>>,
    /// DATA commands answered with 354.
    pub data_started: usize,
}

pub struct ScriptServer {
    pub port: u16,
    pub log: Arc<Mutex<ScriptLog>>,
    stopping: Arc<AtomicBool>,
}

impl ScriptServer {
    /// `fate(n)` decides what happens to message number n (1-based, across all connections).
    pub fn start(fate: impl Fn(usize) -> Fate + Send + Sync + 'static) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(ScriptLog::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let fate = Arc::new(fate);
        {
            let log = log.clone();
            let stopping = stopping.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    log.lock().unwrap().connections += 1;
                    let (log, fate) = (log.clone(), fate.clone());
                    std::thread::spawn(move || {
                        let _ = script_session(stream, &log, &*fate);
                    });
                }
            });
        }
        ScriptServer {
            port,
            log,
            stopping,
        }
    }

    pub fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    pub fn accepted(&self) -> Vec<Vec<u8>> {
        self.log.lock().unwrap().accepted.clone()
    }

    /// Every message received in full, answered or not.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.log.lock().unwrap().received.clone()
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn script_session(
    stream: TcpStream,
    log: &Mutex<ScriptLog>,
    fate: &(dyn Fn(usize) -> Fate + Send + Sync),
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    w.write_all(b"220 script.test ESMTP\r\n")?;
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).to_ascii_uppercase();
        let verb = text.split_whitespace().next().unwrap_or("").to_string();
        match verb.as_str() {
            "EHLO" => w.write_all(b"250-script.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")?,
            "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => w.write_all(b"250 2.0.0 Ok\r\n")?,
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n")?;
                return Ok(());
            }
            "DATA" => {
                let n = {
                    let mut l = log.lock().unwrap();
                    l.data_started += 1;
                    l.data_started
                };
                let what = fate(n);
                w.write_all(b"354 go ahead\r\n")?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if r.read_until(b'\n', &mut line)? == 0 {
                        return Ok(());
                    }
                    if what == Fate::CloseMidData {
                        let _ = w.shutdown(Shutdown::Both);
                        return Ok(());
                    }
                    if line == b".\r\n" {
                        break;
                    }
                    data.extend_from_slice(&line);
                }
                log.lock().unwrap().received.push(data.clone());
                match what {
                    Fate::Accept => {
                        log.lock().unwrap().accepted.push(data);
                        w.write_all(b"250 2.0.0 Ok: queued\r\n")?;
                    }
                    _ => {
                        // Never answer: swallow everything until the client gives up.
                        let mut sink = [0u8; 4096];
                        while r.read(&mut sink)? > 0 {}
                        return Ok(());
                    }
                }
            }
            _ => w.write_all(b"500 5.5.2 unknown command\r\n")?,
        }
    }
}

impl Server for PyScript {
    fn port(&self) -> u16 {
        self.port
    }
}

impl Server for ScriptServer {
    fn port(&self) -> u16 {
        self.port
    }
}
