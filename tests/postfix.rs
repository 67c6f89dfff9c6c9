//! The extension against a real Postfix 3.7 of the project's own (tests/servers/postfix.py):
//! submission with STARTTLS and SASL, implicit TLS, Postfix's own refusals and limits, and what
//! its Maildir delivery holds, byte for byte.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::postfix::{Postfix, PostfixOpts, PASSWORD, USER};
use common::*;
use smtp::config::Settings;
use smtp::error::{About, Error, Stage};
use smtp::pool;

/// Settings for the submission port: STARTTLS with the instance's CA, AUTH as `USER`.
fn submission(pf: &Postfix, extra: &[(&str, &str)]) -> Settings {
    let ca = pf.ca_file();
    let mut ini: Vec<(&str, &str)> = vec![
        ("cafile", ca.as_str()),
        ("starttls", "required"),
        ("auth", "PLAIN"),
        ("username", USER),
        ("password", PASSWORD),
    ];
    ini.extend_from_slice(extra);
    settings(pf.submission, &ini)
}

/// A message from `from` (the envelope sender too) to `to`.
fn from(from: &str, to: &str, id: &str) -> smtp::message::Prepared {
    smtp::message::Draft {
        to: to.into(),
        subject: "From Postfix's point of view".into(),
        body: b"Hello,\n.a line with a dot\nGr\xc3\xbc\xc3\x9fe\n",
        headers: vec![
            smtp::message::Header::new("From", from),
            smtp::message::Header::new("Date", "Wed, 02 Dec 2026 10:00:00 +0000"),
            smtp::message::Header::new("Message-ID", id),
        ],
        idhost: "test.example".into(),
        ..Default::default()
    }
    .build()
    .unwrap()
}

#[test]
fn submission_with_starttls_and_auth_delivers_byte_for_byte() {
    let pf = Postfix::start(PostfixOpts::default());
    let msg = from(USER, "rcpt1@example.test", "<pf.1@test.example>");
    pool::send(&submission(&pf, &[]), &msg).expect("delivered through submission");
    let got = pf.wait_delivered(1);
    assert_eq!(got[0].recipient, "rcpt1@example.test");
    assert_eq!(got[0].return_path, USER);
    // Postfix stores lines with LF ends; otherwise the message is exactly what we built.
    assert_eq!(got[0].message(), crlf_to_lf(&msg.data).as_slice());
    let conn = pf.wait_connection(1);
    let cmds: Vec<&str> = conn
        .commands
        .iter()
        .map(|c| c.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        cmds[..3],
        ["EHLO", "STARTTLS", "EHLO"],
        "{:?}",
        conn.commands
    );
    // Postfix offers CHUNKING: the message went as one BDAT chunk of its exact size.
    let bdat = format!("BDAT {} LAST", msg.data.len());
    assert!(
        conn.commands.contains(&bdat) && !cmds.contains(&"DATA"),
        "{:?}",
        conn.commands
    );
}

