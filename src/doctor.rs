//! `smtp doctor`: walks the steps of a send one by one (DNS, connect, greeting, EHLO, TLS,
//! AUTH, MAIL FROM + RCPT TO) for the given settings and says for each what it found and, when
//! it failed, the fix. Sends no mail: the sender check ends with RSET.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::{AuthMode, Settings, StartTls};
use crate::error::{About, Advice, Error, NetError};
use crate::transport::{net::resolve, Budget, Connection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but something should be looked at (e.g. no encryption).
    Warn,
    Fail,
    /// Not tried, because an earlier step failed or the settings do not need it.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warning",
            Verdict::Fail => "failed",
            Verdict::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    /// What to do, for a failure or a warning.
    pub fix: Option<String>,
}

struct Report {
    steps: Vec<Step>,
}

impl Report {
    fn add(&mut self, name: &'static str, verdict: Verdict, detail: String, fix: Option<String>) {
        self.steps.push(Step {
            name,
            verdict,
            detail,
            fix,
        });
    }

    fn fail(&mut self, name: &'static str, e: &Error) {
        let detail = match e.reply() {
            Some(r) => format!("the server said \"{r}\""),
            None => "no usable answer".into(),
        };
        self.add(name, Verdict::Fail, detail, Some(Advice(e).to_string()));
    }

