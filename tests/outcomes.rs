//! What a send reports is what happened on the wire: sent, not sent, unknown, or delivered to
//! some recipients only; refusals named by what they are about; recipient limits honoured
//! without multiplying commands; kept connections reused only when safe.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use smtp::error::{About, Error, Outcome, Stage};
use smtp::pool;

fn recipients(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("r{i}@example.test")).collect()
}

fn to_many(rcpts: &[String], id: &str) -> smtp::message::Prepared {
    message(&rcpts.join(", "), "many", b"to many\n", id)
}

/// Each address got the message exactly once, and the messages the server accepted name only
/// these addresses.
fn each_once(srv: &FaultServer, rcpts: &[String]) {
    assert_same_recipients(
        srv.messages().iter().flat_map(|m| m.rcpt_to()).collect(),
        rcpts,
    );
}

#[test]
fn a_full_mailbox_is_a_refusal_of_that_recipient_not_a_recipient_limit() {
    // 452 4.2.2 for one address after another was accepted: the transaction fails before the
    // message, nobody gets it, and the error names the full mailbox.
    let srv = FaultServer::start(&["--rcpt-reply", "full@=452 4.2.2 Mailbox full"]);
    let msg = message(
        "ok@example.test, full@example.test",
        "s",
        b"b\n",
        "<full.1@test.example>",
    );
    let e = pool::send(&srv.settings(&[]), &msg).unwrap_err();
    assert_eq!(e.outcome(), Outcome::NotSent, "{e:?}");
    let (stage, about, reply) = rejected(&e);
    assert_eq!(stage, Stage::RcptTo);
    assert_eq!(about, About::Recipient("full@example.test".into()));
    assert_eq!(reply.enhanced.as_deref(), Some("4.2.2"));
    let text = e.to_string();
    assert!(
        text.contains("refused the recipient <full@example.test>"),
        "{text}"
    );
    assert!(text.contains("452 4.2.2 Mailbox full"), "{text}");
    assert!(
        text.contains("no message was sent to any recipient"),
        "{text}"
    );
    // Pipelined, the server had already said 354 to DATA: only closing aborts the transaction.
    srv.wait_transcript("the connection closed", |t| t.contains("1 CLOSE"));
    assert!(srv.received().is_empty(), "{}", srv.transcript());
}

#[test]
fn a_refusal_in_a_later_transaction_is_a_partial_delivery() {
    // Limit 2: r1 and r2 go in the first transaction; r3 is full (452 4.2.2) in the second.
    let srv = FaultServer::start(&[
        "--rcpt-limit",
        "2",
        "--rcpt-reply",
        "r3@=452 4.2.2 Mailbox full",
    ]);
    let rcpts = recipients(3);
    let e = pool::send(
        &srv.settings(&[]),
        &to_many(&rcpts, "<part.1@test.example>"),
    )
    .unwrap_err();
    assert_eq!(e.outcome(), Outcome::Partial, "{e:?}");
    let Error::Partial {
        cause,
        delivered,
        undelivered,
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(delivered, &rcpts[..2]);
    assert_eq!(undelivered, &rcpts[2..]);
    assert_eq!(cause.stage(), Some(Stage::RcptTo));
    assert_eq!(e.smtp_code(), 452);
    let text = e.to_string();
    assert!(
        text.starts_with(
            "the message was delivered to <r1@example.test>, <r2@example.test>, but not to \
             <r3@example.test>"
        ),
        "{text}"
    );
    assert!(text.contains("452 4.2.2 Mailbox full"), "{text}");
    assert!(!text.contains("no message was sent"), "{text}");
    each_once(&srv, &rcpts[..2]);
}

#[test]
fn a_server_that_closes_before_the_second_transaction_is_a_partial_delivery() {
    let srv = FaultServer::start(&["--rcpt-limit", "2", "--max-messages", "1"]);
    let rcpts = recipients(4);
    let e = pool::send(
        &srv.settings(&[]),
        &to_many(&rcpts, "<part.2@test.example>"),
    )
    .unwrap_err();
    let Error::Partial {
        delivered,
        undelivered,
        ..
    } = &e
    else {
        panic!("expected Partial, got {e:?}: {e}");
    };
    assert_eq!(delivered, &rcpts[..2]);
    assert_eq!(undelivered, &rcpts[2..]);
    assert_eq!(e.smtp_code(), 421);
    // Not retried on a new connection: that would be a second transaction the caller did not
    // ask for, and the error already says who got it.
    assert_eq!(srv.connections_opened(), 1);
    each_once(&srv, &rcpts[..2]);
}

#[test]
fn recipient_batches_are_no_larger_than_what_the_server_took() {
    // 200 recipients, limit 50: 4 transactions, everyone once. Only the first transaction
    // overshoots (one window of RCPTs past the limit, which is not known yet); the later ones
    // send 50 each. Before: every remaining recipient again in every transaction (500 RCPTs).
    let srv = FaultServer::start(&["--rcpt-limit", "50"]);
    let rcpts = recipients(200);
    pool::send(
        &srv.settings(&[]),
        &to_many(&rcpts, "<batch.1@test.example>"),
    )
    .expect("delivered in batches");
    let got = srv.wait_messages(4);
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|m| m.rcpt_to().len() == 50));
    each_once(&srv, &rcpts);
    let window = smtp::transport::txn::RCPT_WINDOW;
    assert_eq!(
        srv.commands("RCPT"),
        window + 150,
        "{}",
        srv.transcript().len()
    );
    assert_eq!(srv.commands("MAIL"), 4);
}

