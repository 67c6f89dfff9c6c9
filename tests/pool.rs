//! The connection pool: reuse, reconnection, retries that are safe and none that are not.
//!
//! The pool and its counters are process globals, so every test here holds `SERIAL` and
//! empties the pool first; counters are compared as differences.

mod common;

use std::sync::{Mutex, MutexGuard};
use std::thread::sleep;
use std::time::Duration;

use common::*;
use smtp::error::{Error, Outcome, Stage};
use smtp::pool::{self, Stats};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    pool::shutdown();
    guard
}

/// Pool on, with small limits: a connection idle for more than `ping_after` is checked with
/// NOOP first.
fn pooled(ping_after: &str) -> Vec<(&'static str, String)> {
    vec![
        ("pool", "1".into()),
        ("pool_ping_after", ping_after.into()),
        ("pool_idle_timeout", "20".into()),
        ("pool_max_messages", "100".into()),
    ]
}

fn with<'a>(
    base: &'a [(&'static str, String)],
    extra: &[(&'static str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    v.extend_from_slice(extra);
    v
}

fn delta(before: Stats) -> Stats {
    let now = pool::stats();
    Stats {
        connections_opened: now.connections_opened - before.connections_opened,
        connections_reused: now.connections_reused - before.connections_reused,
        retries: now.retries - before.retries,
        messages_sent: now.messages_sent - before.messages_sent,
        failures: now.failures - before.failures,
        unknown: now.unknown - before.unknown,
        partial: now.partial - before.partial,
    }
}

/// Every message id in `ids` arrived exactly once (and nothing else arrived).
fn exactly_once(srv: &FaultServer, ids: &[String]) {
    let got: Vec<String> = srv
        .messages()
        .iter()
        .map(|m| m.message_id().expect("Message-ID"))
        .collect();
    let mut want = ids.to_vec();
    let mut have = got.clone();
    want.sort();
    have.sort();
    assert_eq!(have, want, "received {got:?}\n{}", srv.transcript());
}

fn msg(n: usize) -> smtp::message::Prepared {
    simple("a@example.test", n)
}

#[test]
fn one_connection_for_three_sends() {
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&with(&pooled("5"), &[]));
    let before = pool::stats();
    let msgs: Vec<_> = (1..=3).map(msg).collect();
    for m in &msgs {
        pool::send(&s, m).expect("send");
    }
    let got = srv.wait_messages(3);
    assert!(got.iter().all(|m| m.connection() == 1));
    for (m, sent) in got.iter().zip(&msgs) {
        assert_eq!(m.eml, sent.data);
    }
    assert_eq!(srv.connections_opened(), 1, "{}", srv.transcript());
    assert!(
        !srv.transcript().contains("C: QUIT"),
        "kept open: no QUIT yet"
    );
    let d = delta(before);
    assert_eq!(
        (
            d.connections_opened,
            d.connections_reused,
            d.messages_sent,
            d.retries,
            d.failures
        ),
        (1, 2, 3, 0, 0),
        "{d:?}"
    );
    // Shutdown says goodbye.
    pool::shutdown();
    srv.wait_transcript("QUIT after shutdown", |t| t.contains("1 C: QUIT"));
}

#[test]
fn pool_off_connects_and_quits_every_time() {
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let mut ini = pooled("5");
    ini[0].1 = "0".into();
    let s = srv.settings(&with(&ini, &[]));
    assert!(!s.pool.enabled);
    let before = pool::stats();
    for n in 1..=3 {
        pool::send(&s, &msg(n)).expect("send");
    }
    let got = srv.wait_messages(3);
    assert_eq!(
        got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    srv.wait_transcript("3 QUITs", |t| t.matches(" C: QUIT").count() == 3);
    assert_eq!(srv.connections_opened(), 3);
    for conn in 1..=3 {
        assert!(
            srv.transcript_of(conn).contains(&"C: QUIT".to_string()),
            "conn {conn}"
        );
    }
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.connections_reused, d.messages_sent),
        (3, 0, 3)
    );
}

