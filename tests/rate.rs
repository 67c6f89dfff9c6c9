//! smtp.max_rate: one schedule per server and account shared by every process of the machine
//! (processes of this test binary take turns from one file), a process that dies holding the
//! schedule's lock does not stop the others, a turn further away than the call can wait fails
//! before anything is sent, and a send the server never saw gives its turn back.

mod common;

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use smtp::error::{Error, Outcome};
use smtp::pool::rate::{self, Refused, Schedule};

/// Set in a child process of this binary: what it is to do.
const ROLE: &str = "SMTP_RATE_TEST_ROLE";
const DIR: &str = "SMTP_RATE_TEST_DIR";

/// Runs this binary's test `name` in a child process with the role `role`.
fn child(name: &str, role: &str, dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(DIR, dir);
    cmd
}

const EVERY: Duration = Duration::from_millis(20);

/// In a child: books 10 turns of the shared schedule as fast as it can, printing each.
#[test]
fn child_books_turns() {
    if std::env::var(ROLE).as_deref() != Ok("book") {
        return;
    }
    let schedule = Schedule::at(std::env::var(DIR).unwrap().as_ref(), "shared");
    for _ in 0..10 {
        let b = schedule.book(EVERY, Duration::from_secs(60)).unwrap();
        println!("BOOKED {} {}", b.at, std::process::id());
    }
}

/// In a child: takes the schedule's lock, says so, and holds it until killed.
#[test]
fn child_holds_the_lock() {
    if std::env::var(ROLE).as_deref() != Ok("hold") {
        return;
    }
    let schedule = Schedule::at(std::env::var(DIR).unwrap().as_ref(), "shared");
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(schedule.path())
        .unwrap();
    assert!(smtp::sys::try_flock(&f, true));
    println!("LOCKED");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn processes_share_one_schedule_and_never_book_closer_than_the_spacing() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = TempDir::new("rate-shared");
    let kids: Vec<_> = (0..4)
        .map(|_| {
            child("child_books_turns", "book", dir.path())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut turns: Vec<(u64, u32)> = Vec::new();
    for kid in kids {
        let out = kid.wait_with_output().unwrap();
        assert!(out.status.success());
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(rest) = line.split_once("BOOKED ").map(|(_, r)| r) {
                let (at, pid) = rest.split_once(' ').unwrap();
                turns.push((at.parse().unwrap(), pid.parse().unwrap()));
            }
        }
    }
    assert_eq!(turns.len(), 40, "every child booked its 10 turns");
    turns.sort_unstable();
    let pids: std::collections::HashSet<u32> = turns.iter().map(|t| t.1).collect();
    assert_eq!(pids.len(), 4);
    for pair in turns.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= EVERY.as_nanos() as u64,
            "turns {} ns apart: {pair:?}",
            pair[1].0 - pair[0].0
        );
    }
    // The schedule is one line in one file, whatever the number of processes.
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn a_process_that_dies_holding_the_lock_does_not_stop_the_others() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = TempDir::new("rate-crash");
    let schedule = Schedule::at(dir.path(), "shared");
    let mut holder = child("child_holds_the_lock", "hold", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    // libtest may print the test's name on the same line first.
    assert!(lines.any(|l| l.unwrap().ends_with("LOCKED")));

    // Held by a live process that never lets go (stopped, hung): the schedule is given up
    // after a short wait, as a problem of the schedule (the send goes without the limit).
    let started = Instant::now();
    match schedule.book(EVERY, Duration::from_secs(10)) {
        Err(Refused::Unusable(why)) => assert!(why.contains("stayed locked"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(20), "does not hang");

    // Killed with the lock held: the kernel lets it go, the next process books at once.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let b = schedule.book(EVERY, Duration::ZERO).unwrap();
    let again = schedule.book(EVERY, Duration::from_secs(10)).unwrap();
    assert_eq!(again.at, b.next);
}

#[test]
fn a_turn_the_call_cannot_wait_for_fails_before_sending_and_an_unseen_send_gives_it_back() {
    if std::env::var(ROLE).is_ok() {
        return;
    }
    let dir = TempDir::new("rate-send");
    // The first connection is closed by the server when MAIL FROM comes: the server never
    // saw a message.
    let srv = FaultServer::start(&["--action", "MAIL=close", "--fault-once"]);
    let slot_dir = dir.path().join("slots");
    let s = settings(
        srv.port,
        &[
            ("max_rate", "1/min"),
            ("max_time", "3"),
            ("slot_dir", slot_dir.to_str().unwrap()),
        ],
    );

    let first = smtp::pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert!(matches!(first, Error::Closed { .. }), "{first}");
    // Its turn was given back: the next message goes at once, not a minute later.
    smtp::pool::send(&s, &simple("a@example.test", 2)).unwrap();
    assert_eq!(srv.wait_messages(1).len(), 1);

    // The next turn is a minute away, past the call's 3 s: refused before MAIL FROM.
    let started = Instant::now();
    let e = smtp::pool::send(&s, &simple("a@example.test", 3)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "refused at once"
    );
    assert!(matches!(e, Error::RateBusy { .. }), "{e:?}");
    assert_eq!(e.outcome(), Outcome::NotSent);
    let msg = e.to_string();
    for words in [
        "smtp.max_rate (1/min)",
        "every 61.20 s",
        "127.0.0.1",
        "the message was not sent",
        "Trying again later is safe",
        "raise smtp.max_time",
    ] {
        assert!(msg.contains(words), "{words:?} in {msg}");
    }
    assert_eq!(
        srv.commands("MAIL"),
        2,
        "no MAIL FROM for the refused message"
    );
    assert_eq!(srv.messages().len(), 1);
    // The schedule file is in smtp.slot_dir, the user's own.
    let files: Vec<_> = std::fs::read_dir(&slot_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(files.len() == 1 && files[0].ends_with(".rate"), "{files:?}");
    assert_eq!(
        rate::interval(s.max_rate.unwrap()),
        Duration::from_millis(61_200)
    );
}