#[test]
fn eleven_hundred_recipients_against_a_limit_of_50() {
    // Postfix slows every reply to 1 s after 1000 excess RCPTs (smtpd_recipient_overshoot_
    // limit); sending only batches the server takes keeps the excess to one window.
    let srv = FaultServer::start(&["--rcpt-limit", "50"]);
    let rcpts = recipients(1100);
    let started = Instant::now();
    pool::send(
        &srv.settings(&[]),
        &to_many(&rcpts, "<batch.2@test.example>"),
    )
    .expect("all delivered");
    assert!(started.elapsed() < Duration::from_secs(60));
    srv.wait_messages(22);
    each_once(&srv, &rcpts);
    let excess = srv.transcript().matches("S: 452 4.5.3").count();
    assert!(
        excess <= smtp::transport::txn::RCPT_WINDOW,
        "{excess} refused RCPTs"
    );
}

#[test]
fn a_sender_refused_at_rcpt_time_is_reported_as_a_sender_problem() {
    // Postfix with reject_sender_login_mismatch and smtpd_delay_reject=yes refuses the sender
    // in its reply to RCPT TO.
    let refusal = format!(
        "553 5.7.1 <{FROM}>: Sender address rejected: not owned by user other@example.test"
    );
    for flags in [&[][..], &["--no-pipelining"][..]] {
        let reply = format!("@={refusal}");
        let mut args = vec!["--rcpt-reply", reply.as_str()];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let e = pool::send(&srv.settings(&[]), &simple("rcpt@example.test", 1)).unwrap_err();
        let (stage, about, _) = rejected(&e);
        assert_eq!(stage, Stage::RcptTo, "{flags:?}");
        assert_eq!(about, About::Sender(FROM.into()), "{flags:?}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("refused the sender <{FROM}>")),
            "{text}"
        );
        assert!(
            text.contains("Sender address rejected: not owned by user"),
            "{text}"
        );
        assert!(text.contains("$wgPasswordSender"), "{text}");
        assert!(!text.contains("Check the address"), "{text}");
        assert!(srv.received().is_empty());
    }
}

mod kept {
    //! The pool is a process global: these tests run one at a time.
    use super::*;
    use std::sync::{Mutex, MutexGuard};

    static SERIAL: Mutex<()> = Mutex::new(());

