//! The private Postfix instance (tests/common/postfix.rs, tests/servers/postfix.py) works on
//! its own: plain SMTP by hand to its plain port, then the Maildir file and the wire log.
//! No part of the extension is used here.

#[path = "common/postfix.rs"]
mod postfix;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use postfix::{Postfix, PostfixOpts};

/// Sends `line` (unless empty) and reads one reply; returns its last line.
fn say(w: &mut TcpStream, r: &mut BufReader<TcpStream>, line: &[u8]) -> String {
    if !line.is_empty() {
        w.write_all(line).unwrap();
    }
    loop {
        let mut reply = String::new();
        r.read_line(&mut reply).expect("read reply");
        assert!(reply.len() >= 4, "short reply {reply:?}");
        if reply.as_bytes()[3] != b'-' {
            return reply.trim_end().to_string();
        }
    }
}

#[test]
fn plain_port_delivers_a_message_into_a_maildir() {
    if let Some(why) = postfix::unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let pf = Postfix::start(PostfixOpts {
        mailboxes: vec!["rcpt1@example.test".into()],
        ..Default::default()
    });

    let stream = TcpStream::connect(("127.0.0.1", pf.plain)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let message: &[u8] = b"From: Wiki <wiki@example.test>\r\n\
To: rcpt1@example.test\r\n\
Subject: smoke\r\n\
\r\n\
First line.\r\n\
.A line that starts with a dot.\r\n\
\r\n\
Last line.\r\n";
    let mut data = Vec::new();
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            data.push(b'.');
        }
        data.extend_from_slice(line);
    }
    data.extend_from_slice(b".\r\n");

    assert!(say(&mut w, &mut r, b"").starts_with("220 "));
    assert!(say(&mut w, &mut r, b"EHLO client.test\r\n").starts_with("250 "));
    assert_eq!(
        say(&mut w, &mut r, b"MAIL FROM:<wiki@example.test>\r\n"),
        "250 2.1.0 Ok"
    );
    for rcpt in ["rcpt1@example.test", "Other@Example.Test"] {
        let reply = say(&mut w, &mut r, format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
        assert_eq!(reply, "250 2.1.5 Ok");
    }
    assert!(say(&mut w, &mut r, b"DATA\r\n").starts_with("354 "));
    let queued = say(&mut w, &mut r, &data);
    assert!(queued.starts_with("250 2.0.0 Ok: queued as "), "{queued}");
    assert_eq!(say(&mut w, &mut r, b"QUIT\r\n"), "221 2.0.0 Bye");

    // One file per recipient: the named mailbox, and the catch-all for the other one.
    let got = pf.wait_delivered(2);
    assert_eq!(got.len(), 2, "{got:?}");
    let lf: Vec<u8> = String::from_utf8(message.to_vec())
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let mut seen: Vec<(&str, &str)> = got
        .iter()
        .map(|d| (d.mailbox.as_str(), d.recipient.as_str()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("example.test/_catchall", "Other@Example.Test"),
            ("example.test/rcpt1", "rcpt1@example.test"),
        ]
    );
    for d in &got {
        assert_eq!(d.return_path, "wiki@example.test");
        assert_eq!(
            String::from_utf8_lossy(d.message()),
            String::from_utf8_lossy(&lf),
            "delivered message differs ({})",
            d.path.display()
        );
        let headers = String::from_utf8_lossy(d.postfix_headers()).into_owned();
        assert!(
            headers.starts_with("Return-Path: <wiki@example.test>\n")
                && headers.contains("\nReceived: from client.test (localhost [127.0.0.1])\n"),
            "{headers}"
        );
    }

    assert_eq!(
        pf.client_commands(1),
        [
            "EHLO client.test",
            "MAIL FROM:<wiki@example.test>",
            "RCPT TO:<rcpt1@example.test>",
            "RCPT TO:<Other@Example.Test>",
            "DATA",
            "QUIT",
        ]
    );
    let conn = pf.wait_connection(1);
    assert_eq!(conn.service, "plain");
    assert_eq!(
        conn.summary.as_deref(),
        Some("ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6")
    );
}

#[test]
fn postfix_helper_parses_the_wire_log() {
    let log = "\
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: connect from localhost[127.0.0.1]
Dec  2 01:15:23 localhost postfix-x/submission/smtpd[26700]: connect from localhost[127.0.0.1]
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: < localhost[127.0.0.1]: EHLO a
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: > localhost[127.0.0.1]: 250-localhost
Dec  2 01:15:23 localhost postfix-x/submission/smtpd[26700]: < localhost[127.0.0.1]: EHLO b
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: match_list_match: x ~? y
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: < localhost[127.0.0.1]: BDAT 12 LAST
Dec  2 01:15:23 localhost postfix-x/plain/smtpd[26619]: disconnect from localhost[127.0.0.1] ehlo=1 bdat=1 commands=2
Dec  2 01:15:24 localhost postfix-x/plain/smtpd[26619]: connect from localhost[127.0.0.1]
Dec  2 01:15:24 localhost postfix-x/plain/smtpd[26619]: < localhost[127.0.0.1]: QUIT
";
    let c = postfix::parse_connections(log);
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].service, "plain");
    assert_eq!(c[0].commands, ["EHLO a", "BDAT 12 LAST"]);
    assert_eq!(c[0].replies, ["250-localhost"]);
    assert_eq!(c[0].summary.as_deref(), Some("ehlo=1 bdat=1 commands=2"));
    assert_eq!(c[1].service, "submission");
    assert_eq!(c[1].commands, ["EHLO b"]);
    assert_eq!(c[1].summary, None);
    assert_eq!(c[2].commands, ["QUIT"]);
}

#[test]
fn postfix_helper_splits_postfix_headers_from_the_message() {
    let file = b"Return-Path: <wiki@example.test>\nX-Original-To: A@example.test\n\
Delivered-To: A@example.test\nReceived: from client.test (localhost [127.0.0.1])\n\
\tby localhost (Postfix) with ESMTP id 25A3C98C0C3;\n\tWed,  2 Dec 2026 01:15:23 +0000 (UTC)\n\
Received: from elsewhere\nSubject: hi\n\nbody\n";
    let d = postfix::Delivered::parse(
        std::path::PathBuf::from("x"),
        "example.test/a".into(),
        file.to_vec(),
    );
    assert_eq!(d.return_path, "wiki@example.test");
    assert_eq!(d.recipient, "A@example.test");
    assert_eq!(
        d.message(),
        b"Received: from elsewhere\nSubject: hi\n\nbody\n"
    );
}