#[test]
fn client_side_max_messages_replaces_the_connection() {
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&with(&pooled("5"), &[("pool_max_messages", "2")]));
    for n in 1..=3 {
        pool::send(&s, &msg(n)).expect("send");
    }
    let got = srv.wait_messages(3);
    assert_eq!(
        got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
        [1, 1, 2]
    );
    // The first connection was closed politely after its second message.
    srv.wait_transcript("QUIT on connection 1", |t| t.contains("1 C: QUIT"));
}

#[test]
fn idle_close_by_server_is_caught_by_the_ping() {
    let _g = serial();
    let srv = FaultServer::start(&["--idle-close", "1"]);
    let s = srv.settings(&with(&pooled("0.2"), &[]));
    let before = pool::stats();
    pool::send(&s, &msg(1)).expect("first send");
    sleep(Duration::from_millis(1500));
    srv.wait_transcript("server closing the idle connection", |t| {
        t.contains("1 CLOSE")
    });
    pool::send(&s, &msg(2)).expect("second send after the server closed the idle connection");
    srv.wait_messages(2);
    exactly_once(&srv, &[id(1), id(2)]);
    assert_eq!(srv.connections_opened(), 2);
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.messages_sent, d.failures),
        (2, 2, 0),
        "{d:?}"
    );
    // Found dead by NOOP, not by a failed send.
    assert_eq!(d.retries, 0, "{d:?}");
}

#[test]
fn idle_close_by_server_is_seen_without_a_round_trip() {
    let _g = serial();
    let srv = FaultServer::start(&["--idle-close", "0.6"]);
    // ping_after longer than the pause, so no NOOP: the look at the idle socket (no round trip)
    // sees the server's close, and the message goes out on a new connection, no retry needed.
    let s = srv.settings(&with(&pooled("10"), &[]));
    let before = pool::stats();
    pool::send(&s, &msg(1)).expect("first send");
    sleep(Duration::from_millis(900));
    srv.wait_transcript("server closing the idle connection", |t| {
        t.contains("1 CLOSE")
    });
    pool::send(&s, &msg(2)).expect("second send on a connection the server closed");
    srv.wait_messages(2);
    exactly_once(&srv, &[id(1), id(2)]);
    assert!(!srv.transcript_of(1).iter().any(|l| l == "C: NOOP"));
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.messages_sent, d.failures),
        (2, 0, 2, 0),
        "{d:?}"
    );
}

#[test]
fn idle_close_with_421_is_seen_before_reuse() {
    // The server says "421 4.4.2 Idle timeout" before closing: that unread reply must not be
    // taken as the answer to a later command, and each message must go out once.
    let _g = serial();
    let srv = FaultServer::start(&["--idle-close", "0.6", "--idle-close-421"]);
    let no_ping = srv.settings(&with(&pooled("10"), &[]));
    let ping = srv.settings(&with(&pooled("0.2"), &[]));
    let before = pool::stats();
    pool::send(&no_ping, &msg(1)).expect("send 1");
    srv.wait_transcript("idle 421 on connection 1", |t| t.contains("1 CLOSE"));
    // Not pinged: the waiting 421 is seen before reuse; a new connection, no retry.
    pool::send(&no_ping, &msg(2)).expect("send 2");
    srv.wait_transcript("idle 421 on connection 2", |t| t.contains("2 CLOSE"));
    // Pinged: NOOP gets the 421; a new connection without a retry.
    pool::send(&ping, &msg(3)).expect("send 3");
    srv.wait_messages(3);
    exactly_once(&srv, &(1..=3).map(id).collect::<Vec<_>>());
    assert_eq!(
        srv.transcript()
            .matches("S: 421 4.4.2 Idle timeout")
            .count(),
        2
    );
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.messages_sent, d.failures),
        (3, 0, 3, 0),
        "{d:?}"
    );
    // Connection 1 carried only its first message: nothing was sent after the idle 421.
    let mails = |c| {
        srv.transcript_of(c)
            .iter()
            .filter(|l| l.starts_with("C: MAIL"))
            .count()
    };
    assert_eq!((mails(1), mails(2)), (1, 1), "{}", srv.transcript());
}

