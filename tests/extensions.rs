//! SMTP extensions a message may ask for: DSN (RFC 3461). What goes on the wire (the fault
//! server's record), what a server without the extension gets, and what a real Postfix makes
//! of it (the bounce in the sender's Maildir).

mod common;

use common::postfix::{Postfix, PostfixOpts, USER};
use common::*;
use smtp::error::Error;
use smtp::message::delivery::{Notify, Ret};
use smtp::message::{Draft, Dsn, Header, Prepared};
use smtp::pool;

fn with_dsn(from: &str, to: &str, id: &str, dsn: Dsn) -> Prepared {
    Draft {
        to: to.into(),
        subject: "Password reset".into(),
        body: b"Your reset link: https://wiki.example/reset?t=1\n",
        headers: vec![
            Header::new("From", from),
            Header::new("Date", "Mon, 07 Dec 2026 10:00:00 +0000"),
            Header::new("Message-ID", id),
        ],
        idhost: "test.example".into(),
        dsn,
        ..Default::default()
    }
    .build()
    .unwrap()
}

fn failure_hdrs(envid: &str) -> Dsn {
    Dsn {
        notify: Some(Notify {
            failure: true,
            ..Default::default()
        }),
        ret: Some(Ret::Hdrs),
        envid: Some(envid.into()),
        required: false,
    }
}

#[test]
fn dsn_parameters_on_the_wire_when_offered() {
    let srv = FaultServer::start(&["--dsn"]);
    let msg = with_dsn(
        FROM,
        "a+b@example.test, c@example.test",
        "<dsn.1@test.example>",
        failure_hdrs("reset 42+x=y"),
    );
    pool::send(&srv.settings(&[]), &msg).expect("send");
    let got = srv.wait_messages(1);
    assert_eq!(
        got[0].mail_params(),
        ["RET=HDRS", "ENVID=reset+2042+2Bx+3Dy"]
    );
    assert_eq!(
        got[0].rcpt_params(),
        [
            "NOTIFY=FAILURE ORCPT=rfc822;a+2Bb@example.test",
            "NOTIFY=FAILURE ORCPT=rfc822;c@example.test"
        ]
    );
    assert_eq!(got[0].eml, msg.data);
}

#[test]
fn dsn_never_and_nothing_asked() {
    let srv = FaultServer::start(&["--dsn"]);
    let never = Dsn {
        notify: Some(Notify::never()),
        ..Default::default()
    };
    let msg = with_dsn(FROM, "a@example.test", "<dsn.2@test.example>", never);
    pool::send(&srv.settings(&[]), &msg).expect("send");
    // Today's callers ask nothing: no parameter at all, even to a server with DSN.
    let plain = with_dsn(
        FROM,
        "a@example.test",
        "<dsn.3@test.example>",
        Dsn::default(),
    );
    pool::send(&srv.settings(&[]), &plain).expect("send");
    let got = srv.wait_messages(2);
    assert!(got[0].mail_params().is_empty());
    assert_eq!(
        got[0].rcpt_params(),
        ["NOTIFY=NEVER ORCPT=rfc822;a@example.test"]
    );
    assert!(got[1].mail_params().is_empty());
    assert_eq!(got[1].rcpt_params(), [""]);
}

