//! The two ways a batch of cases is sent, and what arrived at each end.
//!
//! Reference: `php -n -d sendmail_path="/usr/sbin/sendmail -t -i -C <conf>"`, PHP's own mail(),
//! into a private Postfix (tests/servers/postfix.py --relay) that relays everything to a capture
//! server (tests/servers/fault_smtp.py --record). Extension: `php -n -d extension=libsmtp.so -d
//! smtp.override_mail=1` to a second capture server with the same capabilities. Both run the
//! same send.php over the same case file; each case's mail is found by its tag header.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::case::Case;
use super::compare::{Arrival, Outcome, Side};
use super::mime::{bounce_of, tag};
use crate::common::fault::FaultServer;
use crate::common::postfix::{Postfix, PostfixOpts};

/// A PHP batch that runs longer than this is killed (hundreds of cases take seconds).
const BATCH_LIMIT: Duration = Duration::from_secs(600);
/// How long Postfix may take to relay the last message after the batch returned.
const RELAY_LIMIT: Duration = Duration::from_secs(60);

pub struct Tools {
    pub php: String,
    pub ext: PathBuf,
    pub send_php: PathBuf,
}

/// One Postfix and two capture servers, all with or all without 8BITMIME.
pub struct Chain {
    postfix: Postfix,
    reference: FaultServer,
    extension: FaultServer,
    smtp_send: FaultServer,
    seven_bit: bool,
}

/// What each way did with one case.
#[derive(Debug, Clone, Default)]
pub struct Sides {
    pub reference: Side,
    /// The extension's mail().
    pub mail: Side,
    /// The extension's smtp_send() with the same arguments (skipped with additional_params).
    pub smtp_send: Side,
}

/// By case id.
pub type Results = BTreeMap<usize, Sides>;

impl Chain {
    pub fn start(seven_bit: bool, lifetime: Duration) -> Chain {
        let life = lifetime.as_secs().max(60).to_string();
        let mut args = vec!["--hostname", "capture.test", "--lifetime", life.as_str()];
        if seven_bit {
            args.push("--no-8bitmime");
        }
        let reference = FaultServer::start(&args);
        let extension = FaultServer::start(&args);
        let smtp_send = FaultServer::start(&args);
        let postfix = Postfix::start(PostfixOpts {
            users: Vec::new(),
            relay: Some(reference.port),
            wire_log: false,
            keep: std::env::var_os("REFERENCE_KEEP").is_some(),
            ..Default::default()
        });
        Chain {
            postfix,
            reference,
            extension,
            smtp_send,
            seven_bit,
        }
    }

    /// Sends `cases` (id, case) both ways and collects what arrived.
    pub fn run(&self, cases: &[(usize, &Case)], tools: &Tools, work: &Path) -> Results {
        let kind = if self.seven_bit { "7bit" } else { "8bit" };
        let file = work.join(format!("cases-{kind}.json"));
        // send.php indexes the list; the id in each entry is the tag it writes.
        let list: Vec<Value> = cases.iter().map(|(id, c)| c.to_json(*id)).collect();
        fs::write(&file, serde_json::to_vec(&list).expect("json")).expect("write cases");

        let sendmail = format!(
            "sendmail_path=/usr/sbin/sendmail -t -i -C {}",
            self.postfix.config_directory().display()
        );
        // REFERENCE_PHP_INI="mail.cr_lf_mode=lf ...": the same PHP settings on every side (a
        // mode PHP 8.5's own mail() writes sendmail's input in, which the extension must match).
        let extra: Vec<String> = std::env::var("REFERENCE_PHP_INI")
            .unwrap_or_default()
            .split_whitespace()
            .flat_map(|d| ["-d".to_string(), d.to_string()])
            .collect();
        let mut reference_args = vec!["-d".to_string(), sendmail];
        reference_args.extend(extra.iter().cloned());
        let ext_args = |port: u16| -> Vec<String> {
            [
                format!("extension={}", tools.ext.display()),
                "smtp.override_mail=1".into(),
                "smtp.host=127.0.0.1".into(),
                format!("smtp.port={port}"),
                "smtp.timeout=20".into(),
                "smtp.max_time=60".into(),
            ]
            .into_iter()
            .flat_map(|d| ["-d".to_string(), d])
            .chain(extra.iter().cloned())
            .collect()
        };
        let (mail_args, send_args) = (ext_args(self.extension.port), ext_args(self.smtp_send.port));

        let n = cases.len();
        let run = |name: &str, args: &[String], mode: &str| {
            let out = work.join(format!("{name}-{kind}"));
            batch(tools, &file, &out, args, mode, n)
        };
        let (ref_out, mail_out, send_out) = std::thread::scope(|s| {
            let r = s.spawn(|| run("ref", &reference_args, "mail"));
            let m = s.spawn(|| run("mail", &mail_args, "mail"));
            let e = s.spawn(|| run("send", &send_args, "smtp_send"));
            (
                r.join().expect("reference batch"),
                m.join().expect("extension mail() batch"),
                e.join().expect("extension smtp_send() batch"),
            )
        });

        // Postfix relays in its own time: wait until its queue is empty (everything relayed
        // or bounced, bounces included) and the capture server has stopped receiving.
        let end = Instant::now() + RELAY_LIMIT;
        let mut seen = usize::MAX;
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.reference.received().len();
            if (self.postfix.queue_empty() && now == seen) || Instant::now() > end {
                break;
            }
            seen = now;
        }