#[test]
fn tls_connection_is_reused_and_pinged() {
    let _g = serial();
    let srv = FaultServer::start_tls("good", &["--starttls", "--idle-close", "1.2"]);
    let s = srv.settings(&with(&pooled("0.2"), &[("cafile", &ca_file())]));
    pool::send(&s, &msg(1)).expect("send 1");
    pool::send(&s, &msg(2)).expect("send 2 (reused)");
    sleep(Duration::from_millis(300));
    pool::send(&s, &msg(3)).expect("send 3 (pinged, still alive)");
    sleep(Duration::from_millis(1500));
    srv.wait_transcript("server closing connection 1", |t| t.contains("1 CLOSE"));
    pool::send(&s, &msg(4)).expect("send 4 (pinged, dead, new connection)");
    let got = srv.wait_messages(4);
    assert!(got.iter().all(|m| m.tls()));
    assert_eq!(
        got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
        [1, 1, 1, 2]
    );
    assert!(
        srv.transcript_of(1).iter().any(|l| l == "C: NOOP"),
        "{}",
        srv.transcript()
    );
    exactly_once(&srv, &(1..=4).map(id).collect::<Vec<_>>());
    pool::shutdown();
    srv.wait_transcript("QUIT over TLS at shutdown", |t| t.contains("2 C: QUIT"));
}

#[test]
fn idle_timeout_closes_instead_of_reusing() {
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&with(&pooled("10"), &[("pool_idle_timeout", "0.3")]));
    pool::send(&s, &msg(1)).expect("send");
    sleep(Duration::from_millis(600));
    pool::send(&s, &msg(2)).expect("send");
    let got = srv.wait_messages(2);
    assert_eq!(
        got.iter().map(|m| m.connection()).collect::<Vec<_>>(),
        [1, 2]
    );
    assert!(!srv.transcript_of(2).iter().any(|l| l == "C: NOOP"));
}

#[test]
fn server_max_messages_reconnects_without_loss_or_duplicate() {
    let _g = serial();
    let srv = FaultServer::start(&["--max-messages", "2"]);
    let s = srv.settings(&with(&pooled("5"), &[]));
    let before = pool::stats();
    for n in 1..=5 {
        pool::send(&s, &msg(n)).unwrap_or_else(|e| panic!("send {n}: {e}"));
    }
    srv.wait_messages(5);
    exactly_once(&srv, &(1..=5).map(id).collect::<Vec<_>>());
    let conns: Vec<i64> = srv.messages().iter().map(|m| m.connection()).collect();
    assert_eq!(conns, [1, 1, 2, 2, 3]);
    // One retry: after the first 421 the pool ends each session after two messages itself
    // (tests/session_limit.rs).
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.messages_sent, d.failures),
        (3, 1, 5, 0),
        "{d:?}"
    );
}

#[test]
fn mail_421_on_a_fresh_connection_is_an_error_then_the_next_send_works() {
    // --fault-once puts the 421 on connection 1 from its first MAIL: that connection was never
    // reused, so there is nothing to retry on; the error is returned, and the next send opens
    // connection 2.
    let _g = serial();
    let srv = FaultServer::start(&["--reply", "MAIL=421 4.7.0 closing", "--fault-once"]);
    let s = srv.settings(&with(&pooled("5"), &[]));
    let before = pool::stats();
    let e = pool::send(&s, &msg(1)).unwrap_err();
    pool::send(&s, &msg(2)).expect("second send");
    srv.wait_messages(1);
    exactly_once(&srv, &[id(2)]);
    assert_eq!(srv.messages()[0].connection(), 2);
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.failures),
        (2, 0, 1),
        "{d:?}"
    );
    // The error is the server's 421 (see also errors.rs: mail_421_then_close_reports_the_421).
    assert_eq!(e.stage(), Some(Stage::MailFrom), "{e:?}");
    assert_eq!(e.smtp_code(), 421, "{e:?}");
}

