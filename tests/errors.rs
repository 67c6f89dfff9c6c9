//! Failures: each returns the right `Error` variant, stage and SMTP code, says so in words, and
//! leaves nothing half-delivered on the server. One table of scenarios (a server, the settings,
//! what the error must be and say, what the server must not have) drives the common cases; the
//! cases below the table check more than the table knows (timing, outcome details).

mod common;

use std::time::{Duration, Instant};

use common::*;
use smtp::error::{About, Error, Limit, NetError, Outcome, Quota, Stage};
use smtp::pool;

/// `msg` contains every one of `words` (case-insensitive).
fn says(e: &Error, words: &[&str]) {
    let text = e.to_string();
    let lower = text.to_lowercase();
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "{w:?} missing in: {text}"
        );
    }
}

/// The server of a scenario.
enum Srv {
    /// Nothing listens on the port.
    Down,
    /// fault_smtp.py with these flags.
    Fault(&'static [&'static str]),
    /// fault_smtp.py with TLS material for this certificate.
    FaultTls(&'static str, &'static [&'static str]),
}

/// One failure scenario. In `ini` and `says`, `{port}` stands for the server's port and
/// `{cafile}` for the test CA's file.
struct Case {
    name: &'static str,
    server: Srv,
    ini: &'static [(&'static str, &'static str)],
    to: &'static str,
    /// `None`: a failure of no one step (a missing capability).
    stage: Option<Stage>,
    /// The SMTP code behind the error (0: the server said nothing).
    code: u16,
    outcome: Outcome,
    says: &'static [&'static str],
    never_says: &'static [&'static str],
    /// Commands the server must never have seen (e.g. "C: MAIL": nothing after a refusal).
    never_seen: &'static [&'static str],
    /// The variant and its fields, beyond what the other columns say.
    variant: fn(&Error) -> bool,
    /// The call took at least this long (a time limit waited out, not cut short).
    at_least: Duration,
}

const NO_TIME: Duration = Duration::ZERO;
const ONE_RCPT: &str = "a@example.test";

fn rejected_at(e: &Error, stage: Stage, about: Option<About>) -> bool {
    matches!(e, Error::Rejected { stage: s, about: a, .. }
        if *s == stage && about.as_ref().is_none_or(|want| want == a))
}

