//! Delivery: what three real SMTP servers receive, byte for byte, and the envelope around it.

mod common;

use common::*;
use smtp::pool;
use smtp::transport::txn::dot_stuff;

const TO: &str = "Alice <alice@example.test>, bob@example.test";

fn tricky(id: &str) -> smtp::message::Prepared {
    message(TO, "Byte for byte", TRICKY_BODY, id)
}

#[test]
fn fault_server_receives_the_exact_bytes_and_envelope() {
    let srv = FaultServer::start(&[]);
    let msg = tricky("<exact.1@test.example>");
    pool::send(&srv.settings(&[]), &msg).expect("send");

    let got = srv.wait_messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        String::from_utf8_lossy(&m.eml),
        String::from_utf8_lossy(&msg.data),
        "received bytes differ"
    );
    assert_eq!(m.eml, msg.data);
    assert_eq!(m.mail_from(), FROM);
    assert_eq!(m.rcpt_to(), ["alice@example.test", "bob@example.test"]);
    assert_eq!(m.helo().as_deref(), Some(CLIENT_NAME));
    assert!(!m.tls());
    assert_eq!(m.auth_user(), None);
    assert_eq!(m.message_id().as_deref(), Some("<exact.1@test.example>"));
    // The message as built: CRLF everywhere, no bare CR or LF left.
    let data = &msg.data;
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(data[i - 1], b'\r', "bare LF at {i}");
        }
        if b == b'\r' {
            assert_eq!(data.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
    }
    assert!(data.ends_with(b"no final newline\r\n"));
}

#[test]
fn dot_stuffing_on_the_wire() {
    let srv = FaultServer::start(&[]);
    let msg = tricky("<dots.1@test.example>");
    pool::send(&srv.settings(&[]), &msg).expect("send");
    let m = &srv.wait_messages(1)[0];
    let raw = m.raw();
    let text = String::from_utf8_lossy(&raw);
    // Every line that starts with a dot got one more; the data ends with the lone dot.
    assert!(text.contains("\r\n..starts with a dot\r\n"), "{text}");
    assert!(text.contains("\r\n...two dots\r\n"), "{text}");
    assert!(text.contains("\r\n..\r\n"), "{text}");
    assert!(text.contains("\r\n.. dot space\r\n"), "{text}");
    assert!(text.ends_with("no final newline\r\n.\r\n"), "{text}");
    assert_eq!(raw, dot_stuff(&msg.data));
    // And the server, undoing it, has the original.
    assert_eq!(m.eml, msg.data);
    // Only the final line is a lone dot.
    assert_eq!(text.matches("\r\n.\r\n").count(), 1);
}

#[test]
fn pipelining_on_and_off_deliver_identical_bytes() {
    let with = FaultServer::start(&[]);
    let without = FaultServer::start(&["--no-pipelining"]);
    // Built separately: fixed Date and Message-ID make the two builds equal.
    let a = tricky("<same.1@test.example>");
    let b = tricky("<same.1@test.example>");
    assert_eq!(a.data, b.data);
    pool::send(&with.settings(&[]), &a).expect("send (pipelining)");
    pool::send(&without.settings(&[]), &b).expect("send (no pipelining)");
    let (ma, mb) = (&with.wait_messages(1)[0], &without.wait_messages(1)[0]);
    assert_eq!(ma.eml, mb.eml);
    assert_eq!(ma.raw(), mb.raw());
    assert_eq!(ma.eml, a.data);
    assert_eq!(ma.rcpt_to(), mb.rcpt_to());
    assert_eq!(ma.mail_params(), mb.mail_params());
    // Same commands in the same order on both (once each connection is over).
    let commands = |s: &FaultServer| -> Vec<String> {
        s.transcript_with("1 CLOSE");
        s.transcript_of(1)
            .into_iter()
            .filter(|l| l.starts_with("C: "))
            .collect()
    };
    assert_eq!(commands(&with), commands(&without));
}