#[test]
fn mail_421_on_a_reused_connection_is_retried_on_a_fresh_one() {
    // --max-messages 1: the second MAIL on a connection gets "421 4.7.0 ... closing".
    let _g = serial();
    let srv = FaultServer::start(&["--max-messages", "1"]);
    let s = srv.settings(&with(&pooled("5"), &[]));
    let before = pool::stats();
    pool::send(&s, &msg(1)).expect("first send");
    pool::send(&s, &msg(2)).expect("second send: retried after the 421");
    srv.wait_messages(2);
    exactly_once(&srv, &[id(1), id(2)]);
    let t = srv.transcript();
    assert!(t.contains("1 S: 421 4.7.0"), "{t}");
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.failures),
        (2, 1, 0),
        "{d:?}"
    );
}

#[test]
fn failure_after_the_message_was_sent_is_not_retried_dot_timeout() {
    // The server answers the final dot only after 1.2 s. The second send, on the reused
    // connection, gives up after 0.5 s: the server may still accept it, so a retry could make
    // a duplicate. No retry; exactly one copy arrives (late).
    let _g = serial();
    let srv = FaultServer::start(&["--action", "DOT=delay:1.2"]);
    let slow = srv.settings(&with(&pooled("5"), &[("timeout", "5")]));
    let hasty = srv.settings(&with(
        &pooled("5"),
        &[("timeout", "0.5"), ("max_time", "0.5")],
    ));
    let before = pool::stats();
    pool::send(&slow, &msg(1)).expect("first send");
    let (e, _) = send_fails(&hasty, &msg(2), Duration::from_millis(500));
    assert_eq!(e.outcome(), Outcome::Unknown, "{e:?}");
    assert_eq!(e.stage(), Some(Stage::FinalReply), "{e:?}");
    // The server accepts the message late; wait for it, then make sure no second copy comes.
    srv.wait_messages(2);
    sleep(Duration::from_millis(300));
    exactly_once(&srv, &[id(1), id(2)]);
    assert_eq!(srv.connections_opened(), 1, "{}", srv.transcript());
    let d = delta(before);
    assert_eq!(
        (d.retries, d.failures, d.unknown, d.connections_opened),
        (0, 0, 1, 1),
        "{d:?}"
    );
}

#[test]
fn failure_after_the_message_was_sent_is_not_retried_dot_silent() {
    let _g = serial();
    let srv = ScriptServer::start(|n| {
        if n == 2 {
            Fate::SilentAfterData
        } else {
            Fate::Accept
        }
    });
    let s = srv.settings(&with(&pooled("5"), &[("timeout", "1"), ("max_time", "1")]));
    let before = pool::stats();
    pool::send(&s, &msg(1)).expect("first send");
    let (e, _) = send_fails(&s, &msg(2), Duration::from_secs(1));
    let Error::Unknown { cause, .. } = &e else {
        panic!("expected Unknown, got {e:?}");
    };
    assert!(
        matches!(
            **cause,
            Error::Timeout {
                stage: Stage::FinalReply,
                ..
            }
        ),
        "{e:?}"
    );
    sleep(Duration::from_millis(200));
    assert_eq!(srv.connections(), 1, "retried on a new connection");
    // The server has the second message (it just never answered): exactly one copy.
    assert_eq!(srv.received().len(), 2);
    assert_eq!(srv.accepted().len(), 1);
    let d = delta(before);
    assert_eq!((d.retries, d.failures, d.unknown), (0, 0, 1), "{d:?}");
    // The broken connection is not kept: the next send opens a new one.
    pool::send(&s, &msg(3)).expect("third send");
    assert_eq!(srv.connections(), 2);
    assert_eq!(srv.accepted().len(), 2);
}

