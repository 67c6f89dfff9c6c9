//! Several servers (failover), servers that limit connections, and smtp.max_connections.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use smtp::error::{Error, Stage};
use smtp::pool;

fn with_hosts(hosts: &str, extra: &[(&str, &str)]) -> smtp::config::Settings {
    let mut ini = vec![("host", hosts), ("port", "")];
    ini.extend_from_slice(extra);
    settings(0, &ini)
}

/// Holds one connection to `port` open (greeted), as another client would.
#[test]
fn a_server_that_is_down_passes_the_message_to_the_next() {
    let down = free_port();
    let srv = FaultServer::start(&[]);
    let s = with_hosts(&format!("127.0.0.1:{down}, 127.0.0.1:{}", srv.port), &[]);
    assert_eq!(s.servers.len(), 2);
    pool::send(&s, &simple("a@example.test", 1)).expect("sent by the second server");
    assert_eq!(srv.wait_messages(1).len(), 1);
    // pool::last_server() is the process's: the other tests of this file send at the same
    // time, so which server it names here is a race (php-tests/pool_reuse.phpt checks it).
}

#[test]
fn a_421_greeting_passes_the_message_to_the_next() {
    let busy = FaultServer::start(&["--reply", "GREETING=421 4.3.2 Service not available"]);
    let srv = FaultServer::start(&[]);
    let s = with_hosts(
        &format!("127.0.0.1:{}, 127.0.0.1:{}", busy.port, srv.port),
        &[],
    );
    pool::send(&s, &simple("a@example.test", 1)).expect("sent by the second server");
    assert_eq!(srv.wait_messages(1).len(), 1);
    assert!(busy.received().is_empty());
}

#[test]
fn never_to_the_next_server_for_a_refusal_of_the_message() {
    let refusing = FaultServer::start(&["--reply", "MAIL=550 5.7.1 not this sender"]);
    let srv = FaultServer::start(&[]);
    let s = with_hosts(
        &format!("127.0.0.1:{}, 127.0.0.1:{}", refusing.port, srv.port),
        &[],
    );
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert_eq!(e.smtp_code(), 550);
    sleep(Duration::from_millis(200));
    assert_eq!(srv.connections_opened(), 0, "asked the second server");
}

#[test]
fn nor_after_the_message_went_out() {
    let silent = FaultServer::start(&["--action", "DOT=silent"]);
    let srv = FaultServer::start(&[]);
    let s = with_hosts(
        &format!("127.0.0.1:{}, 127.0.0.1:{}", silent.port, srv.port),
        &[("timeout", "0.5"), ("max_time", "1")],
    );
    let e = pool::send(&s, &simple("a@example.test", 1)).unwrap_err();
    assert!(matches!(e, Error::Unknown { .. }), "{e:?}");
    sleep(Duration::from_millis(200));
    assert_eq!(srv.connections_opened(), 0);
}

#[test]
fn too_many_connections_waits_and_tries_again() {
    // The server takes one connection at a time; someone else holds it for 0.4 s.
    let srv = FaultServer::start(&["--max-connections", "1"]);
    let held = hold_connection(srv.port);
    let releaser = std::thread::spawn(move || {
        sleep(Duration::from_millis(400));
        drop(held);
    });
    let started = Instant::now();
    pool::send(
        &srv.settings(&[("max_time", "5")]),
        &simple("a@example.test", 1),
    )
    .expect("sent once the other connection closed");
    releaser.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert_eq!(srv.wait_messages(1).len(), 1);
    assert!(srv.transcript().contains("too many connections"));
}

