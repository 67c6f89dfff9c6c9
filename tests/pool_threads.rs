//! The pool under thread-safe PHP (`pool::per_thread(true)`, set at module startup under ZTS):
//! each thread its own connections and counters, nothing shared between threads, idle
//! connections closed on time while their thread sends nothing, and a thread's connections
//! closed when it ends. A file of its own: the mode is process-wide, and tests/pool.rs checks
//! the one-pool-per-process mode of non-thread-safe PHP.
//!
//! The embedded-PHP version of this (8 PHP threads in worker mode) is tests/zts/run.sh.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use smtp::pool;

const THREADS: usize = 4;
const MAILS: usize = 3;

fn thread_mail(t: usize, n: usize) -> smtp::message::Prepared {
    message(
        &format!("t{t}@example.test"),
        &format!("thread {t} mail {n}"),
        b"body\n",
        &format!("<t{t}.m{n}.{}@test.example>", std::process::id()),
    )
}

/// For each connection of the transcript, the recipients its MAIL transactions named.
fn recipients_by_connection(srv: &FaultServer) -> BTreeMap<u32, BTreeSet<String>> {
    let mut by: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for line in srv.transcript().lines() {
        let Some((conn, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(conn) = conn.parse::<u32>() else {
            continue;
        };
        if let Some(to) = rest.strip_prefix("C: RCPT TO:") {
            by.entry(conn).or_default().insert(to.to_string());
        }
    }
    by
}

#[test]
fn each_thread_its_own_connection_and_counters() {
    pool::per_thread(true);
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&[
        ("pool", "1"),
        ("pool_idle_timeout", "1"),
        ("pool_max_messages", "100"),
    ]);
    // All threads send at once (the barrier), each several mails, then waits past the idle
    // limit without sending: its connection must be closed by then, not at its next send.
    let barrier = std::sync::Barrier::new(THREADS);
    let stats = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (s, barrier, srv) = (&s, &barrier, &srv);
                scope.spawn(move || {
                    barrier.wait();
                    for n in 0..MAILS {
                        pool::send(s, &thread_mail(t, n)).expect("sent");
                    }
                    let after_sends = pool::stats();
                    // Idle inside the thread: the server sees this thread's connection close.
                    let rcpt = format!("<t{t}@example.test>");
                    wait_until(Duration::from_secs(20), || {
                        let by = recipients_by_connection(srv);
                        let conn = by.iter().find(|(_, r)| r.contains(&rcpt))?.0;
                        srv.transcript_of(*conn)
                            .iter()
                            .any(|l| l == "CLOSE")
                            .then_some(())
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "thread {t}'s idle connection was never closed\n{}",
                            srv.transcript()
                        )
                    });
                    // The next send opens a new connection: the old one is gone.
                    pool::send(s, &thread_mail(t, MAILS)).expect("sent after idling");
                    (after_sends, pool::stats())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect::<Vec<_>>()
    });
    for (t, (after_sends, end)) in stats.iter().enumerate() {
        assert_eq!(
            (
                after_sends.connections_opened,
                after_sends.connections_reused
            ),
            (1, MAILS as u64 - 1),
            "thread {t}: its own counters, one connection for its sends"
        );
        assert_eq!(after_sends.messages_sent, MAILS as u64, "thread {t}");
        assert_eq!(
            (end.connections_opened, end.messages_sent),
            (2, MAILS as u64 + 1),
            "thread {t}: a new connection after the idle one was closed"
        );
    }
    // Every mail exactly once; every connection carried one thread's mails only.
    let got = srv.wait_messages(THREADS * (MAILS + 1));
    let mut ids: Vec<String> = got.iter().filter_map(|m| m.message_id()).collect();
    ids.sort();
    let mut want: Vec<String> = (0..THREADS)
        .flat_map(|t| {
            (0..=MAILS).map(move |n| format!("<t{t}.m{n}.{}@test.example>", std::process::id()))
        })
        .collect();
    want.sort();
    assert_eq!(ids, want);
    let by = recipients_by_connection(&srv);
    assert_eq!(by.len(), THREADS * 2, "{}", srv.transcript());
    for (conn, rcpts) in &by {
        assert_eq!(
            rcpts.len(),
            1,
            "connection {conn} shared by threads: {rcpts:?}"
        );
    }
    // The threads have ended: their second connections were closed with them (QUIT).
    srv.wait_transcript("every connection closed", |t| {
        t.lines().filter(|l| l.ends_with(" CLOSE")).count() == THREADS * 2
    });
    assert_eq!(srv.commands("QUIT"), THREADS, "{}", srv.transcript());

    // A new thread gets a pool handed back by an ended one: empty, its counters at zero.
    let fresh = std::thread::spawn(pool::stats).join().expect("thread");
    assert_eq!(fresh, pool::Stats::default());
}

#[test]
fn forks_beside_sending_threads_leave_every_pool_intact() {
    // Several threads send on their own kept connections while this thread forks: each child
    // finds its pool fresh and shuts every pool down without touching the parent's connections
    // (no QUIT from a child), nobody hangs on a lock held at the fork, and every thread goes on
    // on the connection it had, to its end (when its QUIT is the only one).
    pool::per_thread(true);
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&[("pool", "1"), ("pool_idle_timeout", "60")]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let barrier = std::sync::Barrier::new(THREADS + 1);
    let (sent, hung, stale) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (s, stop, barrier) = (&s, &stop, &barrier);
                scope.spawn(move || {
                    let mut n = 0;
                    pool::send(s, &thread_mail(100 + t, n)).expect("sent");
                    barrier.wait();
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        n += 1;
                        pool::send(s, &thread_mail(100 + t, n)).expect("sent beside forks");
                    }
                    // One more after the last fork: on the same connection, if no child
                    // closed it.
                    n += 1;
                    pool::send(s, &thread_mail(100 + t, n)).expect("sent after the forks");
                    (n + 1, pool::stats())
                })
            })
            .collect();
        barrier.wait();
        let (mut hung, mut stale) = (0, 0);
        for _ in 0..50 {
            match fork_pool_child() {
                ForkedChild::Fresh => {}
                ForkedChild::Stale => stale += 1,
                ForkedChild::Hung => hung += 1,
            }
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let sent: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        (sent, hung, stale)
    });
    assert_eq!((hung, stale), (0, 0), "children hung / found a stale pool");
    for (t, (n, st)) in sent.iter().enumerate() {
        assert_eq!(
            (st.connections_opened, st.messages_sent),
            (1, *n as u64),
            "thread {t} kept its one connection through the forks"
        );
    }
    let total: usize = sent.iter().map(|(n, _)| n).sum();
    srv.wait_messages(total);
    assert_eq!(srv.connections_opened(), THREADS, "{}", srv.transcript());
    // The only QUITs: each thread's as it ended.
    srv.wait_transcript("the threads' QUITs", |t| {
        t.matches("C: QUIT").count() >= THREADS
    });
    assert_eq!(srv.commands("QUIT"), THREADS, "{}", srv.transcript());
}