#[test]
fn failure_after_the_message_was_sent_is_not_retried_middata_close() {
    let _g = serial();
    let srv = ScriptServer::start(|n| {
        if n == 2 {
            Fate::CloseMidData
        } else {
            Fate::Accept
        }
    });
    let s = srv.settings(&with(&pooled("5"), &[]));
    let before = pool::stats();
    pool::send(&s, &msg(1)).expect("first send");
    let e = pool::send(&s, &msg(2)).unwrap_err();
    // The whole message was written (one write) before the server hung up: unknown, never
    // "not sent", and never retried.
    assert_eq!(e.outcome(), Outcome::Unknown, "{e:?}");
    sleep(Duration::from_millis(200));
    assert_eq!(srv.connections(), 1, "retried on a new connection");
    assert_eq!(srv.accepted().len(), 1);
    let d = delta(before);
    assert_eq!((d.retries, d.unknown), (0, 1), "{d:?}");
}

#[test]
fn transient_refusal_keeps_the_connection() {
    // A 451 after the dot refuses this message only: the connection stays in the pool.
    let _g = serial();
    let srv = ScriptServer::start(|_| Fate::Accept);
    let s = srv.settings(&with(&pooled("5"), &[]));
    pool::send(&s, &msg(1)).expect("send");
    pool::send(&s, &msg(2)).expect("send");
    assert_eq!(srv.connections(), 1);
    let fault = FaultServer::start(&["--reply", "DOT=451 4.3.0 Try again later"]);
    let s = fault.settings(&with(&pooled("5"), &[]));
    for n in 1..=2 {
        let e = pool::send(&s, &msg(n)).unwrap_err();
        assert_eq!(e.smtp_code(), 451);
    }
    assert_eq!(fault.connections_opened(), 1, "{}", fault.transcript());
    assert!(fault.messages().is_empty());
}

#[test]
fn refused_recipient_does_not_leak_into_the_next_send() {
    // Without pipelining the refused transaction is reset (RSET) and the connection kept; with
    // pipelining the server already said 354, so the connection is dropped. Either way the next
    // message goes to its own recipients only, once.
    let _g = serial();
    for (flags, conns) in [(&["--no-pipelining"][..], 1), (&[][..], 2)] {
        let mut args = vec!["--reject-rcpt", "bad@"];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let s = srv.settings(&with(&pooled("5"), &[]));
        let bad = message(
            "x@example.test, bad@example.test",
            "bad",
            b"no\n",
            "<bad.1@test.example>",
        );
        let e = pool::send(&s, &bad).unwrap_err();
        assert_eq!(e.smtp_code(), 550, "{flags:?}: {e}");
        pool::send(&s, &msg(1)).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let got = srv.wait_messages(1);
        assert_eq!(got.len(), 1, "{flags:?}");
        assert_eq!(got[0].rcpt_to(), ["a@example.test"], "{flags:?}");
        assert_eq!(got[0].message_id(), Some(id(1)));
        assert_eq!(
            got[0].connection(),
            conns,
            "{flags:?}\n{}",
            srv.transcript()
        );
        if conns == 1 {
            assert!(
                srv.transcript().contains("1 C: RSET"),
                "{}",
                srv.transcript()
            );
        }
        pool::shutdown();
    }
}

fn id(n: usize) -> String {
    format!("<msg-{n}.{}@test.example>", std::process::id())
}

#[test]
fn at_most_pool_size_connections_are_kept_the_least_recently_used_goes() {
    // On main every (server, account) kept its connection until that key was used again.
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let base = pooled("5");
    let as_user =
        |user: &'static str| srv.settings(&with(&base, &[("pool_size", "2"), ("username", user)]));
    let before = pool::stats();
    pool::send(&as_user("a"), &msg(1)).expect("send");
    pool::send(&as_user("b"), &msg(2)).expect("send");
    pool::send(&as_user("c"), &msg(3)).expect("send");
    // a's connection (the least recently used) went with QUIT when c's was kept.
    srv.wait_transcript("connection 1 QUIT", |t| t.contains("1 C: QUIT"));
    assert!(!srv.transcript().contains("2 C: QUIT"));
    pool::send(&as_user("b"), &msg(4)).expect("send");
    pool::send(&as_user("a"), &msg(5)).expect("send");
    let conns: Vec<i64> = srv
        .wait_messages(5)
        .iter()
        .map(|m| m.connection())
        .collect();
    assert_eq!(conns, [1, 2, 3, 2, 4]);
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.connections_reused),
        (4, 1),
        "{d:?}"
    );
    // Now c's went (b and a were used after it).
    srv.wait_transcript("connection 3 QUIT", |t| t.contains("3 C: QUIT"));
    pool::shutdown();
}