#[test]
fn too_many_connections_for_longer_than_max_time_names_the_limit() {
    let srv = FaultServer::start(&["--max-connections", "1"]);
    let _held = hold_connection(srv.port);
    let (e, _) = send_fails(
        &srv.settings(&[("max_time", "1")]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    match &e {
        Error::ConnectionLimit { tries, reply, .. } => {
            assert!(*tries >= 3, "{tries} tries");
            assert_eq!(reply.code, 421);
        }
        other => panic!("expected ConnectionLimit, got {other:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("refuses more connections from this machine"),
        "{text}"
    );
    assert!(text.contains("smtp.max_connections"), "{text}");
    assert!(
        text.contains("too many connections from 127.0.0.1"),
        "{text}"
    );
    assert_eq!(e.stage(), Some(Stage::Greeting));
}

/// Refuses the first two connections for too many connections, then accepts and never greets.
const LIMIT_THEN_SILENT: &str = r#"
import socket, threading
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print("READY %d" % ls.getsockname()[1], flush=True)
held = []
n = 0
while True:
    c, _ = ls.accept()
    n += 1
    if n <= 2:
        c.sendall(b"421 4.7.0 mx.test Error: too many connections from 127.0.0.1\r\n")
        c.close()
    else:
        held.append(c)
"#;

#[test]
fn max_time_running_out_while_waiting_out_a_limit_names_the_limit() {
    // The last try is cut short by max_time (here at the greeting): what the call was waiting
    // out is the server's connection limit, and that is what the error says, not "no answer".
    let srv = PyScript::start(LIMIT_THEN_SILENT, &[]);
    let (e, _) = send_fails(
        &srv.settings(&[("max_time", "1"), ("timeout", "5")]),
        &simple("a@example.test", 1),
        Duration::from_secs(1),
    );
    match &e {
        Error::ConnectionLimit { tries, reply, .. } => {
            assert_eq!(*tries, 2);
            assert_eq!(reply.code, 421);
        }
        other => panic!("expected ConnectionLimit, got {other:?}: {other}"),
    }
    assert!(
        e.to_string()
            .contains("too many connections from 127.0.0.1"),
        "{e}"
    );
}

#[test]
fn max_connections_waits_for_a_slot_and_gives_up_after_timeout() {
    use smtp::slots;
    let srv = FaultServer::start(&[]);
    let s = srv.settings(&[("max_connections", "1"), ("timeout", "0.5")]);
    let budget = smtp::transport::Budget::new(Duration::from_secs(5), None);
    let held = slots::acquire(&s, 1, &budget)
        .expect("the only slot")
        .expect("a usable slot directory");
    let (e, _) = send_fails(&s, &simple("a@example.test", 1), Duration::from_secs(1));
    assert!(matches!(e, Error::SlotsBusy { max: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("smtp.max_connections"), "{e}");
    assert_eq!(srv.connections_opened(), 0);
    drop(held);
    pool::send(&s, &simple("a@example.test", 2)).expect("slot free again");
    assert_eq!(srv.wait_messages(1).len(), 1);
}

#[test]
fn a_host_list_is_parsed_with_ports_and_prefixes() {
    let s = with_hosts(
        "ssl://a.example.org, b.example.org:2525, [::1]:26, tls://c.example.org",
        &[("port", "587")],
    );
    let got: Vec<(String, u16, bool)> = s
        .servers
        .iter()
        .map(|x| (x.host.clone(), x.port, x.implicit_tls))
        .collect();
    assert_eq!(
        got,
        [
            ("a.example.org".to_string(), 587, true),
            ("b.example.org".to_string(), 2525, false),
            ("[::1]".to_string(), 26, false),
            ("c.example.org".to_string(), 587, true),
        ]
    );
    assert_eq!(s.host, "a.example.org");
}

/// Settings for account `n` of a pooled server (accounts are pool keys: one kept connection
/// each).
fn account(port: u16, n: usize, extra: &[(&str, &str)]) -> smtp::config::Settings {
    let user = format!("user{n}");
    let mut ini = vec![("pool", "1"), ("username", user.as_str())];
    ini.extend_from_slice(extra);
    settings(port, &ini)
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Run by `three_hundred_accounts_under_256_descriptors` in a process of its own, under
/// RLIMIT_NOFILE=256.
#[test]
#[ignore = "run by three_hundred_accounts_under_256_descriptors under prlimit"]
fn three_hundred_accounts_child() {
    let port: u16 = std::env::var("SMTP_TEST_PORT").unwrap().parse().unwrap();
    let base = open_descriptors();
    let mut most = base;
    for n in 1..=300 {
        pool::send(&account(port, n, &[]), &simple("a@example.test", n))
            .unwrap_or_else(|e| panic!("account {n}: {e}"));
        most = most.max(open_descriptors());
    }
    // The kept connections (smtp.pool_size, 8) and a few of the runtime's own.
    assert!(
        most <= base + 8 + 4,
        "{most} descriptors open, {base} at the start"
    );
    // PHP's own files still open.
    let f = std::fs::File::open("/proc/self/status").expect("a file can still be opened");
    drop(f);
    println!("DESCRIPTORS base={base} most={most}");
}

#[test]
fn three_hundred_accounts_under_256_descriptors() {
    // On main each account kept its connection forever: send 252 failed with "Too many open
    // files". The pool keeps smtp.pool_size of them and QUITs the least recently used.
    let srv = FaultServer::start(&[]);
    let out = std::process::Command::new("prlimit")
        .arg("--nofile=256:256")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "three_hundred_accounts_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("SMTP_TEST_PORT", srv.port.to_string())
        .output()
        .expect("prlimit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    let figures = text.lines().find(|l| l.contains("DESCRIPTORS"));
    println!("{}", figures.unwrap_or_default());
    assert_eq!(srv.wait_messages(300).len(), 300);
    // The evicted connections said goodbye.
    assert!(srv.commands("QUIT") >= 300 - 8, "{}", srv.commands("QUIT"));
}

#[test]
fn a_server_at_its_connection_limit_gets_our_idle_connections_back() {
    // Postfix's default smtpd_client_connection_count_limit: 50 from one client. This process
    // keeps 50 idle connections (one per account) to it; accounts 51 and 52 need one more.
    // On main each of them failed after waiting out smtp.max_time ("refuses more connections").
    let srv = FaultServer::start(&["--max-connections", "50"]);
    let extra = [("pool_size", "64"), ("max_time", "5")];
    for n in 1..=50 {
        pool::send(&account(srv.port, n, &extra), &simple("a@example.test", n))
            .unwrap_or_else(|e| panic!("account {n}: {e}"));
    }
    for n in 51..=52 {
        let started = Instant::now();
        pool::send(&account(srv.port, n, &extra), &simple("a@example.test", n))
            .unwrap_or_else(|e| panic!("account {n}: {e}"));
        // Not the 5 s of back-off until max_time: a generous bound.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "account {n} took {took:?}");
    }
    assert_eq!(srv.wait_messages(52).len(), 52);
    let t = srv.transcript();
    assert!(
        t.contains("too many connections"),
        "the limit was never reached"
    );
    assert!(srv.commands("QUIT") >= 1, "no idle connection was closed");
    let peak: usize = std::fs::read_to_string(srv.record_dir().join("peak"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(peak <= 50, "peak {peak}");
    pool::shutdown();
}