        let mut results: Results = BTreeMap::new();
        for (i, (id, _)) in cases.iter().enumerate() {
            let entry = results.entry(*id).or_default();
            entry.reference.outcome = ref_out[i].clone();
            entry.mail.outcome = mail_out[i].clone();
            entry.smtp_send.outcome = send_out[i].clone();
        }
        for m in self.reference.received() {
            let a = arrival(&m);
            if let Some(e) = tag(&a.data).and_then(|id| results.get_mut(&id)) {
                e.reference.arrivals.push(a);
            } else if let Some((id, why)) = bounce_of(&a.data).filter(|_| a.mail_from.is_empty()) {
                if let Some(e) = results.get_mut(&id) {
                    e.reference.bounce = Some(why);
                }
            } else {
                eprintln!(
                    "reference: a message without the case tag arrived: {}",
                    String::from_utf8_lossy(&a.data[..a.data.len().min(400)]).escape_debug()
                );
            }
        }
        for (server, pick) in [
            (
                &self.extension,
                (|s: &mut Sides| &mut s.mail) as fn(&mut Sides) -> &mut Side,
            ),
            (&self.smtp_send, |s: &mut Sides| &mut s.smtp_send),
        ] {
            for m in server.received() {
                let a = arrival(&m);
                if let Some(e) = tag(&a.data).and_then(|id| results.get_mut(&id)) {
                    pick(e).arrivals.push(a);
                }
            }
        }
        results
    }
}

fn arrival(m: &crate::common::fault::Recorded) -> Arrival {
    Arrival {
        mail_from: m.mail_from(),
        rcpts: m.rcpt_to(),
        data: m.eml.clone(),
    }
}

/// Runs send.php over the case file until every case has an outcome: a process that dies in
/// a call (its last line is that call's "start") gives that case a crash, and the next
/// process starts after it.
fn batch(
    tools: &Tools,
    cases: &Path,
    out_base: &Path,
    php_args: &[String],
    mode: &str,
    n: usize,
) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    let mut first = 0;
    let mut run = 0;
    while first < n {
        run += 1;
        let out = out_base.with_extension(format!("{run}.jsonl"));
        let _ = fs::remove_file(&out);
        let mut child = Command::new(&tools.php)
            .arg("-n")
            .args(php_args)
            .arg(&tools.send_php)
            .arg(cases)
            .arg(&out)
            .arg(first.to_string())
            .arg(mode)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tools.php));
        let mut stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let end = Instant::now() + BATCH_LIMIT;
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait php") {
                break Some(st);
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = reader.join().unwrap_or_default();
        // What sendmail said (stderr, after send.php's "=== case N" marker) joins the warnings.
        let mut said: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut current = None;
        for line in stderr.lines() {
            if let Some(n) = line.strip_prefix("=== case ") {
                current = n.trim().parse::<usize>().ok();
            } else if let Some(i) = current {
                said.entry(i).or_default().push(line.to_string());
            }
        }
        let text = fs::read_to_string(&out).unwrap_or_default();
        let mut pending = None;
        for line in text.lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("send.php wrote {line:?}: {e}"));
            if let Some(i) = v["start"].as_u64() {
                pending = Some(i as usize);
            } else if let Some(i) = v["case"].as_u64() {
                let strings = |k: &str| -> Vec<String> {
                    v[k].as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let mut warnings = strings("warnings");
                if let Some(e) = v["error"].as_str() {
                    warnings.push(e.to_string());
                }
                warnings.extend(said.remove(&(i as usize)).unwrap_or_default());
                outcomes[i as usize] = Some(Outcome {
                    ok: v["ok"].as_bool().unwrap_or(false),
                    warnings,
                    crashed: None,
                    skipped: v["skipped"].as_bool().unwrap_or(false),
                });
                pending = None;
                first = i as usize + 1;
            }
        }
        let clean_exit = status.is_some_and(|s| s.success());
        match pending {
            Some(i) => {
                let why = match status {
                    Some(s) => format!("{s}; stderr: {}", tail(&stderr)),
                    None => format!("killed after {BATCH_LIMIT:?}"),
                };
                outcomes[i] = Some(Outcome {
                    crashed: Some(why),
                    ..Default::default()
                });
                first = i + 1;
            }
            None if !clean_exit || first < n => {
                panic!(
                    "send.php stopped outside a mail() call ({status:?}) after case {first}; \
                     stderr:\n{stderr}"
                );
            }
            None => {}
        }
    }
    outcomes
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" / ")
}