#[test]
fn an_idle_connection_in_a_slot_closes_at_its_idle_limit_without_a_call() {
    // The slot must not stay taken by a connection nobody may use any more. On main it stayed
    // open (and in its slot) until the next send of this process.
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&with(
        &pooled("5"),
        &[("pool_idle_timeout", "0.3"), ("max_connections", "1")],
    ));
    pool::send(&s, &msg(1)).expect("send");
    srv.wait_transcript("connection 1 closed by the reaper", |t| {
        t.contains("1 C: QUIT") || t.contains("1 CLOSE")
    });
    let budget = smtp::transport::Budget::new(Duration::from_millis(100), None);
    let slot = smtp::slots::acquire(&s, 1, &budget).expect("the slot is free again");
    assert!(slot.is_some());
}

#[test]
fn a_forked_child_that_lives_on_holds_none_of_our_slots() {
    // On main the child's copy of the slot file kept the flock() while it lived: the parent,
    // its own connection closed, waited out smtp.timeout ("all 1 connections ... in use").
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&with(&pooled("5"), &[("max_connections", "1")]));
    pool::send(&s, &msg(1)).expect("send");
    // SAFETY: the child only sleeps and leaves with _exit (async-signal-safe calls only).
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        // SAFETY: as above.
        unsafe {
            libc::sleep(5);
            libc::_exit(0);
        }
    }
    // The parent closes its connection (QUIT, slot let go) and wants the slot back at once.
    pool::shutdown();
    let budget = smtp::transport::Budget::new(Duration::from_millis(500), None);
    let slot = smtp::slots::acquire(&s, 1, &budget);
    // SAFETY: a child of ours; kill and reap it whatever the outcome.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
    }
    assert!(
        matches!(slot, Ok(Some(_))),
        "the child held the slot: {slot:?}"
    );
}

#[test]
fn three_hundred_forks_beside_the_reaper_never_leave_the_child_locked_out() {
    // 60 idle connections in slots keep the reaper busy (on main it held the pool's lock across
    // its open/flock calls, and a child forked meanwhile hung at its first call or at exit: a
    // few in 300). Each child uses the pool once and shuts it down, as PHP does at exit.
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let base = pooled("30");
    let users: Vec<String> = (1..=60).map(|n| format!("user{n}")).collect();
    let all: Vec<_> = users
        .iter()
        .map(|u| {
            srv.settings(&with(
                &base,
                &[
                    ("max_connections", "1"),
                    ("pool_size", "64"),
                    ("username", u),
                ],
            ))
        })
        .collect();
    for (n, s) in all.iter().enumerate() {
        pool::send(s, &msg(n)).expect("send");
    }
    let (mut hung, mut failed) = (0, 0);
    for _ in 0..300 {
        match fork_pool_child() {
            ForkedChild::Fresh => {}
            ForkedChild::Stale => failed += 1,
            ForkedChild::Hung => hung += 1,
        }
    }
    assert_eq!((hung, failed), (0, 0), "hung, failed of 300 children");
    // The parent's connections are untouched by its children: all 60 still carry mail.
    let before = pool::stats();
    for (n, s) in all.iter().enumerate() {
        pool::send(s, &msg(100 + n)).expect("send");
    }
    assert_eq!(delta(before).connections_reused, 60);
    pool::shutdown();
}