#[test]
fn without_pipelining_nothing_is_sent_after_a_refused_mail_from() {
    // With PIPELINING the client sends MAIL, RCPT and DATA in one go; without it, it waits for
    // each reply and stops at the first refusal.
    let reply = "MAIL=550 5.7.1 sender not allowed";
    let with = FaultServer::start(&["--reply", reply]);
    let without = FaultServer::start(&["--no-pipelining", "--reply", reply]);
    let msg = simple("carol@example.test", 1);
    for srv in [&with, &without] {
        let e = pool::send(&srv.settings(&[]), &msg).unwrap_err();
        assert_eq!(e.smtp_code(), 550, "{e}");
    }
    let t_with = with.transcript();
    let t_without = without.transcript();
    assert!(
        t_with.contains("C: RCPT TO:<carol@example.test>"),
        "{t_with}"
    );
    assert!(t_with.contains("C: DATA"), "{t_with}");
    assert!(!t_without.contains("C: RCPT"), "{t_without}");
    assert!(!t_without.contains("C: DATA"), "{t_without}");
    assert!(with.messages().is_empty() && without.messages().is_empty());
}

#[test]
fn helo_fallback_when_ehlo_is_refused() {
    let srv = FaultServer::start(&["--no-ehlo"]);
    let msg = tricky("<helo.1@test.example>");
    pool::send(&srv.settings(&[]), &msg).expect("send over HELO");
    let m = &srv.wait_messages(1)[0];
    // No 8BITMIME after HELO: the 8-bit body goes as quoted-printable.
    assert_eq!(m.eml, msg.seven_bit().unwrap().data);
    assert_eq!(m.helo().as_deref(), Some(CLIENT_NAME));
    // After HELO there are no extensions: no BODY= even for an 8-bit message.
    assert!(msg.eight_bit);
    assert!(m.mail_params().is_empty(), "{:?}", m.mail_params());
    let t = srv.transcript_of(1);
    let ehlo = t
        .iter()
        .position(|l| l == &format!("C: EHLO {CLIENT_NAME}"));
    let helo = t
        .iter()
        .position(|l| l == &format!("C: HELO {CLIENT_NAME}"));
    assert!(ehlo.is_some() && helo.is_some() && ehlo < helo, "{t:#?}");
    assert!(t.iter().any(|l| l.starts_with("S: 502")), "{t:#?}");
}

#[test]
fn body_8bitmime_only_when_offered_and_only_for_8bit_messages() {
    let offered = FaultServer::start(&[]);
    let not_offered = FaultServer::start(&["--no-8bitmime"]);
    let eight = tricky("<8bit.1@test.example>");
    let ascii = simple("dave@example.test", 2);
    assert!(eight.eight_bit && !ascii.eight_bit);

    for msg in [&eight, &ascii] {
        pool::send(&offered.settings(&[]), msg).expect("send");
        pool::send(&not_offered.settings(&[]), msg).expect("send");
    }
    let a = offered.wait_messages(2);
    let b = not_offered.wait_messages(2);
    assert_eq!(a[0].mail_params(), ["BODY=8BITMIME"]);
    assert!(a[1].mail_params().is_empty(), "{:?}", a[1].mail_params());
    assert!(b[0].mail_params().is_empty(), "{:?}", b[0].mail_params());
    assert!(b[1].mail_params().is_empty(), "{:?}", b[1].mail_params());
    assert!(offered
        .transcript()
        .contains(&format!("C: MAIL FROM:<{FROM}> BODY=8BITMIME")));
    // As built for a server with 8BITMIME; as quoted-printable for one without (as Postfix
    // converts it).
    assert_eq!(a[0].eml, eight.data);
    assert_eq!(b[0].eml, eight.seven_bit().unwrap().data);
    assert!(b[0].eml.is_ascii());
    assert_eq!(a[1].eml, ascii.data);
}