const CASES: &[Case] = &[
    Case {
        name: "nothing listens on the port",
        server: Srv::Down,
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Connect),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["refused", "127.0.0.1:{port}", "smtp.port"],
        never_says: &[],
        never_seen: &[],
        variant: |e| matches!(e, Error::Network(NetError::Refused { host, .. }) if host == "127.0.0.1"),
        at_least: NO_TIME,
    },
    Case {
        name: "a silent server times out without hanging",
        server: Srv::Fault(&["--action", "CONNECT=silent"]),
        ini: &[("timeout", "1")],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["no answer", "within 1 s", "greeting"],
        never_says: &[],
        never_seen: &[],
        variant: |e| matches!(e, Error::Timeout { limit, .. } if *limit == Limit::Step(Duration::from_secs(1))),
        at_least: Duration::from_millis(900),
    },
    Case {
        name: "a server that never greets fails after smtp.timeout, not max_time",
        server: Srv::Fault(&["--action", "GREETING=silent"]),
        ini: &[("timeout", "1"), ("max_time", "30")],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["within 1 s"],
        never_says: &[],
        never_seen: &[],
        variant: |e| {
            matches!(
                e,
                Error::Timeout {
                    limit: Limit::Step(_),
                    ..
                }
            )
        },
        at_least: Duration::from_millis(900),
    },
    Case {
        name: "greeting 421 is a temporary refusal",
        server: Srv::Fault(&["--reply", "GREETING=421 4.3.2 Service not available"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 421,
        outcome: Outcome::NotSent,
        says: &[
            "refused the connection",
            "421 4.3.2 Service not available",
            "temporary",
        ],
        never_says: &[],
        never_seen: &["C: MAIL"],
        variant: |e| {
            rejected_at(e, Stage::Greeting, None)
                && e.reply().unwrap().enhanced.as_deref() == Some("4.3.2")
        },
        at_least: NO_TIME,
    },
    Case {
        name: "greeting 554 is a permanent refusal",
        server: Srv::Fault(&["--reply", "GREETING=554 5.3.2 No SMTP service here"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 554,
        outcome: Outcome::NotSent,
        says: &["refused the connection", "554 5.3.2 No SMTP service here"],
        never_says: &["temporary"],
        never_seen: &["C: MAIL"],
        variant: |e| rejected_at(e, Stage::Greeting, None),
        at_least: NO_TIME,
    },
    Case {
        name: "MAIL FROM 550 refuses the sender (pipelined)",
        server: Srv::Fault(&[
            "--reply",
            "MAIL=550 5.7.1 you are not authorized to use this sender",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 550,
        outcome: Outcome::NotSent,
        says: &[
            "refused the sender <wiki@example.test>",
            "550 5.7.1 you are not authorized to use this sender",
        ],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| rejected_at(e, Stage::MailFrom, Some(About::Sender(FROM.into()))),
        at_least: NO_TIME,
    },
    Case {
        name: "MAIL FROM 550 refuses the sender (one by one)",
        server: Srv::Fault(&[
            "--no-pipelining",
            "--reply",
            "MAIL=550 5.7.1 you are not authorized to use this sender",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 550,
        outcome: Outcome::NotSent,
        says: &[
            "refused the sender <wiki@example.test>",
            "550 5.7.1 you are not authorized to use this sender",
        ],
        never_says: &[],
        never_seen: &["C: RCPT", "C: <data"],
        variant: |e| rejected_at(e, Stage::MailFrom, Some(About::Sender(FROM.into()))),
        at_least: NO_TIME,
    },
    // The server answers MAIL with 421 and hangs up. Pipelined, the client has sent RCPT and
    // DATA too and their replies never come: the error is still the server's 421 (the reason),
    // not "connection closed while waiting for the reply to RCPT TO".
    Case {
        name: "MAIL 421 then close reports the 421 (pipelined)",
        server: Srv::Fault(&["--reply", "MAIL=421 4.7.0 Too busy, closing"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 421,
        outcome: Outcome::NotSent,
        says: &["421 4.7.0 Too busy, closing", "temporary"],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| rejected_at(e, Stage::MailFrom, None),
        at_least: NO_TIME,
    },
    Case {
        name: "MAIL 421 then close reports the 421 (one by one)",
        server: Srv::Fault(&[
            "--no-pipelining",
            "--reply",
            "MAIL=421 4.7.0 Too busy, closing",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 421,
        outcome: Outcome::NotSent,
        says: &["421 4.7.0 Too busy, closing", "temporary"],
        never_says: &[],
        never_seen: &["C: RCPT"],
        variant: |e| rejected_at(e, Stage::MailFrom, None),
        at_least: NO_TIME,
    },
    Case {
        name: "RCPT 550 delivers to nobody (pipelined)",
        server: Srv::Fault(&["--reject-rcpt", "bad@"]),
        ini: &[],
        to: "good1@example.test, bad@example.test, good2@example.test",
        stage: Some(Stage::RcptTo),
        code: 550,
        outcome: Outcome::NotSent,
        says: &[
            "refused the recipient <bad@example.test>",
            "user unknown",
            "no message was sent",
        ],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| {
            rejected_at(
                e,
                Stage::RcptTo,
                Some(About::Recipient("bad@example.test".into())),
            )
        },
        at_least: NO_TIME,
    },
    Case {
        name: "RCPT 550 delivers to nobody (one by one)",
        server: Srv::Fault(&["--no-pipelining", "--reject-rcpt", "bad@"]),
        ini: &[],
        to: "good1@example.test, bad@example.test, good2@example.test",
        stage: Some(Stage::RcptTo),
        code: 550,
        outcome: Outcome::NotSent,
        says: &[
            "refused the recipient <bad@example.test>",
            "user unknown",
            "no message was sent",
        ],
        never_says: &[],
        never_seen: &["C: <data", "C: DATA"],
        variant: |e| {
            rejected_at(
                e,
                Stage::RcptTo,
                Some(About::Recipient("bad@example.test".into())),
            )
        },
        at_least: NO_TIME,
    },
    Case {
        name: "DATA 554 is not accepted",
        server: Srv::Fault(&["--reply", "DATA=554 5.7.0 Transaction failed"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Data),
        code: 554,
        outcome: Outcome::NotSent,
        says: &["did not accept the message", "554 5.7.0 Transaction failed"],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| rejected_at(e, Stage::Data, None),
        at_least: NO_TIME,
    },
    Case {
        name: "451 after the dot is a temporary refusal of the whole message",
        server: Srv::Fault(&["--reply", "DOT=451 4.3.0 Try again\\nlater"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::FinalReply),
        code: 451,
        outcome: Outcome::NotSent,
        says: &[
            "did not accept the message",
            "451",
            "try again",
            "later",
            "temporary failure",
        ],
        never_says: &[],
        never_seen: &[],
        variant: |e| rejected_at(e, Stage::FinalReply, None) && e.reply().unwrap().is_transient(),
        at_least: NO_TIME,
    },
    Case {
        name: "STARTTLS 454: no fallback to clear text",
        server: Srv::FaultTls(
            "good",
            &[
                "--starttls",
                "--reply",
                "STARTTLS=454 4.7.0 TLS not available due to local problem",
            ],
        ),
        ini: &[("cafile", "{cafile}")],
        to: ONE_RCPT,
        stage: Some(Stage::StartTls),
        code: 454,
        outcome: Outcome::NotSent,
        says: &["cannot start TLS right now", "454 4.7.0 TLS not available"],
        never_says: &[],
        never_seen: &["C: MAIL"],
        variant: |e| rejected_at(e, Stage::StartTls, None),
        at_least: NO_TIME,
    },
    Case {
        name: "AUTH 535: wrong password, never shown",
        server: Srv::Fault(&["--auth-user", "wiki", "--auth-pass", "right-pass"]),
        ini: &[
            ("auth", "1"),
            ("username", "wiki"),
            ("password", "Wr0ng-Pa55"),
        ],
        to: ONE_RCPT,
        stage: Some(Stage::Auth),
        code: 535,
        outcome: Outcome::NotSent,
        says: &["authentication failed", "535 5.7.8", "smtp.password"],
        never_says: &["Wr0ng-Pa55"],
        never_seen: &["C: MAIL"],
        variant: |e| {
            rejected_at(e, Stage::Auth, Some(About::Session)) && !format!("{e:?}").contains("Wr0ng")
        },
        at_least: NO_TIME,
    },
    Case {
        name: "auth=1 but the server offers no AUTH",
        server: Srv::Fault(&[]),
        ini: &[("auth", "1"), ("username", "wiki"), ("password", "pw-123")],
        to: ONE_RCPT,
        stage: None,
        code: 0,
        outcome: Outcome::NotSent,
        says: &["offers no authentication", "smtp.auth"],
        never_says: &[],
        never_seen: &["C: AUTH", "C: MAIL"],
        variant: |e| matches!(e, Error::AuthUnavailable { offered, .. } if offered.is_empty()),
        at_least: NO_TIME,
    },
    Case {
        name: "auth=PLAIN but the server offers no AUTH",
        server: Srv::Fault(&[]),
        ini: &[
            ("auth", "PLAIN"),
            ("username", "wiki"),
            ("password", "pw-123"),
        ],
        to: ONE_RCPT,
        stage: None,
        code: 0,
        outcome: Outcome::NotSent,
        says: &["offers no authentication", "smtp.auth"],
        never_says: &[],
        never_seen: &["C: AUTH", "C: MAIL"],
        variant: |e| matches!(e, Error::AuthUnavailable { offered, .. } if offered.is_empty()),
        at_least: NO_TIME,
    },
    // auth=1 never picks XOAUTH2 by itself.
    Case {
        name: "the server offers only XOAUTH2",
        server: Srv::Fault(&[
            "--auth-user",
            "wiki",
            "--auth-pass",
            "pw",
            "--auth-mechs",
            "XOAUTH2",
        ]),
        ini: &[("auth", "1"), ("username", "wiki"), ("password", "pw")],
        to: ONE_RCPT,
        stage: None,
        code: 0,
        outcome: Outcome::NotSent,
        says: &["it offers: XOAUTH2", "set smtp.auth=XOAUTH2"],
        never_says: &[],
        never_seen: &["C: AUTH", "C: MAIL"],
        variant: |e| matches!(e, Error::AuthUnavailable { offered, .. } if offered == "XOAUTH2"),
        at_least: NO_TIME,
    },
    Case {
        name: "the server hangs up on connect",
        server: Srv::Fault(&["--action", "CONNECT=close"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["closed the connection", "not sent"],
        never_says: &[],
        never_seen: &[],
        variant: |e| matches!(e, Error::Closed { .. }),
        at_least: NO_TIME,
    },
    Case {
        name: "the server hangs up at EHLO",
        server: Srv::Fault(&["--action", "EHLO=close"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Ehlo),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["closed the connection", "not sent"],
        never_says: &[],
        never_seen: &["C: MAIL"],
        variant: |e| matches!(e, Error::Closed { .. }),
        at_least: NO_TIME,
    },
    Case {
        name: "the server hangs up at MAIL",
        server: Srv::Fault(&["--action", "MAIL=close"]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["closed the connection", "not sent"],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| matches!(e, Error::Closed { .. }),
        at_least: NO_TIME,
    },
    // Providers' quota replies (FACTS.md): the provider's limit, with its words and the fix.
    Case {
        name: "Amazon SES throttling at MAIL is the provider's rate",
        server: Srv::Fault(&[
            "--reply",
            "MAIL=454 Throttling failure: Maximum sending rate exceeded.",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 454,
        outcome: Outcome::NotSent,
        says: &[
            "too fast",
            "\"454 Throttling failure: Maximum sending rate exceeded.\"",
            "Amazon SES",
            "again at once",
            "smtp.max_rate",
            "Tuning for providers",
        ],
        never_says: &["refused the sender"],
        never_seen: &["C: <data"],
        variant: |e| rejected_at(e, Stage::MailFrom, Some(About::Quota(Quota::Rate))),
        at_least: NO_TIME,
    },
    Case {
        name: "Exchange submission rate 421 4.4.2 is the provider's rate",
        server: Srv::Fault(&[
            "--reply",
            "MAIL=421 4.4.2 Message submission rate for this client has exceeded the configured limit",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::MailFrom),
        code: 421,
        outcome: Outcome::NotSent,
        says: &["too fast", "30 messages a minute", "again at once"],
        never_says: &["closing the connection"],
        never_seen: &["C: <data"],
        variant: |e| rejected_at(e, Stage::MailFrom, Some(About::Quota(Quota::Rate))),
        at_least: NO_TIME,
    },
    Case {
        name: "Exchange SubmissionQuotaExceeded after the message is the quota for now",
        server: Srv::Fault(&[
            "--reply",
            "DOT=554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::FinalReply),
        code: 554,
        outcome: Outcome::NotSent,
        says: &["used up", "10,000 recipients a day", "SubmissionQuotaExceededException", "not sent"],
        never_says: &["did not accept the message"],
        never_seen: &[],
        variant: |e| rejected_at(e, Stage::FinalReply, Some(About::Quota(Quota::Day))),
        at_least: NO_TIME,
    },
    Case {
        name: "Gmail daily sending limit is the quota for the day",
        server: Srv::Fault(&["--reply", "DOT=550 5.4.5 Daily user sending limit exceeded."]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::FinalReply),
        code: 550,
        outcome: Outcome::NotSent,
        says: &["used up", "Gmail allows", "24 hours", "5.4.5 Daily user sending limit"],
        never_says: &[],
        never_seen: &[],
        variant: |e| rejected_at(e, Stage::FinalReply, Some(About::Quota(Quota::Day))),
        at_least: NO_TIME,
    },
    Case {
        name: "Gmail 421 4.7.0 rate at the greeting is the provider's rate",
        server: Srv::Fault(&[
            "--reply",
            "GREETING=421 4.7.0 Try again later, closing connection. (rate limit exceeded)",
        ]),
        ini: &[],
        to: ONE_RCPT,
        stage: Some(Stage::Greeting),
        code: 421,
        outcome: Outcome::NotSent,
        says: &["too fast", "again at once"],
        never_says: &[],
        never_seen: &["C: MAIL"],
        variant: |e| rejected_at(e, Stage::Greeting, Some(About::Quota(Quota::Rate))),
        at_least: NO_TIME,
    },
    Case {
        name: "a silent RCPT times out and delivers nothing",
        server: Srv::Fault(&["--action", "RCPT=silent"]),
        ini: &[("timeout", "1")],
        to: ONE_RCPT,
        stage: Some(Stage::RcptTo),
        code: 0,
        outcome: Outcome::NotSent,
        says: &["stopped answering", "RCPT TO"],
        never_says: &[],
        never_seen: &["C: <data"],
        variant: |e| matches!(e, Error::Timeout { .. }),
        at_least: Duration::from_millis(900),
    },
];

/// The longest a call with these settings may take (`send_fails` adds its one second).
fn promised(ini: &[(&str, &str)]) -> Duration {
    let get = |k: &str| {
        ini.iter()
            .find(|(n, _)| *n == k)
            .and_then(|(_, v)| v.parse::<f64>().ok())
    };
    Duration::from_secs_f64(get("max_time").or(get("timeout")).unwrap_or(5.0))
}

fn run(case: &Case) {
    let name = case.name;
    let srv = match case.server {
        Srv::Down => None,
        Srv::Fault(args) => Some(FaultServer::start(args)),
        Srv::FaultTls(cert, args) => Some(FaultServer::start_tls(cert, args)),
    };
    let port = srv.as_ref().map_or_else(free_port, |s| s.port);
    let fill = |v: &str| {
        v.replace("{port}", &port.to_string())
            .replace("{cafile}", &ca_file())
    };
    let ini: Vec<(&str, String)> = case.ini.iter().map(|(k, v)| (*k, fill(v))).collect();
    let ini: Vec<(&str, &str)> = ini.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let msg = message(
        case.to,
        name,
        b"body\n",
        &format!("<{port}.errors@test.example>"),
    );
    let (e, took) = send_fails(&settings(port, &ini), &msg, promised(case.ini));

    assert!((case.variant)(&e), "{name}: {e:?}: {e}");
    assert_eq!(e.stage(), case.stage, "{name}: {e:?}");
    assert_eq!(e.smtp_code(), case.code, "{name}: {e:?}");
    assert_eq!(e.outcome(), case.outcome, "{name}: {e:?}");
    let words: Vec<String> = case.says.iter().map(|w| fill(w)).collect();
    says(&e, &words.iter().map(String::as_str).collect::<Vec<_>>());
    for w in case.never_says {
        assert!(!e.to_string().contains(w), "{name}: {w:?} in: {e}");
    }
    assert!(took >= case.at_least, "{name}: gave up early: {took:?}");
    let Some(srv) = srv else { return };
    // Give a late (wrong) delivery the chance to show up, then check there is none.
    srv.wait_transcript(name, |t| t.contains(" CLOSE"));
    assert!(
        srv.messages().is_empty(),
        "{name}: delivered despite the failure"
    );
    let transcript = srv.transcript();
    for c in case.never_seen {
        assert!(!transcript.contains(c), "{name}: {c:?} seen:\n{transcript}");
    }
}

/// The table, a few cases at a time in parallel (each has its own server).
#[test]
fn each_failure_is_what_it_says() {
    std::thread::scope(|scope| {
        for chunk in CASES.chunks(CASES.len().div_ceil(4)) {
            scope.spawn(move || chunk.iter().for_each(run));
        }
    });
}

/// A quota refusal is the provider counting this account's mail: it is met again at once, so it
/// is tried once per call (not waited out like a connection limit), on a new connection too.
#[test]
fn a_quota_refusal_is_tried_once_not_in_a_loop() {
    for reply in [
        "GREETING=421 4.7.0 Try again later (rate limit exceeded)",
        "GREETING=432 4.3.2 Message rate limit exceeded, too many messages from this mailbox",
        "MAIL=454 Throttling failure: Maximum sending rate exceeded.",
    ] {
        let srv = FaultServer::start(&["--reply", reply]);
        let msg = message(ONE_RCPT, "quota", b"body\n", "<quota@test.example>");
        let (e, _) = send_fails(
            &settings(srv.port, &[("max_time", "10")]),
            &msg,
            Duration::from_secs(10),
        );
        assert!(
            matches!(
                e,
                Error::Rejected {
                    about: About::Quota(_),
                    ..
                }
            ),
            "{reply}: {e:?}"
        );
        srv.wait_transcript(reply, |t| t.contains(" CLOSE"));
        assert_eq!(srv.connections_opened(), 1, "{reply}: {}", srv.transcript());
    }
}

#[test]
fn the_451_refused_message_was_received_in_full_and_not_accepted() {
    // The table's 451 case, seen from the server: it had the whole message and refused it.
    let srv = FaultServer::start(&["--reply", "DOT=451 4.3.0 Try again"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(e.smtp_code(), 451);
    let got = srv.wait_received(1);
    assert_eq!(got[0].reply(), Some(451));
    assert!(srv.messages().is_empty());
}

#[test]
fn middata_close_is_never_reported_as_not_sent_once_the_message_was_written() {
    // The server hangs up while the message is still arriving. The client wrote all of it (one
    // write) and got no final reply: it cannot know, so the outcome is unknown, never "not
    // sent" (unless the write itself failed, which proves the end never left).
    let srv = FaultServer::start(&["--action", "MIDDATA=close"]);
    let (e, _) = send_fails(
        &srv.settings(&[]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    match &e {
        Error::Unknown { cause, unknown, .. } => {
            assert_eq!(cause.stage(), Some(Stage::FinalReply), "{e:?}");
            assert_eq!(unknown, &["a@example.test"]);
            says(&e, &["closed the connection", "may have been delivered"]);
            assert!(!e.to_string().contains("not sent"), "{e}");
        }
        Error::Closed {
            stage: Stage::Message,
            ..
        } => says(&e, &["not sent"]),
        other => panic!("expected Unknown, got {other:?}: {other}"),
    }
    assert_eq!(e.smtp_code(), 0);
    assert!(srv.received().is_empty());
}

#[test]
fn no_reply_after_the_dot_is_unknown_and_waits_for_max_time_not_timeout() {
    // The server has the whole message and never answers. The wait for the final reply may use
    // what is left of max_time (2 s), not just timeout (0.5 s); then the outcome is unknown.
    let srv = FaultServer::start(&["--action", "DOT=silent"]);
    let (e, took) = send_fails(
        &srv.settings(&[("timeout", "0.5"), ("max_time", "2")]),
        &simple("a@example.test", 1),
        Duration::from_secs(2),
    );
    assert!(
        took >= Duration::from_millis(1800),
        "gave up early: {took:?}"
    );
    let Error::Unknown {
        cause,
        message_id,
        unknown,
        delivered,
        undelivered,
    } = &e
    else {
        panic!("expected Unknown, got {e:?}: {e}");
    };
    assert!(
        matches!(
            **cause,
            Error::Timeout {
                stage: Stage::FinalReply,
                limit: Limit::Total(_),
                ..
            }
        ),
        "{cause:?}"
    );
    assert_eq!(unknown, &["a@example.test"]);
    assert!(delivered.is_empty() && undelivered.is_empty());
    assert_eq!(message_id, &simple("a@example.test", 1).message_id);
    says(
        &e,
        &[
            "no reply",
            "after the end of the message",
            "may have been delivered",
            "do not send it again blindly",
            "smtp.max_time = 2 s",
        ],
    );
    assert!(!e.to_string().contains("not sent"), "{e}");
    assert_eq!(e.smtp_code(), 0);
    assert_eq!(e.outcome(), Outcome::Unknown);
    // The server has it (no reply given), and it was not sent a second time.
    let got = srv.wait_received(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].reply(), None);
    assert_eq!(srv.connections_opened(), 1);
}

#[test]
fn timeout_is_per_step_so_a_slow_server_still_delivers() {
    // Every step takes 0.6 s, under timeout (1 s); all of them together take about 4 s, more
    // than timeout. As with PEAR, PHPMailer, Symfony and msmtp, the mail goes out.
    let srv = FaultServer::start(&[
        "--action",
        "GREETING=delay:0.6",
        "--action",
        "EHLO=delay:0.6",
        "--action",
        "MAIL=delay:0.6",
        "--action",
        "RCPT=delay:0.6",
        "--action",
        "DATA=delay:0.6",
        "--action",
        "DOT=delay:0.6",
    ]);
    let msg = simple("a@example.test", 1);
    let started = Instant::now();
    pool::send(&srv.settings(&[("timeout", "1")]), &msg).expect("slow steps, each in time");
    assert!(
        started.elapsed() > Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(srv.wait_messages(1)[0].eml, msg.data);
}

#[test]
fn max_time_caps_the_whole_call() {
    // The same slow server with max_time 2: the call ends by then (give or take a little).
    let srv = FaultServer::start(&[
        "--action",
        "GREETING=delay:0.6",
        "--action",
        "EHLO=delay:0.6",
        "--action",
        "MAIL=delay:0.6",
        "--action",
        "RCPT=delay:0.6",
    ]);
    let (e, _) = send_fails(
        &srv.settings(&[("timeout", "1"), ("max_time", "2")]),
        &simple("a@example.test", 1),
        Duration::from_secs(2),
    );
    // Either the wait that ran into the end, or, with too little left for the body, the body
    // not started.
    match &e {
        Error::Timeout { limit, .. } => {
            assert_eq!(*limit, Limit::Total(Duration::from_secs(2)), "{e:?}");
            says(&e, &["smtp.max_time = 2 s"]);
        }
        Error::NoTimeForMessage { max_time, .. } => {
            assert_eq!(*max_time, Duration::from_secs(2), "{e:?}");
            says(&e, &["smtp.max_time (2 s)"]);
        }
        other => panic!("expected a timeout, got {other:?}: {other}"),
    }
    says(&e, &["not sent"]);
    assert!(srv.received().is_empty());
}

/// A server whose reply never ends: endless continuation lines, or one line without an end.
/// Read in bounded memory and linear time, it ends in a clear protocol error long before
/// smtp.timeout, whatever the pace of the bytes.
#[test]
fn a_reply_without_end_is_a_protocol_error_not_unbounded_memory() {
    use std::io::Write;
    let shapes: [(&str, &[u8], usize); 3] = [
        (
            "endless continuation lines",
            b"220-endless continuation\r\n",
            1 << 20,
        ),
        (
            "a line without end",
            b"220 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            1 << 20,
        ),
        // Byte by byte: a scan from the start of the buffer at each read would be quadratic.
        ("one byte at a time", b"x", 70 * 1024),
    ];
    for (what, unit, total) in shapes {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.set_nodelay(true);
            let mut sent = 0;
            if unit == b"x" {
                let _ = s.write_all(b"220 ");
            }
            while sent < total {
                if s.write_all(unit).is_err() {
                    break;
                }
                sent += unit.len();
            }
        });
        let started = Instant::now();
        let e = pool::send(
            &settings(port, &[("timeout", "20")]),
            &simple("a@example.test", 1),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Protocol {
                    stage: Stage::Greeting,
                    ..
                }
            ),
            "{what}: {e:?}"
        );
        says(&e, &["longer than 64 KiB"]);
        assert!(started.elapsed() < Duration::from_secs(15), "{what}");
        server.join().unwrap();
    }
}