    /// Marks the steps after a failure as not tried.
    fn skip_rest(&mut self, names: &[&'static str]) {
        for n in names {
            self.add(
                n,
                Verdict::Skipped,
                "not tried: an earlier step failed".into(),
                None,
            );
        }
    }
}

const STEPS_AFTER_CONNECT: &[&str] = &["greeting", "ehlo", "tls", "extensions", "auth", "sender"];

/// Diagnoses the settings; `sender` is the address to try in MAIL FROM (the From of your
/// mail, e.g. MediaWiki's `$wgPasswordSender`).
pub fn diagnose(s: &Settings, sender: Option<&str>) -> Vec<Step> {
    let mut r = Report { steps: Vec::new() };
    let budget = Budget::new(s.timeout, s.max_time);
    let mode = if s.implicit_tls {
        "implicit TLS"
    } else {
        match s.starttls {
            StartTls::Auto => "STARTTLS when offered",
            StartTls::Required => "STARTTLS required",
            StartTls::Off => "no TLS",
        }
    };
    r.add(
        "settings",
        Verdict::Ok,
        format!(
            "{} ({mode}), {}, timeout {} s",
            s.endpoint(),
            match s.auth {
                AuthMode::Off => "no login".to_string(),
                _ => format!("login as {}", s.username),
            },
            s.timeout.as_secs_f64()
        ),
        None,
    );

    let addrs = match resolve(&s.host, s.port, budget.step()) {
        Ok(a) => {
            let list: Vec<String> = a.iter().map(|x| x.ip().to_string()).collect();
            r.add(
                "dns",
                Verdict::Ok,
                format!("{} is {}", s.host, list.join(", ")),
                None,
            );
            a
        }
        Err(e) => {
            r.fail("dns", &e);
            r.skip_rest(&["connect"]);
            r.skip_rest(STEPS_AFTER_CONNECT);
            return r.steps;
        }
    };

    let mut conn = match Connection::connect(s, &addrs, &budget) {
        Ok(c) => {
            r.add(
                "connect",
                Verdict::Ok,
                format!("connected to {}", s.endpoint()),
                None,
            );
            c
        }
        Err(e @ Error::Network(NetError::Tls { .. })) => {
            r.add(
                "connect",
                Verdict::Ok,
                format!("connected to {}", s.endpoint()),
                None,
            );
            r.add(
                "greeting",
                Verdict::Skipped,
                "not reached: TLS failed first".into(),
                None,
            );
            r.add(
                "ehlo",
                Verdict::Skipped,
                "not reached: TLS failed first".into(),
                None,
            );
            r.fail("tls", &e);
            r.skip_rest(&["extensions", "auth", "sender"]);
            return r.steps;
        }
        Err(e) => {
            let mut fix = Advice(&e).to_string();
            let probes = probe_other_ports(s, &addrs);
            if !probes.is_empty() {
                fix.push_str(". Other ports on this host: ");
                fix.push_str(&probes.join("; "));
            }
            let detail = match e {
                Error::Network(NetError::Refused { .. }) => "connection refused".to_string(),
                Error::Timeout { .. } => format!("no answer within {} s", s.timeout.as_secs_f64()),
                _ => "cannot connect".to_string(),
            };
            r.add("connect", Verdict::Fail, detail, Some(fix));
            r.skip_rest(STEPS_AFTER_CONNECT);
            return r.steps;
        }
    };

    match conn.greet(&budget) {
        Ok(reply) => r.add("greeting", Verdict::Ok, reply.to_string(), None),
        Err(e) => {
            let mut e_text = Advice(&e).to_string();
            if matches!(e, Error::Timeout { .. }) && !s.implicit_tls {
                e_text.push_str(". A port that stays silent often expects implicit TLS");
                r.add(
                    "greeting",
                    Verdict::Fail,
                    format!(
                        "the server accepted the connection but sent no greeting within {} s",
                        s.timeout.as_secs_f64()
                    ),
                    Some(e_text),
                );
            } else {
                r.fail("greeting", &e);
            }
            r.skip_rest(&["ehlo", "tls", "extensions", "auth", "sender"]);
            return r.steps;
        }
    }

    if let Err(e) = conn.hello(s, &budget) {
        r.fail("ehlo", &e);
        r.skip_rest(&["tls", "extensions", "auth", "sender"]);
        return r.steps;
    }
    r.add("ehlo", Verdict::Ok, capabilities(&conn), None);

    match conn.secure(s, &budget) {
        Ok(()) => match conn.tls_description() {
            Some(d) => r.add(
                "tls",
                Verdict::Ok,
                format!(
                    "encrypted ({d}), certificate {}",
                    if s.verify_peer {
                        "verified"
                    } else {
                        "NOT checked (smtp.verify_peer=0)"
                    }
                ),
                (!s.verify_peer).then(|| {
                    "turn smtp.verify_peer back on; use smtp.cafile for a private CA".to_string()
                }),
            ),
            None => r.add(
                "tls",
                Verdict::Warn,
                "not encrypted: mail goes over the network in clear text".into(),
                Some(if s.starttls == StartTls::Off {
                    "smtp.starttls is off; set it to auto, or use the ssl:// host prefix".into()
                } else {
                    "the server offers no STARTTLS on this port: use 587 (STARTTLS) or 465 with \
                     the ssl:// host prefix"
                        .into()
                }),
            ),
        },
        Err(e) => {
            r.fail("tls", &e);
            r.skip_rest(&["extensions", "auth", "sender"]);
            return r.steps;
        }
    }

    // After STARTTLS: the EHLO reply that counts (REQUIRETLS is offered over TLS only).
    r.add(
        "extensions",
        Verdict::Ok,
        conn.capabilities().extensions(),
        None,
    );

    if let (Some(oauth), false) = (&s.oauth, s.auth == AuthMode::Off) {
        let limits = crate::oauth::Limits {
            step: s.timeout,
            until: None,
        };
        match crate::oauth::token(oauth, limits, false) {
            Ok(t) => r.add(
                "token",
                Verdict::Ok,
                format!(
                    "{t}; provider {}, scope {}",
                    oauth.provider.name(),
                    oauth
                        .scope
                        .as_deref()
                        .or(oauth.provider.default_scope())
                        .unwrap_or("(none)")
                ),
                None,
            ),
            Err(e) => {
                r.add(
                    "token",
                    Verdict::Fail,
                    "no OAuth token".into(),
                    Some(e.to_string()),
                );
                r.skip_rest(&["auth", "sender"]);
                return r.steps;
            }
        }
    }

    if s.auth == AuthMode::Off {
        r.add("auth", Verdict::Skipped, "smtp.auth is off".into(), None);
    } else {
        match conn.login(s, &budget) {
            Ok(()) => r.add(
                "auth",
                Verdict::Ok,
                format!("logged in as {}", s.username),
                None,
            ),
            Err(e) => {
                r.fail("auth", &e);
                r.skip_rest(&["sender"]);
                return r.steps;
            }
        }
    }

    match sender.map(str::trim).filter(|x| !x.is_empty()) {
        None => r.add(
            "sender",
            Verdict::Skipped,
            "no sender to try: give one (the From address of your mail)".into(),
            None,
        ),
        Some(from) => match conn.check_sender(from, &budget) {
            Ok(reply) => r.add(
                "sender",
                Verdict::Ok,
                format!("the server accepts mail from <{from}> ({reply})"),
                None,
            ),
            Err(Error::Rejected {
                about: About::Recipient(_),
                reply,
                ..
            }) => r.add(
                "sender",
                Verdict::Warn,
                format!(
                    "the server accepts MAIL FROM:<{from}>, but refused <{from}> as a test \
                     recipient (\"{reply}\"), so a refusal it makes only once a recipient is \
                     given could not be checked"
                ),
                Some("send a test mail to a real recipient to be sure".into()),
            ),
            Err(e) => r.fail("sender", &e),
        },
    }
    conn.quit();
    r.steps
}

fn capabilities(conn: &Connection) -> String {
    let offered = conn.capabilities().describe();
    if offered.is_empty() {
        "the server offers no extensions we use".into()
    } else {
        format!("the server offers {offered}")
    }
}

/// When the configured port fails, which of the usual ports answer, and how.
fn probe_other_ports(s: &Settings, addrs: &[SocketAddr]) -> Vec<String> {
    let Some(ip) = addrs.first().map(|a| a.ip()) else {
        return Vec::new();
    };
    let wait = s.timeout.min(Duration::from_secs(2));
    [587u16, 465, 25]
        .into_iter()
        .filter(|p| *p != s.port)
        .map(|port| {
            let addr = SocketAddr::new(ip, port);
            let verdict = match std::net::TcpStream::connect_timeout(&addr, wait) {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "refused".into(),
                Err(_) => "no answer".into(),
                Ok(tcp) => {
                    use std::io::Read;
                    let _ = tcp.set_read_timeout(Some(wait));
                    let mut buf = [0u8; 4];
                    match (&tcp).read(&mut buf) {
                        Ok(n) if n >= 3 && &buf[..3] == b"220" => {
                            "answers SMTP in plain text (use a plain host name)".to_string()
                        }
                        Ok(_) => "answers, but not with SMTP".to_string(),
                        Err(_) => {
                            "accepts connections and waits (implicit TLS: use the ssl:// host \
                             prefix)"
                                .to_string()
                        }
                    }
                }
            };
            format!("{port} {verdict}")
        })
        .collect()
}