    fn serial() -> MutexGuard<'static, ()> {
        let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        pool::shutdown();
        g
    }

    const POOLED: &[(&str, &str)] = &[("pool", "1"), ("pool_idle_timeout", "30")];

    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = POOLED.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn a_wrong_password_never_rides_on_a_kept_connection() {
        let _g = serial();
        let srv = FaultServer::start(&["--auth-user", "wiki", "--auth-pass", "right"]);
        let good = srv.settings(&with(&[
            ("auth", "1"),
            ("username", "wiki"),
            ("password", "right"),
        ]));
        let bad = srv.settings(&with(&[
            ("auth", "1"),
            ("username", "wiki"),
            ("password", "wrong"),
        ]));
        pool::send(&good, &simple("a@example.test", 1)).expect("right password");
        let e = pool::send(&bad, &simple("a@example.test", 2)).unwrap_err();
        assert_eq!(e.smtp_code(), 535, "{e}");
        assert_eq!(e.stage(), Some(Stage::Auth));
        // The first connection was not reused for the wrong password; only message 1 arrived.
        assert_eq!(srv.connections_opened(), 2);
        assert_eq!(srv.messages().len(), 1);
        // And the right password still reuses its own connection.
        pool::send(&good, &simple("a@example.test", 3)).expect("right password again");
        let got = srv.wait_messages(2);
        assert_eq!(got[1].connection(), 1);
    }

    #[test]
    fn a_kept_connection_whose_noop_gets_no_answer_is_replaced_in_time() {
        // NAT dropped the kept connection: NOOP gets no answer. The check has its own short
        // limit (2 s at most); then a new connection with the full step timeout.
        let _g = serial();
        let srv = FaultServer::start(&["--action", "NOOP=silent"]);
        let s = srv.settings(&with(&[("pool_ping_after", "0.2"), ("timeout", "3")]));
        pool::send(&s, &simple("a@example.test", 1)).expect("first");
        sleep(Duration::from_millis(400));
        let started = Instant::now();
        pool::send(&s, &simple("a@example.test", 2)).expect("second, on a new connection");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3 + 1), "{took:?}");
        assert!(
            took >= Duration::from_millis(1900),
            "the NOOP was not waited for: {took:?}"
        );
        let got = srv.wait_messages(2);
        assert_eq!(
            got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(srv.transcript_of(1).iter().any(|l| l == "C: NOOP"));
    }

    #[test]
    fn a_reply_queued_behind_the_last_one_keeps_the_connection_from_reuse() {
        // As Exchange Online does: a 421 sits in the socket right behind the 250 for the
        // message. Reusing the connection would read it as the reply to MAIL.
        let _g = serial();
        let srv = FaultServer::start(&["--after-reply", "DOT=421 4.3.2 Service not available"]);
        let s = srv.settings(&with(&[("pool_ping_after", "30")]));
        pool::send(&s, &simple("a@example.test", 1)).expect("first");
        srv.wait_transcript("the queued 421", |t| t.contains("S: 421 4.3.2"));
        // The server logs a reply just before it sends it.
        sleep(Duration::from_millis(100));
        let before = pool::stats();
        pool::send(&s, &simple("a@example.test", 2)).expect("second, on a new connection");
        let after = pool::stats();
        assert_eq!(after.retries - before.retries, 0, "{}", srv.transcript());
        let got = srv.wait_messages(2);
        assert_eq!(
            got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(
            !srv.transcript_of(1)
                .iter()
                .skip_while(|l| !l.contains("421"))
                .any(|l| l.starts_with("C: MAIL")),
            "{}",
            srv.transcript()
        );
    }

    #[test]
    fn unknown_outcomes_are_counted_and_never_retried() {
        let _g = serial();
        let srv = FaultServer::start(&["--action", "DOT=silent"]);
        let s = srv.settings(&with(&[("timeout", "1"), ("max_time", "1.5")]));
        let before = pool::stats();
        let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
        assert_eq!(e.outcome(), Outcome::Unknown);
        let after = pool::stats();
        assert_eq!(
            (
                after.unknown - before.unknown,
                after.failures - before.failures,
                after.retries - before.retries
            ),
            (1, 0, 0)
        );
        assert_eq!(srv.wait_received(1).len(), 1);
        sleep(Duration::from_millis(300));
        assert_eq!(srv.received().len(), 1, "sent twice");
        assert_eq!(srv.connections_opened(), 1);
    }
}