#[test]
fn too_many_recipients_452_are_sent_in_further_transactions() {
    for flags in [&[][..], &["--no-pipelining"][..]] {
        let mut args = vec!["--rcpt-limit", "2"];
        args.extend_from_slice(flags);
        let srv = FaultServer::start(&args);
        let rcpts: Vec<String> = (1..=5).map(|i| format!("r{i}@example.test")).collect();
        let msg = message(
            &rcpts.join(", "),
            "many",
            b"to five\n",
            "<many.1@test.example>",
        );
        pool::send(&srv.settings(&[]), &msg).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let got = srv.wait_messages(3);
        assert_eq!(got.len(), 3, "{flags:?}: three transactions");
        let per: Vec<Vec<String>> = got.iter().map(|m| m.rcpt_to()).collect();
        assert_eq!(
            per,
            [
                vec!["r1@example.test", "r2@example.test"],
                vec!["r3@example.test", "r4@example.test"],
                vec!["r5@example.test"],
            ],
            "{flags:?}"
        );
        // Each recipient exactly once, every copy the same message, all on one connection.
        let mut all: Vec<String> = per.concat();
        all.sort();
        assert_eq!(all, rcpts);
        for m in &got {
            assert_eq!(m.eml, msg.data);
            assert_eq!(m.connection(), 1);
        }
        assert_eq!(srv.connections_opened(), 1);
        // Pipelined, the first window holds all five (three get 452); one by one, the first
        // 452 stops the list. Later transactions send only as many as the server took.
        let pipelined = flags.is_empty();
        assert_eq!(
            srv.transcript().matches("S: 452 4.5.3").count(),
            if pipelined { 3 } else { 1 },
            "{flags:?}"
        );
        assert_eq!(
            srv.commands("RCPT"),
            if pipelined { 5 + 2 + 1 } else { 3 + 2 + 1 },
            "{flags:?}"
        );
    }
}

#[test]
fn large_message_byte_for_byte() {
    // 3 MB in lines of 76 characters, some starting with a dot: many writes, one deadline.
    let mut body = Vec::new();
    let mut i = 0u32;
    while body.len() < 3 * 1024 * 1024 {
        let lead = if i.is_multiple_of(7) { "." } else { "" };
        body.extend_from_slice(format!("{lead}{i:08} {}\r\n", "x".repeat(66)).as_bytes());
        i += 1;
    }
    let srv = FaultServer::start(&[]);
    let msg = message("big@example.test", "large", &body, "<large.1@test.example>");
    pool::send(&srv.settings(&[]), &msg).expect("send 3 MB");
    let m = &srv.wait_messages(1)[0];
    assert_eq!(m.eml.len(), msg.data.len());
    assert!(m.eml == msg.data, "large message differs");
    assert_eq!(m.raw(), dot_stuff(&msg.data));
}

#[test]
fn smtp_sink_receives_the_exact_bytes() {
    let sink = SmtpSink::start();
    let msg = tricky("<sink.1@test.example>");
    pool::send(&sink.settings(&[]), &msg).expect("send to smtp-sink");
    let got = sink.wait_messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    // smtp-sink writes LF line ends; otherwise the bytes must be ours.
    assert_eq!(
        String::from_utf8_lossy(&m.content),
        String::from_utf8_lossy(&crlf_to_lf(&msg.data))
    );
    assert_eq!(m.helo.as_deref(), Some(CLIENT_NAME));
    // smtp-sink offers 8BITMIME.
    assert_eq!(m.mail_args, format!("<{FROM}> BODY=8BITMIME"));
    assert_eq!(m.rcpt_args, ["<alice@example.test>", "<bob@example.test>"]);
}

#[test]
fn aiosmtpd_receives_the_exact_bytes() {
    let aio = AioSink::start();
    let msg = tricky("<aio.1@test.example>");
    pool::send(&aio.settings(&[]), &msg).expect("send to aiosmtpd");
    let got = aio.wait_messages(1);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(
        String::from_utf8_lossy(&m.content),
        String::from_utf8_lossy(&msg.data)
    );
    assert_eq!(m.content, msg.data);
    assert_eq!(m.helo, CLIENT_NAME);
    assert_eq!(m.mail_from, FROM);
    assert_eq!(m.mail_options, ["BODY=8BITMIME"]);
    assert_eq!(m.rcpts, ["alice@example.test", "bob@example.test"]);
}

#[test]
fn three_servers_receive_the_same_message() {
    let fault = FaultServer::start(&[]);
    let sink = SmtpSink::start();
    let aio = AioSink::start();
    let msg = tricky("<three.1@test.example>");
    pool::send(&fault.settings(&[]), &msg).expect("fault server");
    pool::send(&sink.settings(&[]), &msg).expect("smtp-sink");
    pool::send(&aio.settings(&[]), &msg).expect("aiosmtpd");
    let f = fault.wait_messages(1).remove(0).eml;
    let s = sink.wait_messages(1).remove(0).content;
    let a = aio.wait_messages(1).remove(0).content;
    assert_eq!(f, a);
    assert_eq!(crlf_to_lf(&f), s);
}
