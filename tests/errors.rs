//! Failures: each returns the right `Error` variant, stage and SMTP code, says so in words, and
//! leaves nothing half-delivered on the server.

mod common;

use std::time::{Duration, Instant};

use common::*;
use smtp::error::{About, Error, Limit, Outcome, Stage};
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

#[test]
fn refused_port() {
    let port = free_port();
    let e = pool::send(&settings(port, &[]), &simple("a@example.test", 1)).unwrap_err();
    match &e {
        Error::Refused { host, port: p } => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(*p, port);
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    says(&e, &["refused", &format!("127.0.0.1:{port}"), "smtp.port"]);
    assert_eq!(e.smtp_code(), 0);
    assert_eq!(e.stage(), Some(Stage::Connect));
}

#[test]
fn silent_server_times_out_without_hanging() {
    let srv = FaultServer::start(&["--action", "CONNECT=silent"]);
    let (e, took) = send_fails(
        &srv.settings(&[("timeout", "1")]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    assert!(
        took >= Duration::from_millis(900),
        "gave up early: {took:?}"
    );
    match &e {
        Error::Timeout { stage, limit, .. } => {
            assert_eq!(*stage, Stage::Greeting);
            assert_eq!(*limit, Limit::Step(Duration::from_secs(1)));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    says(&e, &["no answer", "within 1 s", "greeting"]);
    assert_eq!(e.smtp_code(), 0);
}

#[test]
fn greeting_421_is_a_temporary_refusal() {
    let srv = FaultServer::start(&["--reply", "GREETING=421 4.3.2 Service not available"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(rejected(&e).0, Stage::Greeting);
    assert_eq!(e.smtp_code(), 421);
    assert_eq!(e.reply().unwrap().enhanced.as_deref(), Some("4.3.2"));
    says(
        &e,
        &[
            "refused the connection",
            "421 4.3.2 Service not available",
            "temporary",
        ],
    );
}

#[test]
fn greeting_554_is_a_permanent_refusal() {
    let srv = FaultServer::start(&["--reply", "GREETING=554 5.3.2 No SMTP service here"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(rejected(&e).0, Stage::Greeting);
    assert_eq!(e.smtp_code(), 554);
    says(
        &e,
        &["refused the connection", "554 5.3.2 No SMTP service here"],
    );
    assert!(!e.to_string().contains("temporary"), "{e}");
    // Nothing was tried after the refusal.
    assert!(
        !srv.transcript().contains("C: MAIL"),
        "{}",
        srv.transcript()
    );
}

#[test]
fn mail_from_550_refused_sender() {
    for flags in [&[][..], &["--no-pipelining"][..]] {
        let mut args = vec![
            "--reply",
            "MAIL=550 5.7.1 you are not authorized to use this sender",
        ];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
        let (stage, about, reply) = rejected(&e);
        assert_eq!(stage, Stage::MailFrom, "{flags:?}");
        assert_eq!(about, About::Sender(FROM.into()));
        assert_eq!(reply.code, 550);
        says(
            &e,
            &[
                &format!("refused the sender <{FROM}>"),
                "550 5.7.1 you are not authorized to use this sender",
            ],
        );
        assert!(srv.messages().is_empty());
        assert!(
            !srv.transcript().contains("C: <data"),
            "{}",
            srv.transcript()
        );
    }
}

#[test]
fn mail_421_then_close_reports_the_421() {
    // The server answers MAIL with 421 and hangs up. With PIPELINING the client has sent RCPT
    // and DATA too; their replies never come. The error must still be the server's 421 (the
    // reason), not "connection closed while waiting for the reply to RCPT TO".
    for flags in [&["--no-pipelining"][..], &[][..]] {
        let mut args = vec!["--reply", "MAIL=421 4.7.0 Too busy, closing"];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
        assert_eq!(e.smtp_code(), 421, "{flags:?}: {e:?}");
        assert_eq!(rejected(&e).0, Stage::MailFrom, "{flags:?}");
        says(&e, &["421 4.7.0 Too busy, closing", "temporary"]);
    }
}

#[test]
fn rcpt_550_delivers_to_nobody() {
    let to = "good1@example.test, bad@example.test, good2@example.test";
    for flags in [&[][..], &["--no-pipelining"][..]] {
        let mut args = vec!["--reject-rcpt", "bad@"];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let msg = message(to, "rcpt", b"body\n", "<rcpt.1@test.example>");
        let e = pool::send(&srv.settings(&[]), &msg).unwrap_err();
        let (stage, about, reply) = rejected(&e);
        assert_eq!(stage, Stage::RcptTo, "{flags:?}");
        assert_eq!(about, About::Recipient("bad@example.test".into()));
        assert_eq!(reply.code, 550);
        says(
            &e,
            &[
                "refused the recipient <bad@example.test>",
                "user unknown",
                "no message was sent",
            ],
        );
        // Give a late (wrong) delivery the chance to show up, then check there is none.
        srv.wait_transcript("the connection closing", |t| t.contains(" CLOSE"));
        assert!(
            srv.messages().is_empty(),
            "{flags:?}: delivered despite the refusal"
        );
        assert!(
            !srv.transcript().contains("C: <data"),
            "{}",
            srv.transcript()
        );
    }
}

#[test]
fn data_554_is_not_accepted() {
    let srv = FaultServer::start(&["--reply", "DATA=554 5.7.0 Transaction failed"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(rejected(&e).0, Stage::Data);
    assert_eq!(e.smtp_code(), 554);
    says(
        &e,
        &["did not accept the message", "554 5.7.0 Transaction failed"],
    );
    assert!(srv.messages().is_empty());
}

#[test]
fn dot_451_is_transient() {
    let srv = FaultServer::start(&["--reply", "DOT=451 4.3.0 Try again\\nlater"]);
    let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(rejected(&e).0, Stage::FinalReply);
    assert_eq!(e.smtp_code(), 451);
    assert_eq!(e.outcome(), Outcome::NotSent);
    assert!(e.reply().unwrap().is_transient());
    says(
        &e,
        &[
            "did not accept the message",
            "451",
            "try again",
            "later",
            "temporary failure",
        ],
    );
    // The server had the whole message and refused it: recorded, with its 451.
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
fn starttls_refused_454() {
    let srv = FaultServer::start_tls(
        "good",
        &[
            "--starttls",
            "--reply",
            "STARTTLS=454 4.7.0 TLS not available due to local problem",
        ],
    );
    let s = srv.settings(&[("cafile", &ca_file())]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(rejected(&e).0, Stage::StartTls);
    assert_eq!(e.smtp_code(), 454);
    says(
        &e,
        &["cannot start TLS right now", "454 4.7.0 TLS not available"],
    );
    // No fallback to clear text.
    assert!(
        !srv.transcript().contains("C: MAIL"),
        "{}",
        srv.transcript()
    );
}

#[test]
fn auth_535_wrong_password() {
    let srv = FaultServer::start(&["--auth-user", "wiki", "--auth-pass", "right-pass"]);
    let s = srv.settings(&[
        ("auth", "1"),
        ("username", "wiki"),
        ("password", "Wr0ng-Pa55"),
    ]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    let (stage, about, reply) = rejected(&e);
    assert_eq!(stage, Stage::Auth);
    assert_eq!(about, About::Session);
    assert_eq!(reply.code, 535);
    says(&e, &["authentication failed", "535 5.7.8", "smtp.password"]);
    assert!(!e.to_string().contains("Wr0ng-Pa55"));
    assert!(!format!("{e:?}").contains("Wr0ng-Pa55"));
    assert!(srv.messages().is_empty());
}

#[test]
fn auth_requested_but_not_offered() {
    let srv = FaultServer::start(&[]);
    for auth in ["1", "PLAIN"] {
        let s = srv.settings(&[("auth", auth), ("username", "wiki"), ("password", "pw-123")]);
        let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
        match &e {
            Error::AuthUnavailable { offered, .. } => assert_eq!(offered, "", "auth={auth}"),
            other => panic!("auth={auth}: expected AuthUnavailable, got {other:?}: {other}"),
        }
        says(&e, &["offers no authentication", "smtp.auth"]);
        assert_eq!(e.smtp_code(), 0);
    }
    assert!(!srv.transcript().contains("C: AUTH"));
    assert!(!srv.transcript().contains("C: MAIL"));
    assert!(srv.messages().is_empty());
}

#[test]
fn auth_offered_only_with_unsupported_mechanisms() {
    // The server offers XOAUTH2 only, and auth=1 never picks XOAUTH2 by itself.
    let srv = FaultServer::start(&[
        "--auth-user",
        "wiki",
        "--auth-pass",
        "pw",
        "--auth-mechs",
        "XOAUTH2",
    ]);
    let s = srv.settings(&[("auth", "1"), ("username", "wiki"), ("password", "pw")]);
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    match &e {
        Error::AuthUnavailable { offered, .. } => assert_eq!(offered, "XOAUTH2"),
        other => panic!("expected AuthUnavailable, got {other:?}: {other}"),
    }
    says(&e, &["it offers: XOAUTH2", "set smtp.auth=XOAUTH2"]);
}

#[test]
fn server_hangs_up_at_each_step() {
    for (action, stage) in [
        ("CONNECT=close", Stage::Greeting),
        ("EHLO=close", Stage::Ehlo),
        ("MAIL=close", Stage::MailFrom),
    ] {
        let srv = FaultServer::start(&["--action", action]);
        let e = pool::send(&srv.settings(&[]), &simple("a@example.test", 1)).unwrap_err();
        match &e {
            Error::Closed { stage: s, .. } => assert_eq!(*s, stage, "{action}"),
            other => panic!("{action}: expected Closed, got {other:?}: {other}"),
        }
        says(&e, &["closed the connection", "not sent"]);
        assert!(srv.messages().is_empty());
    }
}

#[test]
fn silent_rcpt_times_out_and_delivers_nothing() {
    let srv = FaultServer::start(&["--action", "RCPT=silent"]);
    let (e, _) = send_fails(
        &srv.settings(&[("timeout", "1")]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    assert!(
        matches!(
            e,
            Error::Timeout {
                stage: Stage::RcptTo,
                ..
            }
        ),
        "{e:?}"
    );
    says(&e, &["stopped answering", "RCPT TO"]);
    assert!(srv.messages().is_empty());
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

#[test]
fn a_server_that_never_greets_fails_after_timeout() {
    let srv = FaultServer::start(&["--action", "GREETING=silent"]);
    let (e, took) = send_fails(
        &srv.settings(&[("timeout", "1"), ("max_time", "30")]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(
        matches!(
            e,
            Error::Timeout {
                stage: Stage::Greeting,
                limit: Limit::Step(_),
                ..
            }
        ),
        "{e:?}"
    );
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
