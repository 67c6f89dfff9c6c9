//! CHUNKING (RFC 3030): one `BDAT <n> LAST` with the exact message bytes instead of DATA; the
//! whole transaction in one write for one recipient once the server has completed a BDAT
//! transaction (before that, the chunk waits for the envelope's replies and for a refusal of
//! the lone BDAT line); DATA again when the server refuses BDAT.

mod common;

use std::thread::sleep;
use std::time::Duration;

use common::*;
use smtp::error::{About, Error, Outcome, Stage};
use smtp::pool;

fn client_verbs(srv: &FaultServer, conn: u32) -> Vec<String> {
    srv.transcript_of(conn)
        .iter()
        .filter_map(|l| l.strip_prefix("C: "))
        .map(|c| c.split([' ', ':']).next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn one_recipient_goes_in_one_bdat_with_the_exact_bytes() {
    let srv = FaultServer::start(&["--chunking"]);
    let msg = message(
        "a@example.test",
        "chunk",
        b".a dot\r\n.\r\nno stuffing\n",
        "<chunk.1@test.example>",
    );
    pool::send(&srv.settings(&[]), &msg).expect("sent with BDAT");
    let got = &srv.wait_messages(1)[0];
    assert_eq!(got.json["via"], "BDAT");
    // No dot-stuffing, no final dot: the chunk is the message.
    assert_eq!(got.raw(), msg.data);
    assert_eq!(got.eml, msg.data);
    assert_eq!(
        client_verbs(&srv, 1)[1..4],
        ["MAIL", "RCPT", "BDAT"],
        "{}",
        srv.transcript()
    );
    assert!(srv
        .transcript()
        .contains(&format!("C: BDAT {} LAST", msg.data.len())));
    assert_eq!(srv.commands("DATA"), 0);
}

#[test]
fn several_recipients_get_their_replies_before_the_chunk() {
    // All or nothing: BDAT goes only after every RCPT was accepted.
    let srv = FaultServer::start(&["--chunking", "--reject-rcpt", "bad@"]);
    let msg = message(
        "a@example.test, bad@example.test, c@example.test",
        "s",
        b"b\n",
        "<chunk.2@test.example>",
    );
    let e = pool::send(&srv.settings(&[]), &msg).unwrap_err();
    assert!(
        matches!(&e, Error::Rejected { about: About::Recipient(r), .. } if r == "bad@example.test"),
        "{e:?}"
    );
    srv.wait_transcript("RSET", |t| t.contains("C: RSET"));
    assert_eq!(srv.commands("BDAT"), 0, "{}", srv.transcript());
    assert!(srv.received().is_empty());
    // Without the bad one: delivered once, with BDAT.
    let ok = message(
        "a@example.test, c@example.test",
        "s",
        b"b\n",
        "<chunk.3@test.example>",
    );
    pool::send(&srv.settings(&[]), &ok).expect("two recipients");
    let got = srv.wait_messages(1);
    assert_eq!(got[0].rcpt_to(), ["a@example.test", "c@example.test"]);
    assert_eq!(got[0].json["via"], "BDAT");
}

#[test]
fn the_first_chunk_waits_for_the_envelopes_replies() {
    // A server this process has not yet seen complete a BDAT transaction: MAIL and RCPT are
    // answered before the chunk goes, so a refused recipient keeps the body off the wire.
    // (Before: MAIL, RCPT, BDAT and the body in one write.)
    let srv = FaultServer::start(&["--chunking", "--reject-rcpt", "bad@"]);
    let e = pool::send(&srv.settings(&[]), &simple("bad@example.test", 1)).unwrap_err();
    assert_eq!(e.outcome(), Outcome::NotSent, "{e:?}");
    assert_eq!(e.stage(), Some(Stage::RcptTo));
    assert_eq!(e.smtp_code(), 550);
    srv.wait_transcript("the end", |t| t.contains("CLOSE"));
    assert_eq!(srv.commands("BDAT"), 0, "{}", srv.transcript());
    assert!(!srv.transcript().contains("<chunk"), "{}", srv.transcript());
}

#[test]
fn a_proven_server_gets_the_chunk_with_the_envelope() {
    let _g = serial();
    let srv = FaultServer::start(&["--chunking", "--reject-rcpt", "bad@"]);
    let s = srv.settings(&[("pool", "1")]);
    // The first message proves that the server takes BDAT.
    pool::send(&s, &simple("a@example.test", 1)).expect("first");
    assert_eq!(srv.wait_messages(1)[0].json["via"], "BDAT");
    // The second goes in one write: the chunk is on the wire before the RCPT's refusal is
    // read, so the server reads it and throws it away (503).
    let e = pool::send(&s, &simple("bad@example.test", 2)).unwrap_err();
    assert_eq!(e.outcome(), Outcome::NotSent, "{e:?}");
    assert_eq!(e.stage(), Some(Stage::RcptTo));
    assert_eq!(e.smtp_code(), 550);
    srv.wait_transcript("the chunk refused", |t| t.contains("S: 503"));
    assert_eq!(srv.received().len(), 1);
    // The connection was not kept (the server's state after a refused chunk is not trusted).
    pool::send(&s, &simple("a@example.test", 3)).expect("next");
    assert_eq!(srv.wait_messages(2)[1].connection(), 2);
    pool::shutdown();
}

#[test]
fn a_server_that_refuses_bdat_gets_the_message_again_with_data_once() {
    let _g = serial();
    // Connection 1 offers CHUNKING but answers BDAT with "502 unknown command".
    let srv = FaultServer::start(&[
        "--chunking",
        "--reply",
        "BDAT=502 5.5.1 Error: command not implemented",
        "--fault-once",
    ]);
    let s = srv.settings(&[("pool", "1"), ("debug", "0")]);
    pool::send(&s, &simple("a@example.test", 1)).expect("delivered with DATA after the 502");
    let got = srv.wait_messages(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json["via"], "DATA");
    assert_eq!(got[0].connection(), 2);
    // The server read no line of the message as a command: the BDAT line went alone, and its
    // refusal kept the body off the wire. (Before: the body followed the BDAT line at once.)
    srv.wait_transcript("the first connection closed", |t| t.contains("1 CLOSE"));
    let verbs = client_verbs(&srv, 1);
    assert!(
        verbs
            .iter()
            .all(|v| ["EHLO", "MAIL", "RCPT", "BDAT", "RSET", "QUIT"].contains(&v.as_str())),
        "{}",
        srv.transcript()
    );
    assert!(
        !srv.transcript().contains("C: This is message"),
        "{}",
        srv.transcript()
    );
    // Remembered for this server: the next message goes with DATA straight away.
    pool::shutdown();
    pool::send(&s, &simple("a@example.test", 2)).expect("second");
    let got = srv.wait_messages(2);
    assert_eq!(got[1].json["via"], "DATA");
    assert_eq!(srv.commands("BDAT"), 1, "{}", srv.transcript());
    pool::shutdown();
}

#[test]
fn chunking_off_uses_data() {
    let srv = FaultServer::start(&["--chunking"]);
    pool::send(
        &srv.settings(&[("chunking", "off")]),
        &simple("a@example.test", 1),
    )
    .expect("DATA");
    assert_eq!(srv.wait_messages(1)[0].json["via"], "DATA");
    assert_eq!(srv.commands("BDAT"), 0);
}

#[test]
fn no_reply_to_the_chunk_is_unknown_and_not_retried() {
    let srv = FaultServer::start(&["--chunking", "--action", "BDAT=silent"]);
    let e = pool::send(
        &srv.settings(&[("timeout", "0.5"), ("max_time", "1.5")]),
        &simple("a@example.test", 1),
    )
    .unwrap_err();
    assert_eq!(e.outcome(), Outcome::Unknown, "{e:?}");
    assert_eq!(e.stage(), Some(Stage::FinalReply));
    let got = srv.wait_received(1);
    assert_eq!(got[0].reply(), None);
    sleep(Duration::from_millis(300));
    assert_eq!(srv.connections_opened(), 1);
}

#[test]
fn recipient_batches_with_bdat() {
    let srv = FaultServer::start(&["--chunking", "--rcpt-limit", "2"]);
    let rcpts: Vec<String> = (1..=5).map(|i| format!("r{i}@example.test")).collect();
    let msg = message(&rcpts.join(", "), "s", b"b\n", "<chunk.4@test.example>");
    pool::send(&srv.settings(&[]), &msg).expect("three transactions");
    let got = srv.wait_messages(3);
    let mut all: Vec<String> = got.iter().flat_map(|m| m.rcpt_to()).collect();
    all.sort();
    assert_eq!(all, rcpts);
    assert!(got
        .iter()
        .all(|m| m.json["via"] == "BDAT" && m.eml == msg.data));
}

#[test]
fn a_message_bigger_than_the_servers_size_is_refused_before_sending() {
    // The fault server offers SIZE 10485760.
    let srv = FaultServer::start(&["--chunking"]);
    let big = vec![b'x'; 10_485_761];
    let msg = message("a@example.test", "big", &big, "<chunk.5@test.example>");
    let e = pool::send(&srv.settings(&[]), &msg).unwrap_err();
    match &e {
        Error::TooBig { max, .. } => assert_eq!(*max, 10_485_760),
        other => panic!("expected TooBig, got {other:?}"),
    }
    assert!(e.to_string().contains("takes at most 10485760"), "{e}");
    assert_eq!(srv.commands("MAIL"), 0);
}

/// The pool is a process global: the tests that keep connections run one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    pool::shutdown();
    g
}