#[test]
fn without_dsn_the_message_goes_without_or_fails_unsent_when_required() {
    let srv = FaultServer::start(&[]);
    let msg = with_dsn(
        FROM,
        "a@example.test",
        "<dsn.4@test.example>",
        failure_hdrs("x"),
    );
    pool::send(&srv.settings(&[]), &msg).expect("sent without DSN");
    let got = srv.wait_messages(1);
    assert!(got[0].mail_params().is_empty());
    assert_eq!(got[0].rcpt_params(), [""]);

    let mut required = failure_hdrs("y");
    required.required = true;
    let msg = with_dsn(FROM, "b@example.test", "<dsn.5@test.example>", required);
    let err = pool::send(&srv.settings(&[]), &msg).expect_err("DSN required");
    assert!(
        matches!(
            err,
            Error::NotOffered {
                extension: "DSN",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("does not offer DSN") && text.contains("not sent"),
        "{text}"
    );
    assert_eq!(srv.commands("MAIL"), 1, "{}", srv.transcript());
}

/// Postfix accepts mail for an unknown user of its virtual domain (no check at RCPT time), then
/// virtual(8) bounces it to the sender, whose Maildir the test reads.
fn bouncing_postfix() -> Postfix {
    Postfix::start(PostfixOpts {
        catch_all: false,
        main_cf: vec!["smtpd_reject_unlisted_recipient = no".into()],
        ..Default::default()
    })
}

fn bounces(pf: &Postfix) -> Vec<common::postfix::Delivered> {
    pf.delivered()
        .into_iter()
        .filter(|d| d.recipient == USER)
        .collect()
}

/// Waits until Postfix has nothing queued (the bounce, if any, is delivered).
fn settle(pf: &Postfix) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pf.queue_empty() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(pf.queue_empty(), "Postfix still has mail queued");
}

#[test]
fn postfix_bounces_headers_only_with_the_envelope_id() {
    let pf = bouncing_postfix();
    let msg = with_dsn(
        USER,
        "nobody-here@example.test",
        "<dsn.pf.1@test.example>",
        failure_hdrs("reset-42"),
    );
    pool::send(&settings(pf.plain, &[]), &msg).expect("accepted by Postfix");
    pf.wait_log("the bounce", |log| {
        log.contains("sender non-delivery notification")
    });
    settle(&pf);
    let got = bounces(&pf);
    assert_eq!(got.len(), 1, "exactly one bounce");
    let text = String::from_utf8_lossy(got[0].message()).into_owned();
    assert_eq!(got[0].return_path, "", "a bounce has the null sender");
    assert!(text.contains("Original-Envelope-Id: reset-42"), "{text}");
    assert!(
        text.contains("Original-Recipient: rfc822;nobody-here@example.test"),
        "{text}"
    );
    // RET=HDRS: the message's headers come back, its body does not.
    assert!(text.contains("text/rfc822-headers"), "{text}");
    assert!(
        text.contains("Message-ID: <dsn.pf.1@test.example>"),
        "{text}"
    );
    assert!(!text.contains("Your reset link"), "{text}");
}

#[test]
fn postfix_sends_no_bounce_for_notify_never() {
    let pf = bouncing_postfix();
    let never = Dsn {
        notify: Some(Notify::never()),
        ..Default::default()
    };
    let msg = with_dsn(
        USER,
        "nobody-here@example.test",
        "<dsn.pf.2@test.example>",
        never,
    );
    pool::send(&settings(pf.plain, &[]), &msg).expect("accepted by Postfix");
    pf.wait_log("the failed delivery", |log| {
        log.contains("nobody-here@example.test") && log.contains("status=bounced")
    });
    settle(&pf);
    assert!(bounces(&pf).is_empty(), "no bounce for NOTIFY=NEVER");
    // The same without DSN does bounce: the test can tell the two apart.
    let msg = with_dsn(
        USER,
        "nobody-here@example.test",
        "<dsn.pf.3@test.example>",
        Dsn::default(),
    );
    pool::send(&settings(pf.plain, &[]), &msg).expect("accepted by Postfix");
    pf.wait_log("the bounce", |log| {
        log.contains("sender non-delivery notification")
    });
    settle(&pf);
    assert_eq!(bounces(&pf).len(), 1);
}

fn international(to: &str, id: &str) -> Prepared {
    Draft {
        to: to.into(),
        subject: "Grüße".into(),
        body: "Hallo Jörg,\nschöne Grüße.\n".as_bytes(),
        headers: vec![
            Header::new("From", format!("Wiki <{FROM}>")),
            Header::new("Reply-To", "Zoë <zoë@example.test>"),
            Header::new("Date", "Mon, 07 Dec 2026 10:00:00 +0000"),
            Header::new("Message-ID", id),
        ],
        idhost: "test.example".into(),
        ..Default::default()
    }
    .build()
    .unwrap()
}

#[test]
fn a_unicode_domain_goes_as_its_a_label_to_any_server() {
    let srv = FaultServer::start(&["--no-smtputf8"]);
    let msg = Draft {
        to: "Info <info@münchen.de>".into(),
        subject: "s".into(),
        body: b"b\n",
        headers: vec![Header::new("From", "wiki@bücher.example")],
        idhost: "test.example".into(),
        ..Default::default()
    }
    .build()
    .unwrap();
    assert!(!msg.smtputf8 && !msg.eight_bit);
    pool::send(&srv.settings(&[]), &msg).expect("sent without SMTPUTF8");
    let got = srv.wait_messages(1);
    assert_eq!(got[0].mail_from(), "wiki@xn--bcher-kva.example");
    assert_eq!(got[0].rcpt_to(), ["info@xn--mnchen-3ya.de"]);
    assert!(got[0].mail_params().is_empty());
    let text = String::from_utf8_lossy(&got[0].eml).into_owned();
    assert!(
        text.contains("To: Info <info@xn--mnchen-3ya.de>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("From: wiki@xn--bcher-kva.example\r\n"),
        "{text}"
    );
}

#[test]
fn a_utf8_local_part_to_a_server_without_smtputf8_fails_unsent() {
    let srv = FaultServer::start(&["--no-smtputf8"]);
    let msg = international("José <josé@exemplo.br>", "<u8.1@test.example>");
    assert!(msg.smtputf8);
    let err = pool::send(&srv.settings(&[]), &msg).expect_err("no SMTPUTF8");
    assert!(
        matches!(
            err,
            Error::NotOffered {
                extension: "SMTPUTF8",
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("\"josé@exemplo.br\"") && text.contains("not sent"),
        "{text}"
    );
    assert_eq!(srv.commands("MAIL"), 0, "{}", srv.transcript());
    // Only in a header (Reply-To): the same.
    let msg = international("ann@example.test", "<u8.2@test.example>");
    assert!(msg.smtputf8);
    let err = pool::send(&srv.settings(&[]), &msg).expect_err("no SMTPUTF8");
    assert!(
        err.to_string().contains("an address in the headers"),
        "{err}"
    );
    assert_eq!(srv.commands("MAIL"), 0);
}

#[test]
fn postfix_delivers_a_utf8_address_byte_for_byte() {
    let pf = Postfix::start(PostfixOpts {
        mailboxes: vec!["用户@xn--fsqu00a.xn--fiqs8s".into()],
        domains: vec!["xn--fsqu00a.xn--fiqs8s".into()],
        ..Default::default()
    });
    let msg = international(
        "用户@例子.中国, josé@example.test",
        "<u8.pf.1@test.example>",
    );
    assert!(msg.smtputf8);
    let text = String::from_utf8_lossy(&msg.data).into_owned();
    // RFC 6532: UTF-8 header fields as they are, the domain as its A-label.
    assert!(
        text.contains("To: 用户@xn--fsqu00a.xn--fiqs8s,\r\n josé@example.test\r\n"),
        "{text}"
    );
    assert!(text.contains("Reply-To: =?UTF-8?"), "{text}");
    pool::send(&settings(pf.plain, &[]), &msg).expect("delivered");
    let got = pf.wait_delivered(2);
    let mut rcpts: Vec<&str> = got.iter().map(|d| d.recipient.as_str()).collect();
    rcpts.sort();
    assert_eq!(rcpts, ["josé@example.test", "用户@xn--fsqu00a.xn--fiqs8s"]);
    for d in &got {
        assert_eq!(d.message(), crlf_to_lf(&msg.data).as_slice());
        assert_eq!(d.return_path, FROM);
    }
    let cmds = pf.client_commands(1);
    assert!(
        cmds.contains(&format!("MAIL FROM:<{FROM}> BODY=8BITMIME SMTPUTF8")),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"RCPT TO:<用户@xn--fsqu00a.xn--fiqs8s>".to_string()),
        "{cmds:?}"
    );
}

fn tls_message(id: &str, require_tls: bool, tls_required_no: bool) -> Prepared {
    let mut headers = vec![
        Header::new("From", FROM),
        Header::new("Date", "Mon, 07 Dec 2026 10:00:00 +0000"),
        Header::new("Message-ID", id),
    ];
    if tls_required_no {
        headers.push(Header::new("TLS-Required", "No"));
    }
    Draft {
        to: "ann@example.test".into(),
        subject: "Reset".into(),
        body: b"secret link\n",
        headers,
        idhost: "test.example".into(),
        require_tls,
        ..Default::default()
    }
    .build()
    .unwrap()
}

#[test]
fn require_tls_over_verified_tls_to_a_server_with_requiretls() {
    let srv = FaultServer::start_tls("good", &["--starttls", "--requiretls"]);
    let s = srv.settings(&[("cafile", &ca_file())]);
    let msg = tls_message("<rt.1@test.example>", true, false);
    pool::send(&s, &msg).expect("sent with REQUIRETLS");
    // A caller's TLS-Required: No stays as given, and asks for no REQUIRETLS.
    let no = tls_message("<rt.2@test.example>", false, true);
    pool::send(&s, &no).expect("sent");
    let got = srv.wait_messages(2);
    assert!(got[0].tls());
    assert_eq!(got[0].mail_params(), ["REQUIRETLS"]);
    assert_eq!(got[0].eml, msg.data);
    assert!(got[1].mail_params().is_empty());
    assert_eq!(got[1].eml, no.data);
    assert!(String::from_utf8_lossy(&got[1].eml).contains("\r\nTLS-Required: No\r\n"));
}

#[test]
fn require_tls_fails_unsent_naming_the_unmet_condition() {
    let with = FaultServer::start_tls("good", &["--starttls", "--requiretls"]);
    let without = FaultServer::start_tls("good", &["--starttls"]);
    let ca = ca_file();
    type Case<'a> = (&'a FaultServer, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 3] = [
        (
            &with,
            vec![("cafile", &ca), ("starttls", "off")],
            "the connection is not encrypted",
        ),
        (
            &with,
            vec![("verify_peer", "0")],
            "certificate is not checked (smtp.verify_peer=0)",
        ),
        (&without, vec![("cafile", &ca)], "does not offer REQUIRETLS"),
    ];
    for (srv, ini, expect) in cases {
        let msg = tls_message("<rt.3@test.example>", true, false);
        let err = pool::send(&srv.settings(&ini), &msg).expect_err("must not be sent");
        let text = err.to_string();
        assert!(
            text.contains(expect) && text.contains("not sent"),
            "{expect}: {text}"
        );
        assert_eq!(srv.commands("MAIL"), 0, "{}", srv.transcript());
    }
}