/// The client's command words on the first connection after sending `msg` with `extra`.
fn commands_for(
    pf: &Postfix,
    extra: &[(&str, &str)],
    msg: &smtp::message::Prepared,
) -> Vec<String> {
    pool::send(&submission(pf, extra), msg).expect("delivered");
    assert_eq!(
        pf.wait_delivered(1)[0].message(),
        crlf_to_lf(&msg.data).as_slice()
    );
    pf.client_commands(1)
        .iter()
        .map(|c| c.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn data_when_chunking_is_off_or_not_offered() {
    // The same message byte for byte through DATA (dot-stuffed on the wire, unstuffed by
    // Postfix): with smtp.chunking=off, and when Postfix does not offer CHUNKING.
    let msg = from(USER, "rcpt1@example.test", "<pf.9@test.example>");
    let off = Postfix::start(PostfixOpts::default());
    let cmds = commands_for(&off, &[("chunking", "off")], &msg);
    assert!(
        cmds.contains(&"DATA".into()) && !cmds.contains(&"BDAT".into()),
        "{cmds:?}"
    );

    let not_offered = Postfix::start(PostfixOpts {
        chunking: false,
        ..Default::default()
    });
    let cmds = commands_for(&not_offered, &[], &msg);
    assert!(
        cmds.contains(&"DATA".into()) && !cmds.contains(&"BDAT".into()),
        "{cmds:?}"
    );
}

#[test]
fn postfixs_connection_limit_is_waited_out_within_max_time() {
    // Two connections held open against smtpd_client_connection_count_limit = 2: Postfix
    // answers a third with "421 4.7.0 ... Error: too many connections from 127.0.0.1". The
    // extension waits and tries again; once a held connection goes, the mail goes.
    let pf = Postfix::start(PostfixOpts {
        connection_limit: Some(2),
        ..Default::default()
    });
    let held = [
        hold_connection(pf.submission),
        hold_connection(pf.submission),
    ];
    let msg = from(USER, "rcpt1@example.test", "<pf.10@test.example>");
    let releaser = std::thread::spawn(move || {
        sleep(Duration::from_millis(600));
        drop(held);
    });
    pool::send(&submission(&pf, &[("max_time", "10")]), &msg).expect("sent once a slot freed");
    releaser.join().unwrap();
    assert_eq!(pf.wait_delivered(1).len(), 1);
    assert!(
        pf.log().contains("too many connections"),
        "Postfix never refused"
    );

    // Held for longer than max_time: the limit is named, in Postfix's words, with the fixes.
    let _held = [
        hold_connection(pf.submission),
        hold_connection(pf.submission),
    ];
    let (e, _) = send_fails(
        &submission(&pf, &[("max_time", "2")]),
        &from(USER, "rcpt1@example.test", "<pf.11@test.example>"),
        Duration::from_secs(2),
    );
    assert!(matches!(e, Error::ConnectionLimit { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("too many connections from"), "{text}");
    assert!(text.contains("smtp.max_connections"), "{text}");
    assert_eq!(pf.delivered().len(), 1);
}

#[test]
fn implicit_tls_port() {
    let pf = Postfix::start(PostfixOpts::default());
    let ca = pf.ca_file();
    let s = settings(
        pf.smtps,
        &[
            ("host", "ssl://127.0.0.1"),
            ("cafile", ca.as_str()),
            ("auth", "1"),
            ("username", USER),
            ("password", PASSWORD),
        ],
    );
    let msg = from(USER, "rcpt2@example.test", "<pf.2@test.example>");
    pool::send(&s, &msg).expect("delivered over implicit TLS");
    assert_eq!(
        pf.wait_delivered(1)[0].message(),
        crlf_to_lf(&msg.data).as_slice()
    );
}

#[test]
fn a_sender_postfix_refuses_at_rcpt_is_reported_as_the_sender_with_postfixs_words() {
    // reject_sender_login_mismatch with smtpd_delay_reject=yes (Postfix's default): MAIL FROM
    // gets 250, the refusal comes as the reply to RCPT TO.
    let pf = Postfix::start(PostfixOpts {
        sender_login: true,
        ..Default::default()
    });
    let other = "other@example.test";
    let e = pool::send(
        &submission(&pf, &[]),
        &from(other, "rcpt1@example.test", "<pf.3@test.example>"),
    )
    .unwrap_err();
    let (stage, about, reply) = rejected(&e);
    assert_eq!(stage, Stage::RcptTo);
    assert_eq!(about, About::Sender(other.into()));
    assert_eq!(reply.code, 553);
    let text = e.to_string();
    assert!(
        text.contains("refused the sender <other@example.test>"),
        "{text}"
    );
    assert!(
        text.contains(
            "553 5.7.1 <other@example.test>: Sender address rejected: not owned by user \
             wiki@example.test"
        ),
        "{text}"
    );
    assert!(text.contains("$wgPasswordSender"), "{text}");
    assert!(!text.contains("Check the address"), "{text}");
    // The account's own address is fine.
    pool::send(
        &submission(&pf, &[]),
        &from(USER, "rcpt1@example.test", "<pf.4@test.example>"),
    )
    .expect("own address");
    assert_eq!(pf.wait_delivered(1).len(), 1);
}

#[test]
fn a_wrong_password_gets_postfixs_535() {
    let pf = Postfix::start(PostfixOpts::default());
    let e = pool::send(
        &submission(&pf, &[("password", "not-the-password")]),
        &from(USER, "rcpt1@example.test", "<pf.5@test.example>"),
    )
    .unwrap_err();
    assert_eq!(e.smtp_code(), 535, "{e}");
    assert!(e.to_string().contains("authentication failed"), "{e}");
    assert!(!e.to_string().contains("not-the-password"));
    sleep(Duration::from_millis(200));
    assert!(pf.delivered().is_empty());
}

#[test]
fn eleven_hundred_recipients_against_postfixs_limit_of_50_are_all_delivered() {
    // Past 1000 refused RCPTs Postfix answers every command after a 1 s pause
    // (smtpd_recipient_overshoot_limit): batches the size Postfix took keep well below that.
    let pf = Postfix::start(PostfixOpts {
        recipient_limit: Some(50),
        wire_log: false,
        ..Default::default()
    });
    let rcpts: Vec<String> = (1..=1100).map(|i| format!("r{i}@example.test")).collect();
    let msg = from(USER, &rcpts.join(", "), "<pf.6@test.example>");
    let started = Instant::now();
    pool::send(&submission(&pf, &[]), &msg).expect("all 1100");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "{took:?}");
    let got = pf.wait_delivered(1100);
    assert_same_recipients(got.iter().map(|d| d.recipient.clone()).collect(), &rcpts);
}

#[test]
fn postfixs_idle_close_is_noticed_before_reuse() {
    let _g = pool_lock();
    let pf = Postfix::start(PostfixOpts {
        idle_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    });
    let s = submission(&pf, &[("pool", "1"), ("pool_ping_after", "30")]);
    pool::send(&s, &from(USER, "rcpt1@example.test", "<pf.7@test.example>")).expect("first");
    // Postfix says "421 4.4.2 ... Error: timeout exceeded" and closes.
    sleep(Duration::from_millis(2500));
    let before = pool::stats();
    pool::send(&s, &from(USER, "rcpt1@example.test", "<pf.8@test.example>"))
        .expect("second, on a new connection");
    let after = pool::stats();
    assert_eq!(after.retries, before.retries);
    assert_eq!(after.connections_opened - before.connections_opened, 1);
    assert_eq!(pf.wait_delivered(2).len(), 2);
    pool::shutdown();
}

/// The pool is a process global: the one test here that keeps connections runs alone.
fn pool_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    pool::shutdown();
    g
}
