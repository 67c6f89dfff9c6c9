//! A server that ends every session itself after N messages (as Amazon SES does after ~350):
//! every mail arrives once, no refusal reaches the caller, and once the pool has seen the
//! limit it ends its sessions before the server would.
//!
//! The pool and its counters are process globals: every test holds `SERIAL`, and each uses
//! its own server (its own port), so what one test's pool learnt does not reach another's.

mod common;

use std::sync::{Mutex, MutexGuard};

use common::*;
use smtp::pool::{self, Stats};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    pool::shutdown();
    guard
}

/// Pool on with the defaults that matter here: no client-side limit of messages a session.
fn pooled() -> Vec<(&'static str, &'static str)> {
    vec![
        ("pool", "1"),
        ("pool_ping_after", "30"),
        ("pool_idle_timeout", "60"),
    ]
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

/// Sends `n` mails; each must succeed; then each arrived exactly once (counted at the server).
fn send_all_once(srv: &FaultServer, s: &smtp::config::Settings, n: usize) {
    let msgs: Vec<_> = (1..=n).map(|i| simple("a@example.test", i)).collect();
    for (i, m) in msgs.iter().enumerate() {
        pool::send(s, m).unwrap_or_else(|e| panic!("send {}: {e}\n{}", i + 1, srv.transcript()));
    }
    let got = srv.wait_messages(n);
    let mut have: Vec<Vec<u8>> = got.iter().map(|m| m.eml.clone()).collect();
    let mut want: Vec<Vec<u8>> = msgs.iter().map(|m| m.data.clone()).collect();
    have.sort();
    want.sort();
    assert!(
        have == want,
        "not every mail exactly once:\n{}",
        srv.transcript()
    );
}

#[test]
fn default_carries_more_than_a_hundred_messages_on_one_connection() {
    // pool_max_messages defaults to 0 (no limit): 150 mails, one session, no QUIT.
    let _g = serial();
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&[("pool", "1")]);
    assert_eq!(s.pool.max_messages, 0);
    send_all_once(&srv, &s, 150);
    assert!(srv.messages().iter().all(|m| m.connection() == 1));
    assert_eq!(srv.connections_opened(), 1, "{}", srv.transcript());
}

#[test]
fn a_421_session_limit_is_met_once_then_sessions_end_before_it() {
    // The server answers "421 4.7.0 Too many messages" to the 4th MAIL of a session and closes.
    let _g = serial();
    let srv = FaultServer::start(&["--max-messages", "3"]);
    let s = srv.settings(&pooled());
    let before = pool::stats();
    send_all_once(&srv, &s, 11);
    let t = srv.transcript();
    // The first session met the limit (one safe retry on a new connection); no later one did.
    assert_eq!(t.matches(" S: 421").count(), 1, "{t}");
    let conns: Vec<i64> = srv.messages().iter().map(|m| m.connection()).collect();
    assert_eq!(conns, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4], "{t}");
    // Sessions 2 and 3 ended with our QUIT after their third message.
    let t = srv.transcript_with("3 C: QUIT");
    for c in [2, 3] {
        assert!(t.contains(&format!("{c} C: QUIT")), "session {c}:\n{t}");
    }
    let d = delta(before);
    assert_eq!(
        (d.connections_opened, d.retries, d.messages_sent, d.failures),
        (4, 1, 11, 0),
        "{d:?}"
    );
}

#[test]
fn a_silent_close_after_n_messages_is_learnt_too() {
    // The server closes without a word right after a session's 3rd message.
    let _g = serial();
    let srv = FaultServer::start(&["--close-after", "3"]);
    let s = srv.settings(&pooled());
    let before = pool::stats();
    send_all_once(&srv, &s, 10);
    let conns: Vec<i64> = srv.messages().iter().map(|m| m.connection()).collect();
    assert_eq!(conns, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
    // After the first session, we end each session ourselves: QUIT after its third message
    // (the server may have closed first; the QUIT is then logged or lost, so look at the
    // client's own count: no session after the first was found dead on reuse).
    let d = delta(before);
    assert_eq!((d.messages_sent, d.failures), (10, 0), "{d:?}");
    assert!(d.retries <= 1, "{d:?}");
}
